"""The checked schema: types, commands and events, with their docs.

Every rule a generator relies on is checked here, and every violation is
reported with the file and line of the definition (or doc comment) at fault.
"""

import re

from .common import c_name, c_enum_const
from .error import QAPIError
from . import parser

TYPE_NAME_RE = re.compile(r'^[A-Z][A-Za-z0-9]*$')
COMMAND_NAME_RE = re.compile(r'^[a-z][a-z0-9_-]*$')
EVENT_NAME_RE = re.compile(r'^[A-Z][A-Z0-9_]*$')
MEMBER_NAME_RE = re.compile(r'^[a-z][a-z0-9_-]*$')
VALUE_NAME_RE = re.compile(r'^[a-z0-9][a-z0-9_.+-]*$')
FEATURE_NAME_RE = MEMBER_NAME_RE


class Entity:
    meta = None

    def __init__(self, name, info, doc=None, features=()):
        self.name = name
        self.info = info
        self.doc = doc
        self.features = list(features)

    def c_name(self):
        return c_name(self.name)


class Type(Entity):
    """Anything a member, argument or return value can be."""

    def c_type(self):
        """The C type of a member/variable holding a value of this type."""
        raise NotImplementedError

    def c_param_type(self):
        """The C type used to pass a value of this type to a handler or an
        event emitter."""
        return self.c_type()

    def is_pointer(self):
        """True when absent/empty is a NULL pointer (no has_ flag)."""
        return self.c_type().endswith('*')

    def intro_name(self):
        return self.name


class BuiltinType(Type):
    meta = 'builtin'

    # name -> (C type, introspection json-type, JSON description in errors)
    TABLE = {
        'str': ('char *', 'string'),
        'number': ('double', 'number'),
        'int': ('int64_t', 'int'),
        'int8': ('int8_t', 'int'),
        'int16': ('int16_t', 'int'),
        'int32': ('int32_t', 'int'),
        'int64': ('int64_t', 'int'),
        'uint8': ('uint8_t', 'int'),
        'uint16': ('uint16_t', 'int'),
        'uint32': ('uint32_t', 'int'),
        'uint64': ('uint64_t', 'int'),
        'size': ('uint64_t', 'int'),
        'bool': ('bool', 'boolean'),
        'any': ('JsonNode *', 'value'),
        'null': ('JsonNode *', 'null'),
    }

    def __init__(self, name):
        super().__init__(name, None)
        self.ctype, self.json_type = self.TABLE[name]

    def c_type(self):
        return self.ctype

    def c_param_type(self):
        return 'const char *' if self.name == 'str' else self.ctype

    def intro_name(self):
        # Introspection reports every integer type as 'int', as QEMU does.
        return 'int' if self.json_type == 'int' else self.name


class EnumType(Type):
    meta = 'enum'

    def __init__(self, name, info, doc, features, values, prefix):
        super().__init__(name, info, doc, features)
        self.values = values      # [EnumValue]
        self.prefix = prefix

    def c_type(self):
        return self.name

    def value_names(self):
        return [v.name for v in self.values]

    def c_const(self, value):
        return c_enum_const(self.name, value, self.prefix)

    def c_max(self):
        return c_enum_const(self.name, '_MAX', self.prefix)


class EnumValue:
    def __init__(self, name, info, features):
        self.name = name
        self.info = info
        self.features = features


class ArrayType(Type):
    meta = 'array'

    def __init__(self, element):
        super().__init__(element.name + 'List', None)
        self.element = element

    def c_type(self):
        return self.name + ' *'

    def intro_name(self):
        return '[%s]' % self.element.intro_name()


class Member:
    def __init__(self, name, type_ref, optional, info, features):
        self.name = name
        self.type_ref = type_ref
        self.type = None
        self.optional = optional
        self.info = info
        self.features = features

    def c_name(self):
        return c_name(self.name)

    def has_flag(self):
        """True when the C struct carries "bool has_NAME" for this member."""
        return self.optional and not self.type.is_pointer()


