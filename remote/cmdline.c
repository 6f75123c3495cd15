/*
 * The option table and argv parsing (see remote/cmdline.h).
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "cmdline.h"

static const CmdlineOption options[] = {
    { "h", NULL, PHASE_HELP, opt_help, "print this help and exit" },
    { "help", NULL, PHASE_HELP, opt_help, "print this help and exit" },
    { "version", NULL, PHASE_HELP, opt_version,
      "print the version and exit" },
    { "machine", "[type=]x-remote[,auto-shutdown=on|off]",
      PHASE_HELP | PHASE_CONFIG, opt_machine,
      "the machine: always x-remote; 'help' lists it" },
    { "M", "[type=]x-remote[,auto-shutdown=on|off]",
      PHASE_HELP | PHASE_CONFIG, opt_machine, "same as -machine" },
    { "object", "TYPE,id=ID[,prop=value...]",
      PHASE_HELP | PHASE_EARLY_OBJECTS | PHASE_LATE_OBJECTS, opt_object,
      "create an object (iothread, x-remote-object); 'help' lists types" },
    { "device", "TYPE,id=ID[,prop=value...]",
      PHASE_HELP | PHASE_DEVICES, opt_device,
      "add a device; 'help' lists types, 'TYPE,help' its properties" },
    { "blockdev", "driver=DRIVER,node-name=NODE[,...]", PHASE_BLOCK,
      opt_blockdev, "add a block node (see docs/block.md)" },
    { "drive", "if=none,id=ID,file=FILE,format=raw[,readonly=on]",
      PHASE_BLOCK, opt_drive, "add a drive (shorthand for -blockdev)" },
    { "qmp", "unix:PATH,server=on,wait=off", PHASE_CONFIG | PHASE_MONITORS,
      opt_qmp, "serve QMP on a UNIX socket" },
    { "chardev", "socket,id=ID,path=PATH|fd=FD,server=on,wait=off",
      PHASE_CONFIG | PHASE_MONITORS, opt_chardev,
      "a UNIX socket for -mon" },
    { "mon", "chardev=ID,mode=control", PHASE_CONFIG | PHASE_MONITORS,
      opt_mon, "serve QMP on chardev ID" },
    { "name", "[guest=]NAME[,process=NAME][,debug-threads=on|off]",
      PHASE_CONFIG, opt_name, "name this process (query-name)" },
    { "pidfile", "FILE", PHASE_CONFIG, opt_pidfile,
      "write the process id to FILE (locked; removed at exit)" },
    { "daemonize", NULL, PHASE_CONFIG, opt_daemonize,
      "run in the background once ready to serve" },
    { "sandbox", "on|off[,obsolete=|elevateprivileges=|spawn=|"
      "resourcecontrol=allow|deny][,debug=off|eperm|log]", PHASE_CONFIG,
      opt_sandbox, "confine the process with a seccomp allowlist after "
      "start-up (docs/security.md)" },
    { "run-with", "[user=USER|UID:GID][,chroot=DIR]", PHASE_CONFIG,
      opt_run_with, "after start-up, chroot to DIR and become USER" },
    { "runas", "USER", PHASE_CONFIG, opt_runas,
      "same as -run-with user=USER" },
    { "chroot", "DIR", PHASE_CONFIG, opt_chroot,
      "same as -run-with chroot=DIR" },
    { "add-fd", "fd=FD,set=SET[,opaque=TEXT]", PHASE_CONFIG, opt_add_fd,
      "put inherited FD into fd set SET, opened as /dev/fdset/SET" },
    { "D", "LOGFILE", PHASE_CONFIG, opt_log_file,
      "write diagnostics and errors to LOGFILE" },
    { "d", "ITEM[,ITEM...]", PHASE_HELP | PHASE_CONFIG, opt_log_items,
      "enable diagnostics; 'help' lists the items" },
    { "msg", "timestamp=on|off", PHASE_CONFIG, opt_msg,
      "prefix error messages with a timestamp" },
    { "export", "[type=]vhost-user-blk,id=ID,node-name=NODE,"
      "addr.type=unix,addr.path=PATH|addr.type=fd,addr.str=FD[,...]",
      PHASE_LATE_OBJECTS, opt_export,
      "serve block node NODE over vhost-user (qemu-storage-daemon's "
      "--export)" },
    { "socket-path", "PATH", PHASE_CONFIG | PHASE_LATE_OBJECTS,
      opt_socket_path, "vhost-user backend program: listen on PATH" },
    { "fd", "FDNUM", PHASE_CONFIG | PHASE_LATE_OBJECTS, opt_fd,
      "vhost-user backend program: serve the connected socket FDNUM" },
    { "blk-file", "PATH", PHASE_CONFIG | PHASE_LATE_OBJECTS, opt_blk_file,
      "vhost-user backend program: the image or block device to serve" },
    { "read-only", NULL, PHASE_CONFIG | PHASE_LATE_OBJECTS, opt_read_only,
      "vhost-user backend program: serve --blk-file read-only" },
    { "print-capabilities", NULL, PHASE_HELP, opt_print_capabilities,
      "vhost-user backend program: print its capabilities (JSON), exit" },
    { "display", "none", PHASE_CONFIG, opt_display,
      "accepted for QEMU compatibility (there is no display)" },
    { "nographic", NULL, 0, NULL,
      "accepted for QEMU compatibility (no effect)" },
    { "nodefaults", NULL, 0, NULL,
      "accepted for QEMU compatibility (no effect)" },
    /* QEMU options a device process has no use for: say why. */
    { "S", NULL, .unsupported = "not supported: qemu-remote has no CPUs to "
      "keep stopped; devices serve as soon as the VMM connects" },
    { "no-shutdown", NULL, .unsupported = "not supported: the process "
      "always exits on shutdown" },
    { "enable-kvm", NULL, .unsupported = "not supported: qemu-remote runs "
      "no guest (the VMM does)" },
    { "accel", "", .unsupported = "not supported: qemu-remote runs no "
      "guest (the VMM does)" },
    { "m", "", .unsupported = "not supported: guest memory belongs to the "
      "VMM, which shares it with qemu-remote" },
    { "smp", "", .unsupported = "not supported: qemu-remote runs no guest "
      "(the VMM does)" },
};

