"""Introspection: PREFIXqapi-introspect.c with the query-qmp-schema reply.

The data is QEMU's SchemaInfo list (see qapi/control.json): every command
and event, then every type they reach, each once.  Type names are not
masked; arrays are named "[ELEMENT]"; every integer type is the builtin
"int"; commands and events without arguments (or a command without
'returns') use the empty object type "q_empty".  It is emitted as one JSON
text, so nothing is computed at run time.
"""

import json

from .common import c_name, c_string, GENERATED_NOTICE
from .schema import ArrayType, BuiltinType, EnumType, ObjectType


class Introspector:
    def __init__(self, schema):
        self.schema = schema
        self.entries = []
        self.seen = set()
        self.queue = []

    def use(self, typ):
        """The introspection name of @typ, queueing it for output."""
        if typ is None:
            typ = self.schema.empty
        name = typ.intro_name()
        if name not in self.seen:
            self.seen.add(name)
            self.queue.append(typ)
        return name

    @staticmethod
    def with_features(entry, features):
        if features:
            entry['features'] = list(features)
        return entry

    def type_entry(self, typ):
        name = typ.intro_name()
        if isinstance(typ, BuiltinType):
            return {'name': name, 'meta-type': 'builtin',
                    'json-type': typ.json_type}
        if isinstance(typ, EnumType):
            return self.with_features({
                'name': name, 'meta-type': 'enum',
                'members': [self.with_features({'name': v.name}, v.features)
                            for v in typ.values],
                'values': typ.value_names()}, typ.features)
        if isinstance(typ, ArrayType):
            return {'name': name, 'meta-type': 'array',
                    'element-type': self.use(typ.element)}
        assert isinstance(typ, ObjectType)
        members = []
        for m in typ.members:
            entry = {'name': m.name, 'type': self.use(m.type)}
            if m.optional:
                entry['default'] = None
            members.append(self.with_features(entry, m.features))
        entry = {'name': name, 'meta-type': 'object', 'members': members}
        if typ.is_union():
            var = typ.variants
            branches = dict(var.resolved)
            entry['tag'] = var.tag_member.name
            entry['variants'] = [
                {'case': case, 'type': self.use(branches.get(case))}
                for case in var.tag_member.type.value_names()]
        return self.with_features(entry, typ.features)

    def build(self):
        for cmd in self.schema.commands():
            self.entries.append(self.with_features({
                'name': cmd.name, 'meta-type': 'command',
                'arg-type': self.use(cmd.arg_type),
                'ret-type': self.use(cmd.ret_type)}, cmd.features))
        for ev in self.schema.events():
            self.entries.append(self.with_features({
                'name': ev.name, 'meta-type': 'event',
                'arg-type': self.use(ev.arg_type)}, ev.features))
        while self.queue:
            self.entries.append(self.type_entry(self.queue.pop(0)))
        return self.entries


def generate(schema, prefix, outdir, write):
    entries = Introspector(schema).build()
    sym = '%sqapi_introspect_json' % c_name(prefix)
    out = [GENERATED_NOTICE % schema.fname,
           '#include "qemu-remote/osdep.h"\n#include "%sqapi-commands.h"\n\n'
           % prefix,
           'const char %s[] =\n' % sym]
    for i, entry in enumerate(entries):
        text = json.dumps(entry, separators=(', ', ': '))
        text = ('[' if i == 0 else ' ') + text + \
            (']' if i == len(entries) - 1 else ',')
        out.append('    %s\n' % c_string(text))
    if not entries:
        out.append('    "[]"\n')
    out.append('    ;\n')
    write('%sqapi-introspect.c' % prefix, ''.join(out))
