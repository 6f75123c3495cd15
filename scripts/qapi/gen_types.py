"""C types: PREFIXqapi-types.h and PREFIXqapi-types.c.

enum E        -> typedef enum E { E_VALUE, ..., E__MAX } E; E_lookup; E_str()
struct S      -> struct S { members } (base members first, flattened)
union U       -> struct U { base members; union { Branch case; ... } u; }
['T']         -> struct TList { TList *next; T value; } (NULL: empty list)
optional member: "bool has_NAME" for scalars and enums; pointer types are
NULL when absent.  qapi_free_T() frees a T and everything it owns.
"""

import textwrap

from .common import c_name, c_string, indent, GENERATED_NOTICE
from .schema import ArrayType, BuiltinType, ObjectType


def free_code(typ, expr):
    """C statement freeing the value @expr of type @typ (if it owns
    memory), or ''."""
    if isinstance(typ, BuiltinType):
        if typ.name == 'str':
            return 'g_free(%s);\n' % expr
        if typ.name in ('any', 'null'):
            return 'if (%s) {\n    json_node_unref(%s);\n}\n' % (expr, expr)
        return ''
    if isinstance(typ, (ObjectType, ArrayType)):
        return 'qapi_free_%s(%s);\n' % (c_name(typ.name), expr)
    return ''


def struct_body(obj):
    lines = []
    for m in obj.members:
        if m.has_flag():
            lines.append('    bool has_%s;\n' % m.c_name())
        ctype = m.type.c_type()
        sep = '' if ctype.endswith('*') else ' '
        lines.append('    %s%s%s;\n' % (ctype, sep, m.c_name()))
    if obj.is_union() and obj.variants.resolved:
        lines.append('    union { /* by %s */\n'
                     % obj.variants.tag_member.c_name())
        for case, btype in obj.variants.resolved:
            lines.append('        %s %s;\n' % (btype.c_struct(),
                                               c_name(case)))
        lines.append('    } u;\n')
    if not lines:
        # An empty struct is not ISO C.
        lines.append('    char qapi_dummy_for_empty_struct;\n')
    return ''.join(lines)


def ordered_objects(schema):
    """Object types with every struct a union embeds by value first."""
    out = []
    done = set()

    def visit(obj):
        if obj.name in done:
            return
        done.add(obj.name)
        if obj.is_union():
            for _, btype in obj.variants.resolved:
                visit(btype)
        out.append(obj)

    for obj in schema.object_types():
        visit(obj)
    return out


def doc_comment(ent):
    if ent.doc is None:
        return ''
    first = ent.doc.text(ent.doc.body).split('\n\n')[0].replace('\n', ' ')
    if not first:
        return ''
    first = first.replace('*/', '* /')
    lines = textwrap.wrap('%s: %s' % (ent.name, first), 74)
    return '/*\n%s */\n' % ''.join(' * %s\n' % line for line in lines)


def gen_header(schema, prefix, guard):
    out = [GENERATED_NOTICE % schema.fname]
    out.append('#ifndef %s\n#define %s\n\n' % (guard, guard))
    out.append('#include "qapi/util.h"\n\n')
    for obj in schema.object_types():
        out.append('typedef struct %s %s;\n' % (obj.c_struct(),
                                                obj.c_struct()))
    for arr in schema.array_types():
        out.append('typedef struct %s %s;\n' % (arr.name, arr.name))
    out.append('\n')
    for enum in schema.enum_types():
        out.append(doc_comment(enum))
        out.append('typedef enum %s {\n' % enum.name)
        for val in enum.value_names():
            out.append('    %s,\n' % enum.c_const(val))
        out.append('    %s,\n} %s;\n' % (enum.c_max(), enum.name))
        out.append('extern const QEnumLookup %s_lookup;\n' % enum.name)
        out.append('#define %s_str(val) qapi_enum_lookup(&%s_lookup, '
                   '(val))\n\n' % (enum.name, enum.name))
    for obj in ordered_objects(schema):
        cname = obj.c_struct()
        out.append(doc_comment(obj))
        out.append('struct %s {\n%s};\n' % (cname, struct_body(obj)))
        out.append('void qapi_free_members_%s(%s *obj);\n' % (cname, cname))
        out.append('void qapi_free_%s(%s *obj);\n' % (cname, cname))
        out.append('G_DEFINE_AUTOPTR_CLEANUP_FUNC(%s, qapi_free_%s)\n\n'
                   % (cname, cname))
    for arr in schema.array_types():
        ctype = arr.element.c_type()
        sep = '' if ctype.endswith('*') else ' '
        out.append('struct %s {\n    %s *next;\n    %s%svalue;\n};\n'
                   % (arr.name, arr.name, ctype, sep))
        out.append('void qapi_free_%s(%s *obj);\n' % (arr.name, arr.name))
        out.append('G_DEFINE_AUTOPTR_CLEANUP_FUNC(%s, qapi_free_%s)\n\n'
                   % (arr.name, arr.name))
    out.append('#endif\n')
    return ''.join(out)


def gen_free_members(obj):
    cname = obj.c_struct()
    body = []
    for m in obj.members:
        code = free_code(m.type, 'obj->' + m.c_name())
        if code:
            body.append(code)
    if obj.is_union() and obj.variants.resolved:
        tag = obj.variants.tag_member
        sw = ['switch (obj->%s) {\n' % tag.c_name()]
        for case, btype in obj.variants.resolved:
            sw.append('case %s:\n    qapi_free_members_%s(&obj->u.%s);\n'
                      '    break;\n' % (tag.type.c_const(case),
                                        btype.c_struct(), c_name(case)))
        sw.append('default:\n    break;\n}\n')
        body.append(''.join(sw))
    text = ''.join(body) or '(void)obj;\n'
    return ('void qapi_free_members_%s(%s *obj)\n{\n%s}\n\n'
            % (cname, cname, indent(text)) +
            'void qapi_free_%s(%s *obj)\n{\n    if (obj) {\n'
            '        qapi_free_members_%s(obj);\n        g_free(obj);\n'
            '    }\n}\n\n' % (cname, cname, cname))


def gen_free_list(arr):
    elem = free_code(arr.element, 'obj->value')
    return ('void qapi_free_%s(%s *obj)\n{\n    while (obj) {\n'
            '        %s *next = obj->next;\n\n%s'
            '        g_free(obj);\n        obj = next;\n    }\n}\n\n'
            % (arr.name, arr.name, arr.name, indent(elem, 2)))


def gen_source(schema, prefix):
    out = [GENERATED_NOTICE % schema.fname]
    out.append('#include "qemu-remote/osdep.h"\n#include "%sqapi-types.h"\n\n'
               % prefix)
    for enum in schema.enum_types():
        out.append('const QEnumLookup %s_lookup = {\n'
                   '    .array = (const char *const[]) {\n' % enum.name)
        for val in enum.value_names():
            out.append('        [%s] = %s,\n' % (enum.c_const(val),
                                                 c_string(val)))
        out.append('    },\n    .size = %s,\n};\n\n' % enum.c_max())
    for obj in schema.object_types():
        out.append(gen_free_members(obj))
    for arr in schema.array_types():
        out.append(gen_free_list(arr))
    return ''.join(out)


def generate(schema, prefix, outdir, write):
    guard = c_name(prefix).upper() + 'QAPI_TYPES_H'
    write('%sqapi-types.h' % prefix, gen_header(schema, prefix, guard))
    write('%sqapi-types.c' % prefix, gen_source(schema, prefix))
