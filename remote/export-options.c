/*
 * Command-line options for block exports: "-export" (qemu-storage-daemon's
 * "--export") and the vhost-user backend program conventions
 * ("--socket-path", "--fd", "--blk-file", "--read-only",
 * "--print-capabilities").  See include/remote/export.h.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "remote/export.h"
#include "cmdline.h"

/* "-export [type=]vhost-user-blk,id=ID,node-name=NODE,addr.type=...". */
bool opt_export(OptionPhase phase, const char *arg, GError **errp)
{
    return block_export_add_keyval(arg, errp);
}

/* Values are recorded while the configuration is read; the block node and
 * the export are created with the other late objects. */
static bool backend_program_option(const char *name, OptionPhase phase,
                                   const char *arg, GError **errp)
{
    if (phase == PHASE_CONFIG) {
        return backend_program_set(name, arg, errp);
    }
    return backend_program_start(errp);
}

bool opt_socket_path(OptionPhase phase, const char *arg, GError **errp)
{
    return backend_program_option("socket-path", phase, arg, errp);
}

bool opt_fd(OptionPhase phase, const char *arg, GError **errp)
{
    return backend_program_option("fd", phase, arg, errp);
}

bool opt_blk_file(OptionPhase phase, const char *arg, GError **errp)
{
    return backend_program_option("blk-file", phase, arg, errp);
}

bool opt_read_only(OptionPhase phase, const char *arg, GError **errp)
{
    return backend_program_option("read-only", phase, NULL, errp);
}

/* Prints the JSON and exits 0, ignoring every other option. */
bool opt_print_capabilities(OptionPhase phase, const char *arg, GError **errp)
{
    cmdline_set_help_printed();
    return backend_program_print_capabilities(errp);
}