typedef struct ParsedOption {
    const CmdlineOption *opt;
    char *arg;
    char *loc; /* as written: "-device foo,id=x" or "--device=foo,id=x" */
} ParsedOption;

static GPtrArray *parsed;
static const ParsedOption *current;
static bool help_printed;

static void parsed_option_free(gpointer p)
{
    ParsedOption *po = p;

    g_free(po->arg);
    g_free(po->loc);
    g_free(po);
}

static const CmdlineOption *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        if (strlen(options[i].name) == len &&
            !strncmp(options[i].name, name, len)) {
            return &options[i];
        }
    }
    return NULL;
}

bool cmdline_parse(int argc, char **argv, GError **errp)
{
    parsed = g_ptr_array_new_with_free_func(parsed_option_free);

    for (int i = 1; i < argc; i++) {
        const char *word = argv[i];
        const char *name, *eq;
        const CmdlineOption *opt;
        ParsedOption *po;

        if (word[0] != '-' || !word[1]) {
            error_setg(errp, "%s: invalid argument (options start with "
                       "'-')", word);
            return false;
        }
        name = word + (word[1] == '-' ? 2 : 1);
        eq = strchr(name, '=');
        opt = find_option(name, eq ? (size_t)(eq - name) : strlen(name));
        if (!opt) {
            error_setg(errp, "%s: invalid option", word);
            return false;
        }
        if (opt->unsupported) {
            int len = eq ? (int)(eq - word) : (int)strlen(word);

            error_setg(errp, "%.*s: %s", len, word, opt->unsupported);
            return false;
        }
        po = g_new0(ParsedOption, 1);
        po->opt = opt;
        if (!opt->arg_name) {
            if (eq) {
                g_free(po);
                error_setg(errp, "%s: does not take an argument", word);
                return false;
            }
            po->loc = g_strdup(word);
        } else if (eq) {
            po->arg = g_strdup(eq + 1);
            po->loc = g_strdup(word);
        } else if (i + 1 < argc) {
            po->arg = g_strdup(argv[++i]);
            po->loc = g_strdup_printf("%s %s", word, po->arg);
        } else {
            g_free(po);
            error_setg(errp, "%s: requires an argument", word);
            return false;
        }
        g_ptr_array_add(parsed, po);
    }
    return true;
}

bool cmdline_run_phase(OptionPhase phase, GError **errp)
{
    for (guint i = 0; parsed && i < parsed->len; i++) {
        ParsedOption *po = g_ptr_array_index(parsed, i);
        bool ok;

        if (!(po->opt->phases & phase) || !po->opt->handler) {
            continue;
        }
        error_set_location(po->loc);
        current = po;
        ok = po->opt->handler(phase, po->arg, errp);
        current = NULL;
        error_set_location(NULL);
        if (!ok) {
            error_prepend(errp, "%s: ", po->loc);
            return false;
        }
    }
    return true;
}

void cmdline_print_help(FILE *out)
{
    fprintf(out, "usage: qemu-remote [options]\n"
            "Hosts device models for a VMM (QEMU's x-pci-proxy-dev) in a "
            "process of their own.\n\n");
    for (size_t i = 0; i < G_N_ELEMENTS(options); i++) {
        g_autofree char *usage = NULL;

        if (!options[i].help) {
            continue;
        }
        usage = g_strdup_printf("-%s%s%s", options[i].name,
                                options[i].arg_name ? " " : "",
                                options[i].arg_name ? options[i].arg_name
                                                    : "");
        if (strlen(usage) > 32) {
            fprintf(out, "%s\n%-34s%s\n", usage, "", options[i].help);
        } else {
            fprintf(out, "%-34s%s\n", usage, options[i].help);
        }
    }
    fprintf(out, "\nEvery option may also be written --option, and "
            "--option=ARG.\nSee docs/qemu-remote.md for details.\n");
}

const char *cmdline_location(void)
{
    return current ? current->loc : NULL;
}

void cmdline_set_help_printed(void)
{
    help_printed = true;
}

bool cmdline_help_printed(void)
{
    return help_printed;
}

void cmdline_free(void)
{
    g_clear_pointer(&parsed, g_ptr_array_unref);
}

bool opt_help(OptionPhase phase, const char *arg, GError **errp)
{
    cmdline_print_help(stdout);
    cmdline_set_help_printed();
    return true;
}

bool opt_version(OptionPhase phase, const char *arg, GError **errp)
{
    printf("qemu-remote version %s\n"
           "Copyright (c) 2026 the qemu-remote developers\n",
           QEMU_REMOTE_VERSION);
    cmdline_set_help_printed();
    return true;
}
