"""QMP events: PREFIXqapi-events.h and PREFIXqapi-events.c.

Event 'FOO_BAR' with members {a: int, *b: str} gets the emitter

  void qapi_event_send_foo_bar(int64_t a, const char *b);

('boxed': true: "const T *arg"), which builds the "data" object and passes
it to qapi_event_emit() (include/qapi/util.h) for the monitor to broadcast.
"""

from .common import c_name, c_string, indent, GENERATED_NOTICE
from .gen_commands import arg_params


def emitter_proto(ev):
    if ev.arg_type is None:
        params = ['void']
    elif ev.boxed:
        params = ['const %s *arg' % ev.arg_type.c_struct()]
    else:
        params = [decl for decl, _ in arg_params(ev.arg_type)]
    return 'void qapi_event_send_%s(%s)' % (ev.c_name().lower(),
                                            ', '.join(params))


def emitter(ev):
    name = c_string(ev.name)
    if ev.arg_type is None:
        body = 'qapi_event_emit(%s, NULL);\n' % name
    elif ev.boxed:
        body = ('JsonObject *data = json_object_new();\n\n'
                'qapi_out_obj_%s(data, arg);\nqapi_event_emit(%s, data);\n'
                % (ev.arg_type.c_struct(), name))
    else:
        sets = []
        for m in ev.arg_type.members:
            if m.has_flag():
                sets.append('arg.has_%s = has_%s;\n' % (m.c_name(),
                                                        m.c_name()))
            # The struct does not own these; nothing frees it.
            cast = '(char *)' if m.type.c_param_type() == 'const char *' \
                else ''
            sets.append('arg.%s = %s%s;\n' % (m.c_name(), cast, m.c_name()))
        body = ('%s arg;\nJsonObject *data = json_object_new();\n\n'
                'memset(&arg, 0, sizeof(arg));\n%s'
                'qapi_out_obj_%s(data, &arg);\nqapi_event_emit(%s, data);\n'
                % (ev.arg_type.c_struct(), ''.join(sets),
                   ev.arg_type.c_struct(), name))
    return '%s\n{\n%s}\n\n' % (emitter_proto(ev), indent(body))


def generate(schema, prefix, outdir, write):
    guard = c_name(prefix).upper() + 'QAPI_EVENTS_H'
    hdr = [GENERATED_NOTICE % schema.fname,
           '#ifndef %s\n#define %s\n\n' % (guard, guard),
           '#include "%sqapi-types.h"\n\n' % prefix]
    src = [GENERATED_NOTICE % schema.fname,
           '#include "qemu-remote/osdep.h"\n#include "%sqapi-events.h"\n'
           '#include "%sqapi-visit.h"\n\n' % (prefix, prefix)]
    for ev in schema.events():
        hdr.append('/* Broadcasts %s. */\n%s;\n\n' % (ev.name,
                                                      emitter_proto(ev)))
        src.append(emitter(ev))
    hdr.append('#endif\n')
    write('%sqapi-events.h' % prefix, ''.join(hdr))
    write('%sqapi-events.c' % prefix, ''.join(src))
