"""The command reference in Markdown, from the schema's doc comments.

Free-standing doc blocks become headings ("= Title" -> "# Title",
"== Title" -> "## Title") or text; each definition becomes a "###" section
with its description, members, returns, features and the tagged sections
(Since, Example, Note, ...).  Every type name links to its own section.
"""

import re

from .schema import ArrayType, BuiltinType, EnumType, ObjectType, Command


def anchor(name):
    """The anchor Markdown renderers derive from a "### NAME" heading."""
    return re.sub(r'[^a-z0-9_-]', '', name.lower())


def type_link(typ):
    if isinstance(typ, ArrayType):
        return '[%s]' % type_link(typ.element)
    if isinstance(typ, BuiltinType) or typ.name.startswith('q_'):
        return '`%s`' % typ.name
    return '[`%s`](#%s)' % (typ.name, anchor(typ.name))


def prose(lines):
    """Doc text with @name references in code spans."""
    text = '\n'.join(lines).strip()
    return re.sub(r'@([A-Za-z0-9_.+-]*[A-Za-z0-9_])', r'`\1`', text)


def cell(lines):
    return prose(lines).replace('\n\n', '<br>').replace('\n', ' ') \
        .replace('|', '\\|')


class DocWriter:
    def __init__(self, schema):
        self.schema = schema
        self.out = []

    def w(self, text=''):
        self.out.append(text + '\n')

    def members_table(self, doc, members, note=None):
        rows = []
        for m in members:
            desc = cell(doc.args.get(m.name, [])) if doc else ''
            flags = ' (optional)' if m.optional else ''
            if m.features:
                flags += ' [%s]' % ', '.join(m.features)
            rows.append('| `%s` | %s%s | %s |' % (m.name, type_link(m.type),
                                                  flags, desc))
        if rows:
            self.w('| Name | Type | Description |')
            self.w('|---|---|---|')
            for row in rows:
                self.w(row)
            self.w()
        if note:
            self.w(note)
            self.w()

    def object_members(self, obj, doc):
        own = obj.local_members
        note = None
        if obj.base is not None:
            if obj.base.implicit:
                own = obj.base.members + own
            else:
                note = 'Also the members of %s.' % type_link(obj.base)
        self.members_table(doc, own, note)
        if obj.is_union():
            tag = obj.variants.tag_member
            self.w('Depending on `%s`:' % tag.name)
            self.w()
            for case, btype in obj.variants.resolved:
                self.w('- `%s`: the members of %s' % (case, type_link(btype)))
            rest = [v for v in tag.type.value_names()
                    if v not in dict(obj.variants.resolved)]
            if rest:
                self.w('- %s: no further members' %
                       ', '.join('`%s`' % v for v in rest))
            self.w()

    def callable_args(self, ent, title):
        doc = ent.doc
        arg = ent.arg_type
        self.w('**%s:**' % title)
        self.w()
        if arg is None:
            self.w('None.')
            self.w()
        elif arg.implicit:
            self.members_table(doc, arg.members)
        else:
            self.w('The members of %s.' % type_link(arg))
            self.w()

    def sections(self, doc, skip_returns=False):
        for tag, lines in doc.sections:
            if tag == 'Returns' and skip_returns:
                continue
            if tag in ('Example', 'Examples'):
                self.w('**%s:**' % tag)
                self.w()
                self.w('```')
                body = '\n'.join(lines).strip('\n')
                self.w(body)
                self.w('```')
            elif tag:
                self.w('**%s:** %s' % (tag, prose(lines)))
            else:
                self.w(prose(lines))
            self.w()

    def features(self, doc, names):
        if not names:
            return
        self.w('**Features:**')
        self.w()
        for name in names:
            desc = prose(doc.features.get(name, [])) if doc else ''
            self.w('- `%s`: %s' % (name, desc))
        self.w()

    def definition(self, ent):
        doc = ent.doc
        if isinstance(ent, ObjectType):
            kind = 'Union' if ent.is_union() else 'Struct'
        else:
            kind = {EnumType: 'Enum', Command: 'Command'}.get(type(ent),
                                                              'Event')
        self.w('### %s' % ent.name)
        self.w()
        self.w('*%s*' % kind)
        self.w()
        if doc is not None and prose(doc.body):
            self.w(prose(doc.body))
            self.w()
        if isinstance(ent, EnumType):
            self.w('| Value | Description |')
            self.w('|---|---|')
            for v in ent.values:
                desc = cell(doc.args.get(v.name, [])) if doc else ''
                self.w('| `%s` | %s |' % (v.name, desc))
            self.w()
        elif isinstance(ent, ObjectType):
            self.object_members(ent, doc)
        elif isinstance(ent, Command):
            self.callable_args(ent, 'Arguments')
            ret = ent.ret_type
            returns = [lines for tag, lines in
                       (doc.sections if doc else []) if tag == 'Returns']
            text = ' — ' + prose(returns[0]) if returns else ''
            if ret is None:
                self.w('**Returns:** nothing (`{}`)%s' % text)
            else:
                self.w('**Returns:** %s%s' % (type_link(ret), text))
            self.w()
        else:
            self.callable_args(ent, 'Data')
        if doc is not None:
            self.features(doc, self.schema.feature_names(ent))
            self.sections(doc, skip_returns=True)

    def write(self, title):
        self.w('<!-- Generated from the QAPI schema by scripts/qapi-gen.py; '
               'do not edit. -->')
        self.w()
        # A leading "= Title" block in the schema replaces @title.
        first = self.schema.doc_items[0] if self.schema.doc_items else None
        if not (first and first[0] == 'doc' and
                '\n'.join(first[1].body).strip().startswith('= ')):
            self.w('# %s' % title)
            self.w()
        for kind, item in self.schema.doc_items:
            if kind == 'def':
                self.definition(item)
                continue
            text = '\n'.join(item.body +
                              [line for sec in item.sections
                               for line in sec[1]])
            for para in re.split(r'\n\s*\n', text.strip()):
                m = re.match(r'^(=+)\s+(.*)$', para)
                if m and '\n' not in para:
                    self.w('%s %s' % ('#' * len(m.group(1)), m.group(2)))
                elif para:
                    self.w(prose([para]))
                self.w()
        return ''.join(self.out).rstrip('\n') + '\n'


def generate(schema, path, title, write_path):
    write_path(path, DocWriter(schema).write(title))
