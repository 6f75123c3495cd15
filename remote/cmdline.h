/*
 * The qemu-remote command line: the option table, argv parsing, and the
 * phases in which remote/vl.c processes the options.
 *
 * Syntax is QEMU's: every option may be written "-opt" or "--opt"; an
 * option with an argument takes it from the next word or, written
 * "--opt=value" (or "-opt=value"), from the same word.
 *
 * Adding an option: write a handler (below), add one row to the table in
 * remote/cmdline.c naming the phases it runs in, and document it in
 * docs/qemu-remote.md.
 */
#ifndef REMOTE_CMDLINE_H
#define REMOTE_CMDLINE_H

#include "qemu-remote/osdep.h"

/*
 * Start-up phases, in the order remote/vl.c runs them.  Within a phase,
 * options are processed in command-line order.
 */
typedef enum OptionPhase {
    PHASE_HELP          = 1u << 0, /* help/version: print; exit 0 after */
    PHASE_CONFIG        = 1u << 1, /* process settings; check syntax early */
    PHASE_EARLY_OBJECTS = 1u << 2, /* "-object" types with early = true */
    PHASE_BLOCK         = 1u << 3, /* "-blockdev", "-drive" */
    PHASE_DEVICES       = 1u << 4, /* "-device" (not yet realized) */
    PHASE_LATE_OBJECTS  = 1u << 5, /* the other "-object" types */
    PHASE_MONITORS      = 1u << 6, /* QMP sockets, once all else works */
} OptionPhase;

/*
 * Processes option argument @arg (NULL for an option without one) in
 * @phase.  Called once per phase named in the option's row.  Returns false
 * with @errp set on error; the caller prefixes the option's location
 * ("-device foo: ") and reports it.  While it runs, the location is also
 * set for warn_report().
 */
typedef bool OptionHandler(OptionPhase phase, const char *arg,
                           GError **errp);

typedef struct CmdlineOption {
    const char *name;       /* without the leading dash */
    const char *arg_name;   /* shown in -help; NULL: takes no argument */
    unsigned phases;        /* OptionPhase bits the handler runs in */
    OptionHandler *handler; /* NULL for a no-op option */
    const char *help;       /* one line for -help; NULL: not listed */
    /* A QEMU option that makes no sense here: the reason it is refused. */
    const char *unsupported;
} CmdlineOption;

/*
 * Parses @argv into the list of options (syntax only: known names, an
 * argument present where one is needed).  Fails with "-foo: invalid
 * option", "-device: requires an argument", "-version=1: does not take an
 * argument", "foo: invalid argument" or, for a refused QEMU option,
 * "-S: <reason>".  Call once.
 */
bool cmdline_parse(int argc, char **argv, GError **errp);

/*
 * Runs the handler of every parsed option that takes part in @phase, in
 * command-line order.  Stops at the first failure, returning false with
 * @errp set to "<option as written>: <message>".
 */
bool cmdline_run_phase(OptionPhase phase, GError **errp);

/* "-h": the usage line and every option with a one-line description. */
void cmdline_print_help(FILE *out);

/* While a handler runs: its option as written ("-device foo,id=x"). */
const char *cmdline_location(void);

/* PHASE_HELP handlers call this after printing; vl.c then exits with 0. */
void cmdline_set_help_printed(void);
bool cmdline_help_printed(void);

/* Frees the parsed options. */
void cmdline_free(void);

/*
 * Option handlers, one job per file:
 * remote/cmdline.c: -h, -version
 * remote/settings.c: -machine, -name, -msg, -d, -D, -display
 * remote/objects.c: -object, -device, -blockdev, -drive
 * remote/monitors.c: -qmp, -chardev, -mon
 * remote/daemon.c: -daemonize;  remote/pidfile.c: -pidfile
 * remote/security.c: -sandbox, -run-with, -runas, -chroot, -add-fd
 * remote/export-options.c: -export and the vhost-user backend program
 *   options (--socket-path, --fd, --blk-file, --read-only,
 *   --print-capabilities)
 */
OptionHandler opt_help, opt_version;
OptionHandler opt_machine, opt_name, opt_msg, opt_log_items, opt_log_file,
              opt_display;
OptionHandler opt_object, opt_device, opt_blockdev, opt_drive;
OptionHandler opt_qmp, opt_chardev, opt_mon;
OptionHandler opt_daemonize, opt_pidfile;
OptionHandler opt_sandbox, opt_run_with, opt_runas, opt_chroot, opt_add_fd;
OptionHandler opt_export, opt_socket_path, opt_fd, opt_blk_file,
              opt_read_only, opt_print_capabilities;

#endif
