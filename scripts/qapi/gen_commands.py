"""QMP commands: PREFIXqapi-commands.h and PREFIXqapi-commands.c.

For command 'foo-bar' with members {a: int, *b: str, *c: int} and
'returns': 'Info' the generator declares the handler you write

  bool qmp_foo_bar(int64_t a, const char *b, bool has_c, int64_t c,
                   Info **ret, GError **errp);

('boxed': true passes the whole argument struct: "const T *arg") and
defines a static marshaller qmp_marshal_foo_bar() that converts the
arguments strictly, calls the handler and converts *ret to JSON.  Arguments
stay owned by the marshaller: copy what you keep.  A command with 'gen':
false has no generated marshaller; write "bool qmp_marshal_NAME(JsonObject
*args, JsonNode **ret, GError **errp)" by hand.  PREFIXqmp_commands[] lists
every command, sorted by name.
"""

from .common import c_name, c_string, indent, GENERATED_NOTICE
from .gen_types import free_code
from .gen_visit import out_expr


def arg_params(arg_type):
    """[(declaration, value from the 'arg' struct)] for the members of a
    non-boxed argument type."""
    out = []
    for m in arg_type.members:
        if m.has_flag():
            out.append(('bool has_%s' % m.c_name(), 'arg.has_%s' % m.c_name()))
        ctype = m.type.c_param_type()
        sep = '' if ctype.endswith('*') else ' '
        out.append(('%s%s%s' % (ctype, sep, m.c_name()),
                    'arg.%s' % m.c_name()))
    return out


def handler_proto(cmd):
    params = []
    if cmd.arg_type is not None:
        if cmd.boxed:
            params.append('const %s *arg' % cmd.arg_type.c_struct())
        else:
            params += [decl for decl, _ in arg_params(cmd.arg_type)]
    if cmd.ret_type is not None:
        ctype = cmd.ret_type.c_type()
        sep = '' if ctype.endswith('*') else ' '
        params.append('%s%s*ret' % (ctype, sep))
    params.append('GError **errp')
    return 'bool qmp_%s(%s)' % (cmd.c_name(), ', '.join(params))


def marshaller(cmd):
    body = ['QapiIn in;\n']
    if cmd.arg_type is not None:
        body.append('%s arg;\n' % cmd.arg_type.c_struct())
    if cmd.ret_type is not None:
        ctype = cmd.ret_type.c_type()
        init = 'NULL' if ctype.endswith('*') else '0'
        sep = '' if ctype.endswith('*') else ' '
        body.append('%s%sretval = %s;\n' % (ctype, sep, init))
    body.append('bool ok;\n\n')
    body.append('qapi_in_init(&in, QAPI_INPUT_STRICT);\n')
    call_args = []
    if cmd.arg_type is not None:
        body.append('memset(&arg, 0, sizeof(arg));\n')
        body.append('ok = qapi_in_obj_%s(&in, args, &arg, errp);\n'
                    % cmd.arg_type.c_struct())
        if cmd.boxed:
            call_args.append('&arg')
        else:
            call_args += [val for _, val in arg_params(cmd.arg_type)]
    else:
        body.append('ok = qapi_in_check_no_members(&in, args, errp);\n')
    body.append('qapi_in_cleanup(&in);\n')
    if cmd.ret_type is not None:
        call_args.append('&retval')
    call_args.append('errp')
    body.append('if (ok) {\n    ok = qmp_%s(%s);\n}\n'
                % (cmd.c_name(), ', '.join(call_args)))
    if cmd.ret_type is not None:
        body.append('if (ok) {\n    *ret = %s;\n}\n'
                    % out_expr(cmd.ret_type, 'retval'))
        body.append(free_code(cmd.ret_type, 'retval'))
    else:
        body.append('if (ok) {\n    *ret = qapi_out_object(json_object_new())'
                    ';\n}\n')
    if cmd.arg_type is not None:
        body.append('qapi_free_members_%s(&arg);\n' % cmd.arg_type.c_struct())
    body.append('return ok;\n')
    return ('static bool qmp_marshal_%s(JsonObject *args, JsonNode **ret,\n'
            '        GError **errp)\n{\n%s}\n\n'
            % (cmd.c_name(), indent(''.join(body))))


def gen_header(schema, prefix):
    guard = c_name(prefix).upper() + 'QAPI_COMMANDS_H'
    out = [GENERATED_NOTICE % schema.fname,
           '#ifndef %s\n#define %s\n\n' % (guard, guard),
           '#include "qapi/qmp-dispatch.h"\n#include "%sqapi-types.h"\n\n'
           % prefix]
    for cmd in schema.commands():
        out.append('/* "%s" (handler written by hand) */\n' % cmd.name)
        if cmd.gen:
            out.append('%s;\n\n' % handler_proto(cmd))
        else:
            out.append('bool qmp_marshal_%s(JsonObject *args, JsonNode **ret,'
                       '\n        GError **errp);\n\n' % cmd.c_name())
    out.append('/* Every command, sorted by name, ending with a NULL name. */\n'
               'extern const QmpCommand %sqmp_commands[];\n\n' % c_name(prefix))
    out.append('/* The reply to query-qmp-schema as JSON text: a SchemaInfo '
               'list. */\n'
               'extern const char %sqapi_introspect_json[];\n\n'
               % c_name(prefix))
    out.append('#endif\n')
    return ''.join(out)


def gen_source(schema, prefix):
    out = [GENERATED_NOTICE % schema.fname,
           '#include "qemu-remote/osdep.h"\n#include "%sqapi-commands.h"\n'
           '#include "%sqapi-visit.h"\n\n' % (prefix, prefix)]
    for cmd in schema.commands():
        if cmd.gen:
            out.append(marshaller(cmd))
    out.append('const QmpCommand %sqmp_commands[] = {\n' % c_name(prefix))
    for cmd in sorted(schema.commands(), key=lambda c: c.name):
        out.append('    { %s, qmp_marshal_%s },\n' % (c_string(cmd.name),
                                                      cmd.c_name()))
    out.append('    { NULL, NULL },\n};\n')
    return ''.join(out)


def generate(schema, prefix, outdir, write):
    write('%sqapi-commands.h' % prefix, gen_header(schema, prefix))
    write('%sqapi-commands.c' % prefix, gen_source(schema, prefix))
