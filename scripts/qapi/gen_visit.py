"""JSON <-> C: PREFIXqapi-visit.h and PREFIXqapi-visit.c.

For every named type T the public pair is

  bool qapi_from_json_T(JsonNode *node, QapiInputMode mode, T **out,
                        GError **errp);     (enums: T *out)
  JsonNode *qapi_to_json_T(const T *value); (enums: T value)

and the building blocks other generated files use are qapi_in_T() /
qapi_out_T() (one value) and, for object types, qapi_in_obj_T() /
qapi_out_obj_T() (the members of an object, checked for unknown ones).
The run-time helpers are in include/qapi/visit-core.h.
"""

from .common import c_name, c_string, indent, GENERATED_NOTICE
from .schema import BuiltinType, EnumType

INT_RANGES = {
    'int': ('INT64_MIN', 'INT64_MAX', 'int64_t'),
    'int8': ('INT8_MIN', 'INT8_MAX', 'int8_t'),
    'int16': ('INT16_MIN', 'INT16_MAX', 'int16_t'),
    'int32': ('INT32_MIN', 'INT32_MAX', 'int32_t'),
    'int64': ('INT64_MIN', 'INT64_MAX', 'int64_t'),
}
UINT_RANGES = {
    'uint8': ('UINT8_MAX', 'uint8_t'),
    'uint16': ('UINT16_MAX', 'uint16_t'),
    'uint32': ('UINT32_MAX', 'uint32_t'),
    'uint64': ('UINT64_MAX', 'uint64'),
}


def type_id(typ):
    """The identifier part of the generated functions for @typ."""
    return c_name(typ.name)


def in_stmt(typ, node, name, target, fail):
    """C statements reading JSON @node (member @name, a C expression) into
    the lvalue @target; runs @fail on error."""
    name = c_string(name) if name is not None else 'NULL'
    if isinstance(typ, BuiltinType):
        tname = typ.name
        if tname in INT_RANGES:
            lo, hi, ct = INT_RANGES[tname]
            return ('{\n    int64_t tmp;\n\n'
                    '    if (!qapi_in_int(in, %s, %s, %s, %s, "%s", &tmp, '
                    'errp)) {\n%s    }\n    %s = tmp;\n}\n'
                    % (node, name, lo, hi, ct, indent(fail, 2), target))
        if tname in UINT_RANGES:
            hi, ct = UINT_RANGES[tname]
            return ('{\n    uint64_t tmp;\n\n'
                    '    if (!qapi_in_uint(in, %s, %s, %s, "%s", &tmp, '
                    'errp)) {\n%s    }\n    %s = tmp;\n}\n'
                    % (node, name, hi, ct, indent(fail, 2), target))
        func = {'str': 'qapi_in_str', 'size': 'qapi_in_size',
                'bool': 'qapi_in_bool', 'number': 'qapi_in_number',
                'any': 'qapi_in_any', 'null': 'qapi_in_null'}[tname]
        call = '%s(in, %s, %s, &%s, errp)' % (func, node, name, target)
    else:
        call = 'qapi_in_%s(in, %s, %s, &%s, errp)' % (type_id(typ), node,
                                                       name, target)
    return 'if (!%s) {\n%s}\n' % (call, indent(fail))


def out_expr(typ, value):
    """A C expression giving a new JsonNode for the C value @value."""
    if isinstance(typ, BuiltinType):
        tname = typ.name
        if tname in INT_RANGES:
            return 'qapi_out_int(%s)' % value
        if tname in UINT_RANGES or tname == 'size':
            return 'qapi_out_uint(%s)' % value
        if tname == 'null':
            return 'qapi_out_null()'
        return 'qapi_out_%s(%s)' % (tname, value)
    return 'qapi_out_%s(%s)' % (type_id(typ), value)