class Variants:
    """The branches of a union, selected by the enum member @tag_name."""

    def __init__(self, tag_name, branches, info):
        self.tag_name = tag_name
        self.tag_member = None
        self.branches = branches  # [(case, type_ref, info)] then resolved
        self.info = info
        self.resolved = []        # [(case, ObjectType)]


class ObjectType(Type):
    meta = 'object'

    def __init__(self, name, info, doc, features, base_ref, members,
                 variants, implicit=False):
        super().__init__(name, info, doc, features)
        self.base_ref = base_ref
        self.base = None
        self.local_members = members    # declared here
        self.members = None             # base's then local, after check
        self.variants = variants
        self.implicit = implicit
        self.checked = False

    def c_type(self):
        return self.name + ' *'

    def c_struct(self):
        return c_name(self.name)

    def is_union(self):
        return self.variants is not None

    def is_empty(self):
        return not self.members and not self.variants


class Command(Entity):
    meta = 'command'

    def __init__(self, name, info, doc, features, arg_ref, boxed, ret_ref,
                 gen):
        super().__init__(name, info, doc, features)
        self.arg_ref = arg_ref
        self.arg_type = None
        self.boxed = boxed
        self.ret_ref = ret_ref
        self.ret_type = None
        self.gen = gen


class Event(Entity):
    meta = 'event'

    def __init__(self, name, info, doc, features, arg_ref, boxed):
        super().__init__(name, info, doc, features)
        self.arg_ref = arg_ref
        self.arg_type = None
        self.boxed = boxed


def check_keys(expr, info, what, required, optional):
    for key in required:
        if key not in expr:
            raise QAPIError(info, "%s lacks '%s'" % (what, key))
    for key in expr:
        if key == 'if':
            raise QAPIError(info, "%s: 'if' conditionals are not "
                            "supported" % what)
        if key not in required and key not in optional:
            raise QAPIError(info, "%s has unknown key '%s'" % (what, key))


def check_bool(expr, key, info, what):
    val = expr.get(key, None)
    if val is not None and not isinstance(val, bool):
        raise QAPIError(info, "%s: '%s' must be true or false"
                        % (what, key))
    return val


def parse_features(raw, info, what):
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise QAPIError(info, "%s: 'features' must be a list" % what)
    out = []
    for feat in raw:
        if isinstance(feat, dict):
            check_keys(feat, info, "%s: feature" % what, ['name'], [])
            feat = feat['name']
        if not isinstance(feat, str) or not FEATURE_NAME_RE.match(feat):
            raise QAPIError(info, "%s: invalid feature name %r"
                            % (what, feat))
        if feat in out:
            raise QAPIError(info, "%s: feature '%s' listed twice"
                            % (what, feat))
        out.append(feat)
    return out


