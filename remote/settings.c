/*
 * Process-wide settings from the command line: -machine, -name, -msg,
 * -d, -D, -display.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/log.h"
#include "qemu-remote/option.h"
#include "qemu-remote/runstate.h"
#include "cmdline.h"

#include <sys/prctl.h>

#define MACHINE_TYPE "x-remote"

static void print_machines(void)
{
    printf("Supported machines are:\n"
           "%-20s remote device process (default)\n", MACHINE_TYPE);
}

/*
 * "-machine [type=]x-remote[,auto-shutdown=on|off][,vfio-user=off]"; the
 * type may be left out.  Several -machine options merge, later ones win.
 */
bool opt_machine(OptionPhase phase, const char *arg, GError **errp)
{
    static const char *const allowed[] = {
        "type", "auto-shutdown", "vfio-user", NULL
    };
    g_autoptr(KeyValList) opts = NULL;
    const char *type;
    bool auto_shutdown = true;
    bool vfio_user = false;
    bool help;

    opts = keyval_parse_help(arg, "type", &help, errp);
    if (!opts) {
        return false;
    }
    type = keyval_get(opts, "type");
    if (phase == PHASE_HELP) {
        if (help || (type && (g_str_equal(type, "help") ||
                              g_str_equal(type, "?")))) {
            print_machines();
            cmdline_set_help_printed();
        }
        return true;
    }
    if (!keyval_check_keys(opts, allowed, errp)) {
        return false;
    }
    if (type && !g_str_equal(type, MACHINE_TYPE)) {
        error_setg(errp, "unsupported machine type '%s': qemu-remote only "
                   "provides '" MACHINE_TYPE "' (use -machine help)", type);
        return false;
    }
    if (!keyval_get_bool(opts, "vfio-user", &vfio_user, errp)) {
        return false;
    }
    if (vfio_user) {
        error_setg(errp, "vfio-user is not supported yet (use "
                   "x-remote-object and QEMU's x-pci-proxy-dev)");
        return false;
    }
    if (keyval_get(opts, "auto-shutdown")) {
        if (!keyval_get_bool(opts, "auto-shutdown", &auto_shutdown, errp)) {
            return false;
        }
        qemu_set_auto_shutdown(auto_shutdown);
    }
    return true;
}

/*
 * "-name [guest=]NAME[,process=PNAME][,debug-threads=on|off]".  Threads
 * always carry names here ("io:ID", ...), so debug-threads is accepted for
 * QEMU compatibility and changes nothing.
 */
bool opt_name(OptionPhase phase, const char *arg, GError **errp)
{
    static const char *const allowed[] = {
        "guest", "process", "debug-threads", NULL
    };
    g_autoptr(KeyValList) opts = keyval_parse(arg, "guest", errp);
    const char *process;
    bool debug_threads;

    if (!opts || !keyval_check_keys(opts, allowed, errp) ||
        !keyval_get_bool(opts, "debug-threads", &debug_threads, errp)) {
        return false;
    }
    if (keyval_get(opts, "guest")) {
        qemu_set_name(keyval_get(opts, "guest"));
    }
    process = keyval_get(opts, "process");
    /* The kernel keeps the first 15 bytes. */
    if (process && prctl(PR_SET_NAME, process) < 0) {
        error_setg_errno(errp, errno, "cannot set the process name");
        return false;
    }
    return true;
}

/* "-msg timestamp=on|off". */
bool opt_msg(OptionPhase phase, const char *arg, GError **errp)
{
    static const char *const allowed[] = { "timestamp", NULL };
    g_autoptr(KeyValList) opts = keyval_parse(arg, NULL, errp);
    bool timestamp = false;

    if (!opts || !keyval_check_keys(opts, allowed, errp) ||
        !keyval_get_bool(opts, "timestamp", &timestamp, errp)) {
        return false;
    }
    error_set_timestamps(timestamp);
    return true;
}

/* "-d ITEM,...", "-d help".  The last -d wins, as in QEMU. */
bool opt_log_items(OptionPhase phase, const char *arg, GError **errp)
{
    unsigned mask;
    bool help;

    if (!qr_log_parse_items(arg, &mask, &help, errp)) {
        return false;
    }
    if (phase == PHASE_HELP) {
        if (help) {
            qr_log_print_help(stdout);
            cmdline_set_help_printed();
        }
        return true;
    }
    qr_log_mask = mask;
    return true;
}

/* "-D FILE": opened for appending before daemonizing, so a relative path
 * means the directory qemu-remote was started in. */
bool opt_log_file(OptionPhase phase, const char *arg, GError **errp)
{
    return qr_log_set_file(arg, errp);
}

/* "-display none" only: there is nothing to display. */
bool opt_display(OptionPhase phase, const char *arg, GError **errp)
{
    if (!g_str_equal(arg, "none")) {
        error_setg(errp, "only '-display none' is supported (qemu-remote "
                   "has no display)");
        return false;
    }
    return true;
}