def members_in(obj):
    cname = obj.c_struct()
    body = ['JsonNode *node;\n\n'] if obj.members else []
    for m in obj.members:
        key = c_string(m.name)
        body.append('node = json_object_get_member(obj, %s);\n' % key)
        read = in_stmt(m.type, 'node', m.name, 'out->' + m.c_name(),
                       'return false;\n')
        if m.optional:
            flag = '    out->has_%s = true;\n' % m.c_name() \
                if m.has_flag() else ''
            body.append('if (node) {\n    (*consumed)++;\n%s%s}\n'
                        % (flag, indent(read)))
        else:
            body.append('if (!node) {\n    qapi_in_error_missing(in, %s, '
                        'errp);\n    return false;\n}\n(*consumed)++;\n%s'
                        % (key, read))
    if obj.is_union() and obj.variants.resolved:
        tag = obj.variants.tag_member
        body.append('switch (out->%s) {\n' % tag.c_name())
        for case, btype in obj.variants.resolved:
            body.append('case %s:\n    return qapi_in_members_%s(in, obj, '
                        '&out->u.%s, consumed, errp);\n'
                        % (tag.type.c_const(case), btype.c_struct(),
                           c_name(case)))
        body.append('default:\n    break;\n}\n')
    body.append('return true;\n')
    return ('static bool qapi_in_members_%s(QapiIn *in, JsonObject *obj, '
            '%s *out,\n        unsigned *consumed, GError **errp)\n{\n%s}\n\n'
            % (cname, cname, indent(''.join(body))))


def is_member(obj):
    cname = obj.c_struct()
    names = ''.join('%s, ' % c_string(m.name) for m in obj.members)
    body = ['static const char *const names[] = { %sNULL };\n' % names]
    if obj.is_union() and obj.variants.resolved:
        tag = obj.variants.tag_member
        body.append('const %s *v = value;\n\n' % cname)
        body.append('if (g_strv_contains(names, name)) {\n    return true;\n'
                    '}\nswitch (v->%s) {\n' % tag.c_name())
        for case, btype in obj.variants.resolved:
            body.append('case %s:\n    return %s_is_member(&v->u.%s, name);\n'
                        % (tag.type.c_const(case), btype.c_struct(),
                           c_name(case)))
        body.append('default:\n    return false;\n}\n')
    else:
        body.append('\nreturn g_strv_contains(names, name);\n')
    return ('static bool %s_is_member(const void *value, const char *name)\n'
            '{\n%s}\n\n' % (cname, indent(''.join(body))))


def members_out(obj):
    cname = obj.c_struct()
    body = []
    for m in obj.members:
        field = 'value->' + m.c_name()
        setter = 'json_object_set_member(obj, %s, %s);\n' % (
            c_string(m.name), out_expr(m.type, field))
        if m.optional:
            cond = 'value->has_%s' % m.c_name() if m.has_flag() else field
            body.append('if (%s) {\n%s}\n' % (cond, indent(setter)))
        else:
            body.append(setter)
    if obj.is_union() and obj.variants.resolved:
        tag = obj.variants.tag_member
        body.append('switch (value->%s) {\n' % tag.c_name())
        for case, btype in obj.variants.resolved:
            body.append('case %s:\n    qapi_out_obj_%s(obj, &value->u.%s);\n'
                        '    break;\n' % (tag.type.c_const(case),
                                          btype.c_struct(), c_name(case)))
        body.append('default:\n    break;\n}\n')
    text = ''.join(body) or '(void)obj;\n(void)value;\n'
    return ('void qapi_out_obj_%s(JsonObject *obj, const %s *value)\n{\n%s}\n\n'
            % (cname, cname, indent(text)))


def object_funcs(obj):
    cname = obj.c_struct()
    return (members_in(obj) + is_member(obj) +
            'bool qapi_in_obj_%(c)s(QapiIn *in, JsonObject *obj, %(c)s *out, '
            'GError **errp)\n{\n'
            '    unsigned consumed = 0;\n\n'
            '    return qapi_in_members_%(c)s(in, obj, out, &consumed, errp) '
            '&&\n'
            '           qapi_in_check_members(in, obj, consumed, '
            '%(c)s_is_member, out,\n'
            '                                 errp);\n}\n\n'
            'bool qapi_in_%(c)s(QapiIn *in, JsonNode *node, const char *name,'
            '\n        %(c)s **out, GError **errp)\n{\n'
            '    JsonObject *obj = qapi_in_object(in, node, name, errp);\n'
            '    %(c)s *value;\n    size_t mark;\n    bool ok;\n\n'
            '    if (!obj) {\n        return false;\n    }\n'
            '    value = g_new0(%(c)s, 1);\n'
            '    mark = qapi_in_push(in, name);\n'
            '    ok = qapi_in_obj_%(c)s(in, obj, value, errp);\n'
            '    qapi_in_pop(in, mark);\n'
            '    if (!ok) {\n        qapi_free_%(c)s(value);\n'
            '        return false;\n    }\n'
            '    *out = value;\n    return true;\n}\n\n'
            % {'c': cname} + members_out(obj) +
            'JsonNode *qapi_out_%(c)s(const %(c)s *value)\n{\n'
            '    JsonObject *obj = json_object_new();\n\n'
            '    if (value) {\n        qapi_out_obj_%(c)s(obj, value);\n'
            '    }\n    return qapi_out_object(obj);\n}\n\n' % {'c': cname})