def parse_type_ref(raw, info, what):
    """'Name' or ['Name'] -> 'Name' or ('array', 'Name')."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], str):
        return ('array', raw[0])
    raise QAPIError(info, "%s: a type must be 'NAME' or ['NAME']" % what)


def parse_members(raw, info, what):
    if not isinstance(raw, dict):
        raise QAPIError(info, "%s: members must be an object" % what)
    out = []
    for key, val in raw.items():
        optional = key.startswith('*')
        name = key[1:] if optional else key
        mwhat = "%s: member '%s'" % (what, name)
        if not MEMBER_NAME_RE.match(name):
            raise QAPIError(info, "%s: invalid member name '%s'"
                            % (what, name))
        features = []
        if isinstance(val, dict):
            check_keys(val, info, mwhat, ['type'], ['features'])
            features = parse_features(val.get('features'), info, mwhat)
            val = val['type']
        out.append(Member(name, parse_type_ref(val, info, mwhat), optional,
                          info, features))
    return out


class Schema:
    """Loads, checks and holds a whole schema."""

    def __init__(self, fname):
        self.fname = fname
        self.entities = {}        # name -> Entity (types, commands, events)
        self.builtins = {}
        self.arrays = {}
        self.definitions = []     # user definitions in source order
        self.implicit = []        # implicit object types, in creation order
        self.doc_items = []       # ('doc', Doc) | ('def', Entity), in order
        self.doc_required = False
        for name in BuiltinType.TABLE:
            self.builtins[name] = BuiltinType(name)
            self.entities[name] = self.builtins[name]
        self.empty = ObjectType('q_empty', None, None, [], None, [], None,
                                implicit=True)
        self.empty.members = []
        self.empty.checked = True
        for kind, payload, info, doc in parser.load(fname):
            if kind == 'doc':
                self.doc_items.append(('doc', payload))
            else:
                self.define(payload, info, doc)
        self.check()

    # --- definitions ------------------------------------------------------

    def add(self, ent):
        prev = self.entities.get(ent.name)
        if prev is not None:
            where = ' at %s' % prev.info if prev.info else ' (built-in)'
            raise QAPIError(ent.info, "'%s' is already defined%s"
                            % (ent.name, where))
        if ent.name.endswith('List') and isinstance(ent, Type):
            raise QAPIError(ent.info, "type name '%s' must not end with "
                            "'List' (reserved for lists)" % ent.name)
        self.entities[ent.name] = ent
        return ent

    def implicit_object(self, name, info, members):
        obj = ObjectType(name, info, None, [], None, members, None,
                         implicit=True)
        self.implicit.append(obj)
        return self.add(obj)

    def define(self, expr, info, doc):
        if 'pragma' in expr:
            self.pragma(expr, info)
            return
        for kind in ('enum', 'struct', 'union', 'command', 'event'):
            if kind in expr:
                break
        else:
            if 'alternate' in expr:
                raise QAPIError(info, "alternate types are not supported")
            raise QAPIError(info, "expression is not an include, pragma, "
                            "enum, struct, union, command or event")
        name = expr[kind]
        if not isinstance(name, str):
            raise QAPIError(info, "'%s' must name a %s" % (kind, kind))
        what = "%s '%s'" % (kind, name)
        ent = getattr(self, 'define_' + kind)(expr, info, doc, name, what)
        self.definitions.append(ent)
        self.doc_items.append(('def', ent))
        if doc is not None and doc.symbol != name:
            raise QAPIError(doc.info, "documentation comment is for '%s' "
                            "but the definition that follows is '%s'"
                            % (doc.symbol, name))

    def pragma(self, expr, info):
        check_keys(expr, info, 'pragma', ['pragma'], [])
        body = expr['pragma']
        if not isinstance(body, dict):
            raise QAPIError(info, "pragma must be an object")
        for key, val in body.items():
            if key != 'doc-required':
                raise QAPIError(info, "unknown pragma '%s'" % key)
            if not isinstance(val, bool):
                raise QAPIError(info, "pragma 'doc-required' must be true "
                                "or false")
            self.doc_required = val

    def define_enum(self, expr, info, doc, name, what):
        check_keys(expr, info, what, ['enum', 'data'],
                   ['prefix', 'features'])
        if not TYPE_NAME_RE.match(name):
            raise QAPIError(info, "%s: type names are CamelCase" % what)
        raw = expr['data']
        if not isinstance(raw, list) or not raw:
            raise QAPIError(info, "%s: 'data' must be a non-empty list"
                            % what)
        values = []
        consts = {}
        for val in raw:
            features = []
            if isinstance(val, dict):
                check_keys(val, info, what + ' value', ['name'],
                           ['features'])
                features = parse_features(val.get('features'), info, what)
                val = val['name']
            if not isinstance(val, str) or not VALUE_NAME_RE.match(val):
                raise QAPIError(info, "%s: invalid value %r" % (what, val))
            const = c_enum_const(name, val, expr.get('prefix'))
            if const in consts:
                raise QAPIError(info, "%s: value '%s' collides with '%s'"
                                % (what, val, consts[const]))
            consts[const] = val
            values.append(EnumValue(val, info, features))
        prefix = expr.get('prefix')
        if prefix is not None and (not isinstance(prefix, str) or
                                   not re.match(r'^[A-Z][A-Z0-9_]*$',
                                                prefix)):
            raise QAPIError(info, "%s: 'prefix' must be an upper-case C "
                            "identifier" % what)
        return self.add(EnumType(name, info, doc,
                                 parse_features(expr.get('features'), info,
                                                what), values, prefix))

    def define_struct(self, expr, info, doc, name, what):
        check_keys(expr, info, what, ['struct', 'data'],
                   ['base', 'features'])
        if not TYPE_NAME_RE.match(name):
            raise QAPIError(info, "%s: type names are CamelCase" % what)
        base = expr.get('base')
        if base is not None and not isinstance(base, str):
            raise QAPIError(info, "%s: 'base' must name a struct" % what)
        return self.add(ObjectType(
            name, info, doc, parse_features(expr.get('features'), info, what),
            base, parse_members(expr['data'], info, what), None))

    def define_union(self, expr, info, doc, name, what):
        check_keys(expr, info, what,
                   ['union', 'base', 'discriminator', 'data'], ['features'])
        if not TYPE_NAME_RE.match(name):
            raise QAPIError(info, "%s: type names are CamelCase" % what)
        base = expr['base']
        if isinstance(base, dict):
            base = self.implicit_object(
                'q_obj_%s-base' % name, info,
                parse_members(base, info, what + ' base')).name
        elif not isinstance(base, str):
            raise QAPIError(info, "%s: 'base' must name a struct or be an "
                            "object of members" % what)
        tag = expr['discriminator']
        if not isinstance(tag, str):
            raise QAPIError(info, "%s: 'discriminator' must be a member "
                            "name" % what)
        raw = expr['data']
        if not isinstance(raw, dict):
            raise QAPIError(info, "%s: 'data' must map values to struct "
                            "types" % what)
        branches = []
        for case, ref in raw.items():
            if isinstance(ref, dict):
                check_keys(ref, info, "%s: branch '%s'" % (what, case),
                           ['type'], [])
                ref = ref['type']
            if not isinstance(ref, str):
                raise QAPIError(info, "%s: branch '%s' must name a struct"
                                % (what, case))
            branches.append((case, ref, info))
        return self.add(ObjectType(
            name, info, doc, parse_features(expr.get('features'), info, what),
            base, [], Variants(tag, branches, info)))

    def arg_ref(self, expr, info, what, name, boxed):
        data = expr.get('data')
        if data is None:
            if boxed:
                raise QAPIError(info, "%s: 'boxed': true needs 'data'"
                                % what)
            return None
        if isinstance(data, dict):
            if boxed:
                raise QAPIError(info, "%s: 'boxed': true needs 'data' to "
                                "name a type" % what)
            return self.implicit_object('q_obj_%s-arg' % name, info,
                                        parse_members(data, info, what)).name
        if isinstance(data, str):
            return data
        raise QAPIError(info, "%s: 'data' must be an object of members or "
                        "name a type" % what)

    def define_command(self, expr, info, doc, name, what):
        check_keys(expr, info, what, ['command'],
                   ['data', 'returns', 'boxed', 'gen', 'features',
                    'success-response', 'allow-preconfig', 'coroutine',
                    'allow-oob'])
        if not COMMAND_NAME_RE.match(name):
            raise QAPIError(info, "%s: command names are lower-case with "
                            "dashes" % what)
        for key in ('allow-preconfig', 'coroutine'):
            check_bool(expr, key, info, what)
        if check_bool(expr, 'success-response', info, what) is False:
            raise QAPIError(info, "%s: 'success-response': false is not "
                            "supported" % what)
        if check_bool(expr, 'allow-oob', info, what):
            raise QAPIError(info, "%s: out-of-band execution is not "
                            "supported" % what)
        boxed = bool(check_bool(expr, 'boxed', info, what))
        gen = check_bool(expr, 'gen', info, what) is not False
        ret = expr.get('returns')
        if ret is not None:
            ret = parse_type_ref(ret, info, what + ": 'returns'")
        return self.add(Command(
            name, info, doc, parse_features(expr.get('features'), info, what),
            self.arg_ref(expr, info, what, name, boxed), boxed, ret, gen))

    def define_event(self, expr, info, doc, name, what):
        check_keys(expr, info, what, ['event'], ['data', 'boxed',
                                                 'features'])
        if not EVENT_NAME_RE.match(name):
            raise QAPIError(info, "%s: event names are UPPER_CASE" % what)
        boxed = bool(check_bool(expr, 'boxed', info, what))
        return self.add(Event(
            name, info, doc, parse_features(expr.get('features'), info, what),
            self.arg_ref(expr, info, what, name, boxed), boxed))

    # --- resolution and checks --------------------------------------------

    def resolve(self, ref, info, what):
        if ref is None:
            return None
        if isinstance(ref, tuple):
            elem = self.resolve(ref[1], info, what)
            if elem.name not in self.arrays:
                self.arrays[elem.name] = ArrayType(elem)
            return self.arrays[elem.name]
        ent = self.entities.get(ref)
        if ent is None:
            raise QAPIError(info, "%s uses unknown type '%s'" % (what, ref))
        if not isinstance(ent, Type):
            raise QAPIError(info, "%s uses '%s', which is a %s, not a type"
                            % (what, ref, ent.meta))
        if ent.name == 'q_empty':
            raise QAPIError(info, "%s uses reserved name 'q_empty'" % what)
        return ent

    def check(self):
        for ent in list(self.entities.values()):
            if isinstance(ent, ObjectType):
                self.check_object(ent, [])
        for ent in self.entities.values():
            if isinstance(ent, (Command, Event)):
                self.check_callable(ent)
        self.check_c_names()
        for ent in self.definitions:
            self.check_doc(ent)

    def check_c_names(self):
        """Distinct schema names must give distinct C identifiers."""
        seen = {}
        for ent in self.entities.values():
            if isinstance(ent, Command):
                names = ['qmp_' + ent.c_name()]
            elif isinstance(ent, Event):
                names = ['qapi_event_send_' + ent.c_name().lower()]
            elif isinstance(ent, EnumType):
                names = [ent.c_const(v) for v in ent.value_names()]
                names.append(ent.c_max())
            else:
                continue
            for cname in names:
                if cname in seen and seen[cname] is not ent:
                    raise QAPIError(ent.info, "%s '%s' and %s '%s' both "
                                    "need the C name %s"
                                    % (ent.meta, ent.name, seen[cname].meta,
                                       seen[cname].name, cname))
                seen[cname] = ent

    def check_object(self, obj, stack):
        if obj.checked:
            return
        what = "%s '%s'" % ('union' if obj.is_union() else 'struct',
                            obj.name)
        if obj in stack:
            raise QAPIError(obj.info, "%s is its own base" % what)
        members = []
        if obj.base_ref is not None:
            base = self.resolve(obj.base_ref, obj.info, what)
            if not isinstance(base, ObjectType) or base.is_union():
                raise QAPIError(obj.info, "%s: base '%s' is not a struct"
                                % (what, obj.base_ref))
            self.check_object(base, stack + [obj])
            obj.base = base
            members = list(base.members)
        for m in obj.local_members:
            m.type = self.resolve(m.type_ref, m.info,
                                  "%s member '%s'" % (what, m.name))
        members += obj.local_members
        obj.members = members
        self.check_clashes(obj, members, what)
        if obj.is_union():
            self.check_variants(obj, what, stack)
        obj.checked = True

    def check_clashes(self, obj, members, what, seen=None):
        seen = dict(seen or {})
        for m in members:
            cname = m.c_name()
            if cname.startswith('has_'):
                raise QAPIError(m.info, "%s: member '%s' would collide with "
                                "a has_ flag" % (what, m.name))
            if obj.is_union() and cname == 'u':
                raise QAPIError(m.info, "%s: member name 'u' is reserved in "
                                "unions" % what)
            if cname in seen:
                raise QAPIError(m.info, "%s: member '%s' collides with "
                                "member '%s'" % (what, m.name, seen[cname]))
            seen[cname] = m.name
        return seen

    def check_variants(self, obj, what, stack):
        var = obj.variants
        tag = [m for m in obj.members if m.name == var.tag_name]
        if not tag:
            raise QAPIError(var.info, "%s: discriminator '%s' is not a "
                            "member of the base" % (what, var.tag_name))
        tag = tag[0]
        if tag.optional or not isinstance(tag.type, EnumType):
            raise QAPIError(var.info, "%s: discriminator '%s' must be a "
                            "required member of an enum type"
                            % (what, var.tag_name))
        var.tag_member = tag
        base_names = {m.c_name(): m.name for m in obj.members}
        for case, ref, info in var.branches:
            if case not in tag.type.value_names():
                raise QAPIError(info, "%s: branch '%s' is not a value of "
                                "%s" % (what, case, tag.type.name))
            btype = self.resolve(ref, info, "%s branch '%s'" % (what, case))
            if not isinstance(btype, ObjectType) or btype.is_union():
                raise QAPIError(info, "%s: branch '%s' must be a struct, "
                                "'%s' is not" % (what, case, ref))
            self.check_object(btype, stack + [obj])
            self.check_clashes(btype, btype.members,
                               "%s branch '%s'" % (what, case), base_names)
            var.resolved.append((case, btype))

    def check_callable(self, ent):
        what = "%s '%s'" % (ent.meta, ent.name)
        ent.arg_type = self.resolve(ent.arg_ref, ent.info, what)
        if ent.arg_type is not None:
            if not isinstance(ent.arg_type, ObjectType):
                raise QAPIError(ent.info, "%s: 'data' must be a struct%s"
                                % (what, ' or union' if ent.boxed else ''))
            if ent.arg_type.is_union() and not ent.boxed:
                raise QAPIError(ent.info, "%s: a union in 'data' needs "
                                "'boxed': true" % what)
        if isinstance(ent, Command):
            ent.ret_type = self.resolve(ent.ret_ref, ent.info, what)

    # --- documentation ----------------------------------------------------

    def documented_names(self, ent):
        """Names the doc comment of @ent must describe."""
        if isinstance(ent, EnumType):
            return [v.name for v in ent.values]
        if isinstance(ent, ObjectType):
            names = [m.name for m in ent.local_members]
            if ent.base is not None and ent.base.implicit:
                names = [m.name for m in ent.base.members] + names
            return names
        arg = ent.arg_type
        if arg is not None and arg.implicit:
            return [m.name for m in arg.members]
        return []

    def feature_names(self, ent):
        names = list(ent.features)
        if isinstance(ent, EnumType):
            for v in ent.values:
                names += v.features
        else:
            obj = ent if isinstance(ent, ObjectType) else ent.arg_type
            if obj is not None and (obj is ent or obj.implicit):
                for m in obj.members or []:
                    names += m.features
        return list(dict.fromkeys(names))

    def check_doc(self, ent):
        doc = ent.doc
        kind = ent.meta if not isinstance(ent, ObjectType) else \
            ('union' if ent.is_union() else 'struct')
        if doc is None:
            if self.doc_required:
                raise QAPIError(ent.info, "%s '%s' lacks a documentation "
                                "comment" % (kind, ent.name))
            return
        names = self.documented_names(ent)
        for name in doc.args:
            if name not in names:
                raise QAPIError(doc.arg_info[name], "documented member '%s' "
                                "does not exist in %s '%s'"
                                % (name, kind, ent.name))
        features = self.feature_names(ent)
        for name in doc.features:
            if name not in features:
                raise QAPIError(doc.arg_info[name], "documented feature "
                                "'%s' does not exist in %s '%s'"
                                % (name, kind, ent.name))
        if self.doc_required:
            for name in names:
                if name not in doc.args:
                    raise QAPIError(doc.info, "%s '%s': member '%s' lacks "
                                    "documentation" % (kind, ent.name, name))
            for name in features:
                if name not in doc.features:
                    raise QAPIError(doc.info, "%s '%s': feature '%s' lacks "
                                    "documentation" % (kind, ent.name, name))

    # --- queries for the generators ---------------------------------------

    def object_types(self):
        """Every object type, implicit ones included, in definition order
        (implicit ones first: they are created while their user is read)."""
        return [e for e in self.entities.values()
                if isinstance(e, ObjectType) and e.name != 'q_empty']

    def enum_types(self):
        return [e for e in self.entities.values() if isinstance(e, EnumType)]

    def array_types(self):
        return list(self.arrays.values())

    def commands(self):
        return [e for e in self.entities.values() if isinstance(e, Command)]

    def events(self):
        return [e for e in self.entities.values() if isinstance(e, Event)]
