/*
 * qemu-remote's main(): start-up order, the main loop and a clean exit.
 *
 * Start-up: every option is parsed first (syntax errors and help/version
 * end it there), then process settings (-machine, -d, -D, ...), then the
 * daemon fork (before any thread exists) and the pidfile, then early
 * objects (iothreads), block nodes, devices, late objects (transports bind
 * to their devices), every device realized, the QMP monitors; then the
 * process gives up what it no longer needs (-run-with, -sandbox), and last
 * every object type is started (transports serve).  The GLib main loop
 * then runs on this thread until qemu_system_shutdown_request().
 *
 * Exit (also after a failed start-up, so nothing is left behind): the
 * SHUTDOWN event, monitors closed (socket files removed), transports
 * stopped, devices freed, block nodes closed, iothreads stopped, pidfile
 * removed.
 */
#include "qemu-remote/osdep.h"
#include "qemu-remote/error.h"
#include "qemu-remote/runstate.h"
#include "monitor/monitor.h"
#include "remote/export.h"
#include "cmdline.h"
#include "vl.h"

#include <signal.h>

/* The signal that asked us to stop and its sender, for the exit message. */
static volatile sig_atomic_t killed_by_signal;
static volatile sig_atomic_t killed_by_pid;

static void termsig_handler(int signo, siginfo_t *info, void *ctx)
{
    if (!killed_by_signal) {
        killed_by_signal = signo;
        killed_by_pid = info->si_pid;
    }
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
}

/* SIGTERM, SIGINT and SIGHUP stop the process cleanly; SIGPIPE is ignored
 * (a peer that went away is seen as EPIPE on the socket). */
static void install_signal_handlers(void)
{
    struct sigaction act = {
        .sa_sigaction = termsig_handler,
        .sa_flags = SA_SIGINFO | SA_RESTART,
    };

    sigemptyset(&act.sa_mask);
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGHUP, &act, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* "terminating on signal 15 from pid 1234 (bash)", as QEMU reports it. */
static void report_signal(void)
{
    g_autofree char *comm_path = NULL;
    g_autofree char *comm = NULL;
    int pid = killed_by_pid;

    comm_path = g_strdup_printf("/proc/%d/comm", pid);
    if (pid > 0 && g_file_get_contents(comm_path, &comm, NULL, NULL)) {
        g_strchomp(comm);
        error_report("terminating on signal %d from pid %d (%s)",
                     (int)killed_by_signal, pid, comm);
    } else {
        error_report("terminating on signal %d", (int)killed_by_signal);
    }
}

/*
 * Everything from the early objects to the monitors; then the process is
 * confined (-run-with, -sandbox) before any transport starts serving, so
 * no request from a VMM is handled with more than it needs.
 */
static bool start_serving(GError **errp)
{
    return cmdline_run_phase(PHASE_EARLY_OBJECTS, errp) &&
           cmdline_run_phase(PHASE_BLOCK, errp) &&
           cmdline_run_phase(PHASE_DEVICES, errp) &&
           cmdline_run_phase(PHASE_LATE_OBJECTS, errp) &&
           cli_devices_realize(errp) &&
           cmdline_run_phase(PHASE_MONITORS, errp) &&
           confine_process(errp) &&
           cli_objects_start(errp);
}

static void main_loop(void)
{
    while (!qemu_system_shutdown_requested(NULL)) {
        g_main_context_iteration(NULL, TRUE);
    }
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    ShutdownCause cause = SHUTDOWN_CAUSE_HOST_ERROR;
    bool started;
    int status;

    if (!cmdline_parse(argc, argv, &err) ||
        !cmdline_run_phase(PHASE_HELP, &err)) {
        error_report_err(g_steal_pointer(&err));
        cmdline_free();
        return 1;
    }
    if (cmdline_help_printed()) {
        cmdline_free();
        return 0;
    }

    install_signal_handlers();
    qemu_set_main_context(g_main_context_default());

    started = cmdline_run_phase(PHASE_CONFIG, &err) &&
              daemon_start(&err) &&
              pidfile_create(&err) &&
              start_serving(&err);
    if (started) {
        qemu_remote_links_ready();
        daemon_ready();
        main_loop();
        qemu_system_shutdown_requested(&cause);
        if (killed_by_signal) {
            report_signal();
        }
        monitor_emit_shutdown(cause);
    } else {
        error_report_err(g_steal_pointer(&err));
    }

    cli_monitors_cleanup();
    /* Exports use block nodes and iothreads: stop them first. */
    block_export_del_all();
    cli_teardown();
    pidfile_remove();
    cmdline_free();

    status = started && cause != SHUTDOWN_CAUSE_HOST_ERROR ? 0 : 1;
    return status;
}