def enum_funcs(enum):
    return ('bool qapi_in_%(c)s(QapiIn *in, JsonNode *node, const char *name,'
            '\n        %(c)s *out, GError **errp)\n{\n'
            '    int value;\n\n'
            '    if (!qapi_in_enum(in, node, name, &%(c)s_lookup, &value, '
            'errp)) {\n        return false;\n    }\n'
            '    *out = value;\n    return true;\n}\n\n'
            'JsonNode *qapi_out_%(c)s(%(c)s value)\n{\n'
            '    return qapi_out_enum(&%(c)s_lookup, value);\n}\n\n'
            % {'c': enum.name})


def list_funcs(arr):
    name = arr.name
    read = in_stmt(arr.element, 'elem', None, 'cell->value',
                   'ok = false;\n')
    return ('bool qapi_in_%(c)s(QapiIn *in, JsonNode *node, const char *name,'
            '\n        %(c)s **out, GError **errp)\n{\n'
            '    %(c)s *head = NULL;\n    %(c)s **tail = &head;\n'
            '    size_t mark;\n    guint len;\n    bool ok = true;\n\n'
            '    if (!qapi_in_list(in, node, name, &len, errp)) {\n'
            '        return false;\n    }\n'
            '    mark = qapi_in_push(in, name);\n'
            '    for (guint i = 0; ok && i < len; i++) {\n'
            '        size_t elem_mark = qapi_in_push_index(in, i);\n'
            '        JsonNode *elem = qapi_in_list_elem(in, node, i, errp);\n'
            '        %(c)s *cell;\n\n'
            '        if (!elem) {\n            ok = false;\n'
            '            break;\n        }\n'
            '        cell = g_new0(%(c)s, 1);\n'
            '        *tail = cell;\n        tail = &cell->next;\n'
            '%(read)s'
            '        qapi_in_pop(in, elem_mark);\n    }\n'
            '    qapi_in_pop(in, mark);\n'
            '    if (!ok) {\n        qapi_free_%(c)s(head);\n'
            '        return false;\n    }\n'
            '    *out = head;\n    return true;\n}\n\n'
            'JsonNode *qapi_out_%(c)s(const %(c)s *value)\n{\n'
            '    JsonArray *arr = json_array_new();\n'
            '    JsonNode *node = json_node_new(JSON_NODE_ARRAY);\n\n'
            '    for (const %(c)s *it = value; it; it = it->next) {\n'
            '        json_array_add_element(arr, %(out)s);\n    }\n'
            '    json_node_take_array(node, arr);\n    return node;\n}\n\n'
            % {'c': name, 'read': indent(read, 2),
               'out': out_expr(arr.element, 'it->value')})


def public_funcs(typ):
    tid = type_id(typ)
    if isinstance(typ, EnumType):
        return ('bool qapi_from_json_%(c)s(JsonNode *node, QapiInputMode '
                'mode, %(c)s *out,\n        GError **errp)\n{\n'
                '    QapiIn in;\n    bool ok;\n\n'
                '    qapi_in_init(&in, mode);\n'
                '    ok = qapi_in_%(c)s(&in, node, NULL, out, errp);\n'
                '    qapi_in_cleanup(&in);\n    return ok;\n}\n\n'
                'JsonNode *qapi_to_json_%(c)s(%(c)s value)\n{\n'
                '    return qapi_out_%(c)s(value);\n}\n\n' % {'c': tid})
    return ('bool qapi_from_json_%(c)s(JsonNode *node, QapiInputMode mode, '
            '%(c)s **out,\n        GError **errp)\n{\n'
            '    QapiIn in;\n    bool ok;\n\n'
            '    qapi_in_init(&in, mode);\n'
            '    ok = qapi_in_%(c)s(&in, node, NULL, out, errp);\n'
            '    qapi_in_cleanup(&in);\n    return ok;\n}\n\n'
            'JsonNode *qapi_to_json_%(c)s(const %(c)s *value)\n{\n'
            '    return qapi_out_%(c)s(value);\n}\n\n' % {'c': tid})


def declarations(schema):
    out = []
    for enum in schema.enum_types():
        c = enum.name
        out.append('bool qapi_in_%s(QapiIn *in, JsonNode *node, const char '
                   '*name, %s *out,\n        GError **errp);\n' % (c, c))
        out.append('JsonNode *qapi_out_%s(%s value);\n' % (c, c))
        out.append('bool qapi_from_json_%s(JsonNode *node, QapiInputMode '
                   'mode, %s *out,\n        GError **errp);\n' % (c, c))
        out.append('JsonNode *qapi_to_json_%s(%s value);\n\n' % (c, c))
    for obj in schema.object_types():
        c = obj.c_struct()
        out.append('bool qapi_in_obj_%s(QapiIn *in, JsonObject *obj, %s '
                   '*out, GError **errp);\n' % (c, c))
        out.append('bool qapi_in_%s(QapiIn *in, JsonNode *node, const char '
                   '*name, %s **out,\n        GError **errp);\n' % (c, c))
        out.append('void qapi_out_obj_%s(JsonObject *obj, const %s *value);'
                   '\n' % (c, c))
        out.append('JsonNode *qapi_out_%s(const %s *value);\n' % (c, c))
        if not obj.implicit:
            out.append('bool qapi_from_json_%s(JsonNode *node, QapiInputMode '
                       'mode, %s **out,\n        GError **errp);\n' % (c, c))
            out.append('JsonNode *qapi_to_json_%s(const %s *value);\n'
                       % (c, c))
        out.append('\n')
    for arr in schema.array_types():
        c = arr.name
        out.append('bool qapi_in_%s(QapiIn *in, JsonNode *node, const char '
                   '*name, %s **out,\n        GError **errp);\n' % (c, c))
        out.append('JsonNode *qapi_out_%s(const %s *value);\n' % (c, c))
        out.append('bool qapi_from_json_%s(JsonNode *node, QapiInputMode '
                   'mode, %s **out,\n        GError **errp);\n' % (c, c))
        out.append('JsonNode *qapi_to_json_%s(const %s *value);\n\n'
                   % (c, c))
    return ''.join(out)


def gen_header(schema, prefix):
    guard = c_name(prefix).upper() + 'QAPI_VISIT_H'
    return (GENERATED_NOTICE % schema.fname +
            '#ifndef %s\n#define %s\n\n' % (guard, guard) +
            '#include "qapi/visit-core.h"\n#include "%sqapi-types.h"\n\n'
            % prefix + declarations(schema) + '#endif\n')


def gen_source(schema, prefix):
    out = [GENERATED_NOTICE % schema.fname,
           '#include "qemu-remote/osdep.h"\n#include "%sqapi-visit.h"\n\n'
           % prefix]
    objs = schema.object_types()
    for obj in objs:
        c = obj.c_struct()
        out.append('static bool qapi_in_members_%s(QapiIn *in, JsonObject '
                   '*obj, %s *out,\n        unsigned *consumed, GError '
                   '**errp);\n' % (c, c))
        out.append('static bool %s_is_member(const void *value, const char '
                   '*name);\n' % c)
    out.append('\n')
    for enum in schema.enum_types():
        out.append(enum_funcs(enum))
        out.append(public_funcs(enum))
    for obj in objs:
        out.append(object_funcs(obj))
        if not obj.implicit:
            out.append(public_funcs(obj))
    for arr in schema.array_types():
        out.append(list_funcs(arr))
        out.append(public_funcs(arr))
    return ''.join(out)


def generate(schema, prefix, outdir, write):
    write('%sqapi-visit.h' % prefix, gen_header(schema, prefix))
    write('%sqapi-visit.c' % prefix, gen_source(schema, prefix))

