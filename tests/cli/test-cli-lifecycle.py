#!/usr/bin/python3
"""The process life cycle: start, serve, stop on a signal, QMP quit or the
last VMM link closing; -daemonize, -pidfile, -D; nothing left behind.
Prints TAP."""

import os
import signal
import socket
import subprocess

from clitest import (QMP, Remote, ScratchDir, TIMEOUT, check, check_eq,
                     main, negotiated, pid_alive, run, wait_for)


def qmp_args(d, name='qmp.sock'):
    return ['-qmp', 'unix:%s,server=on,wait=off' % d(name)]


def started(d, extra=(), name='qmp.sock', **kw):
    """qemu-remote with a QMP socket and a pidfile in D, once it serves."""
    r = Remote(qmp_args(d, name) + ['-pidfile', d('qemu.pid')] + list(extra),
               **kw)
    wait_for(lambda: os.path.exists(d(name)) or r.proc.poll() is not None,
             'the QMP socket')
    check(r.proc.poll() is None, 'qemu-remote exited: %s' % r.stderr())
    return r


def read_pid(path):
    with open(path) as f:
        return int(f.read())


def gone(pid):
    """True once PID no longer runs (a zombie counts as gone)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except FileNotFoundError:
        return True


# --- stopping --------------------------------------------------------------

def test_sigterm_removes_socket_and_pidfile():
    with ScratchDir() as d, started(d) as r:
        check_eq(read_pid(d('qemu.pid')), r.proc.pid, 'pid in the pidfile')
        r.proc.send_signal(signal.SIGTERM)
        check_eq(r.wait(), 0, 'exit status')
        check_eq(d.listing(), [], 'files left behind')
        check('terminating on signal 15 from pid %d' % os.getpid()
              in r.stderr(), 'stderr: %r' % r.stderr())


def test_sigint_exits_cleanly():
    with ScratchDir() as d, started(d) as r:
        r.proc.send_signal(signal.SIGINT)
        check_eq(r.wait(), 0, 'exit status')
        check_eq(d.listing(), [], 'files left behind')


def test_sigterm_sends_shutdown_event():
    with ScratchDir() as d, started(d) as r:
        q = negotiated(d('qmp.sock'))
        r.proc.send_signal(signal.SIGTERM)
        ev = q.event('SHUTDOWN')
        check_eq(ev['data'], {'guest': False, 'reason': 'host-signal'},
                 'SHUTDOWN data')
        check_eq(r.wait(), 0, 'exit status')
        q.close()


def test_qmp_quit_sends_shutdown_event():
    with ScratchDir() as d, started(d) as r:
        q = negotiated(d('qmp.sock'))
        check_eq(q.cmd('quit'), {'return': {}}, 'quit reply')
        ev = q.event('SHUTDOWN')
        check_eq(ev['data'], {'guest': False, 'reason': 'host-qmp-quit'},
                 'SHUTDOWN data')
        check_eq(r.wait(), 0, 'exit status')
        check_eq(d.listing(), [], 'files left behind')
        q.close()


def test_sigpipe_is_ignored():
    with ScratchDir() as d, started(d) as r:
        r.proc.send_signal(signal.SIGPIPE)
        q = negotiated(d('qmp.sock'))
        check_eq(q.cmd('query-status')['return']['status'], 'running',
                 'status after SIGPIPE')
        check_eq(q.cmd('quit'), {'return': {}}, 'quit reply')
        check_eq(r.wait(), 0, 'exit status')
        q.close()


# --- auto-shutdown ---------------------------------------------------------

def served_testdev(d, machine, trailing=''):
    """qemu-remote serving x-remote-testdev over one end of a socketpair;
    returns (Remote, our end).  TRAILING ends the -device and -object
    arguments."""
    ours, theirs = socket.socketpair()
    fd = theirs.fileno()
    try:
        r = started(d, ['-machine', machine,
                        '-device', 'x-remote-testdev,id=t0' + trailing,
                        '-object', 'x-remote-object,id=r0,devid=t0,fd=%d'
                        % fd + trailing], pass_fds=(fd,))
    finally:
        theirs.close()
    return r, ours


def test_last_link_closing_shuts_down():
    with ScratchDir() as d:
        r, link = served_testdev(d, 'x-remote')
        with r:
            q = negotiated(d('qmp.sock'))
            link.close()
            ev = q.event('SHUTDOWN')
            check_eq(ev['data'], {'guest': True, 'reason': 'guest-shutdown'},
                     'SHUTDOWN data')
            check_eq(r.wait(), 0, 'exit status')
            check_eq(d.listing(), [], 'files left behind')
            q.close()


def test_trailing_commas_as_in_qemu_docs():
    # QEMU's multi-process guide ends its x-remote-object example with
    # "fd=4,"; QEMU accepts that, so we do.
    with ScratchDir() as d:
        r, link = served_testdev(d, 'x-remote', trailing=',')
        with r:
            link.close()
            check_eq(r.wait(), 0, 'exit status')
            check_eq(d.listing(), [], 'files left behind')


def test_auto_shutdown_off_keeps_serving():
    with ScratchDir() as d:
        r, link = served_testdev(d, 'x-remote,auto-shutdown=off')
        with r:
            q = negotiated(d('qmp.sock'))
            link.close()

            def disconnected():
                devs = q.cmd('x-query-remote-devices')['return']
                return devs[0]['state'] == 'disconnected'
            wait_for(disconnected, 'the link to close')
            check(r.proc.poll() is None, 'qemu-remote exited')
            check_eq(q.cmd('quit'), {'return': {}}, 'quit reply')
            check_eq(r.wait(), 0, 'exit status')
            q.close()


# --- -daemonize and -pidfile -----------------------------------------------

def test_daemonize_returns_once_serving():
    with ScratchDir() as d:
        status, out, err = run(['-daemonize', '-pidfile', d('qemu.pid')] +
                               qmp_args(d))
        check_eq((status, out, err), (0, '', ''), 'status, stdout, stderr')
        # No waiting: the parent returned only once the daemon serves, so
        # the socket exists and already listens.
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(d('qmp.sock'))
        probe.close()
        pid = read_pid(d('qemu.pid'))
        try:
            check(pid_alive(pid), 'daemon %d not running' % pid)
            check_eq(os.readlink('/proc/%d/cwd' % pid), '/', 'working dir')
            for fd in (0, 1, 2):
                check_eq(os.readlink('/proc/%d/fd/%d' % (pid, fd)),
                         '/dev/null', 'daemon fd %d' % fd)
            check(os.getsid(pid) != os.getsid(0), 'same session')
            q = negotiated(d('qmp.sock'))
            q.close()
        finally:
            os.kill(pid, signal.SIGTERM)
        wait_for(lambda: gone(pid), 'the daemon to exit')
        check_eq(d.listing(), [], 'files left behind')


def test_daemonize_with_relative_paths():
    with ScratchDir() as d:
        status, out, err = run(['-daemonize', '-pidfile', 'qemu.pid',
                                '-qmp', 'unix:qmp.sock,server=on,wait=off'],
                               cwd=d.path)
        check_eq((status, out, err), (0, '', ''), 'status, stdout, stderr')
        check_eq(d.listing(), ['qemu.pid', 'qmp.sock'], 'files')
        pid = read_pid(d('qemu.pid'))
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: gone(pid), 'the daemon to exit')
        # Removed although the daemon's working directory is /.
        check_eq(d.listing(), [], 'files left behind')


def test_daemonize_reports_start_up_failure():
    with ScratchDir() as d:
        status, out, err = run(['-daemonize', '-pidfile', d('qemu.pid')] +
                               qmp_args(d) + ['-device', 'x-remote-testdev,'
                                              'id=t0,foo=1'])
        check_eq(status, 1, 'exit status')
        check_eq(err, 'qemu-remote: -device x-remote-testdev,id=t0,foo=1: '
                 "Property 'x-remote-testdev.foo' not found\n", 'stderr')
        check_eq(d.listing(), [], 'files left behind')


def test_second_instance_with_same_pidfile_fails():
    with ScratchDir() as d, started(d) as first:
        status, out, err = run(qmp_args(d, 'second.sock') +
                               ['-pidfile', d('qemu.pid')])
        check_eq(status, 1, 'exit status')
        check_eq(err, 'qemu-remote: cannot create PID file: Cannot lock pid '
                 'file: Resource temporarily unavailable\n', 'stderr')
        check_eq(d.listing(), ['qemu.pid', 'qmp.sock'], 'files')
        check_eq(read_pid(d('qemu.pid')), first.proc.pid, 'pidfile content')
        q = negotiated(d('qmp.sock'))
        check_eq(q.cmd('quit'), {'return': {}}, 'first still serves')
        check_eq(first.wait(), 0, 'exit status')
        q.close()


def test_stale_pidfile_is_taken_over():
    with ScratchDir() as d:
        with open(d('qemu.pid'), 'w') as f:
            f.write('999999\n')
        with started(d) as r:
            check_eq(read_pid(d('qemu.pid')), r.proc.pid, 'pidfile content')
            r.proc.send_signal(signal.SIGTERM)
            check_eq(r.wait(), 0, 'exit status')
        check_eq(d.listing(), [], 'files left behind')


# --- the rest of the command line at run time ---------------------------

def test_log_file_receives_messages():
    with ScratchDir() as d:
        with started(d, ['-D', d('log')]) as r:
            r.proc.send_signal(signal.SIGTERM)
            check_eq(r.wait(), 0, 'exit status')
        with open(d('log')) as f:
            log = f.read()
        check('qemu-remote: terminating on signal 15' in log, 'log: %r' % log)


def test_log_file_receives_errors():
    with ScratchDir() as d:
        status, out, err = run(['-D', d('log'), '-device', 'foo'])
        check_eq(status, 1, 'exit status')
        with open(d('log')) as f:
            check_eq(f.read(), err, 'log file content')


def qmp_session_log(d, log_args):
    """The -D log of a QMP session (connect, quit) under LOG_ARGS."""
    with started(d, ['-D', d('log')] + log_args) as r:
        q = negotiated(d('qmp.sock'))
        q.cmd('quit')
        check_eq(r.wait(), 0, 'exit status')
        q.close()
    with open(d('log')) as f:
        return f.read()


def test_qmp_log_item_traces_the_session():
    with ScratchDir() as d:
        log = qmp_session_log(d, ['-d', 'qmp'])
        check(d('qmp.sock') in log, 'log: %r' % log)


def test_without_log_items_the_session_is_not_traced():
    with ScratchDir() as d:
        check_eq(qmp_session_log(d, []), '', 'log')


def test_chardev_and_mon_serve_qmp():
    with ScratchDir() as d:
        r = Remote(['-chardev', 'socket,id=c0,path=%s,server=on,wait=off'
                    % d('mon.sock'), '-mon', 'chardev=c0,mode=control'])
        with r:
            wait_for(lambda: os.path.exists(d('mon.sock')), 'the socket')
            q = negotiated(d('mon.sock'))
            check_eq(q.cmd('quit'), {'return': {}}, 'quit reply')
            check_eq(r.wait(), 0, 'exit status')
            check_eq(d.listing(), [], 'files left behind')
            q.close()


def test_chardev_fd_serves_qmp():
    with ScratchDir() as d:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(d('inherited.sock'))
        listener.listen()
        fd = listener.fileno()
        r = Remote(['-chardev', 'socket,id=c0,fd=%d,server=on,wait=off' % fd,
                    '-mon', 'chardev=c0,mode=control'], pass_fds=(fd,))
        listener.close()
        with r:
            q = negotiated(d('inherited.sock'))
            check_eq(q.cmd('quit'), {'return': {}}, 'quit reply')
            check_eq(r.wait(), 0, 'exit status')
            q.close()


def test_name_answers_query_name():
    with ScratchDir() as d, started(d, ['-name', 'guest=vm1']) as r:
        q = negotiated(d('qmp.sock'))
        check_eq(q.cmd('query-name'), {'return': {'name': 'vm1'}},
                 'query-name')
        q.cmd('quit')
        check_eq(r.wait(), 0, 'exit status')
        q.close()


def test_iothread_object_runs_a_named_thread():
    with ScratchDir() as d, started(d, ['-object', 'iothread,id=io0']) as r:
        tasks = '/proc/%d/task' % r.proc.pid
        names = []
        for t in os.listdir(tasks):
            with open('%s/%s/comm' % (tasks, t)) as f:
                names.append(f.read().strip())
        check('io:io0' in names, 'threads: %r' % names)
        r.proc.send_signal(signal.SIGTERM)
        check_eq(r.wait(), 0, 'exit status')


def test_device_in_json_form():
    with ScratchDir() as d, started(
            d, ['-device', '{"driver": "x-remote-testdev", "id": "t0", '
                '"msi": false}']) as r:
        q = negotiated(d('qmp.sock'))
        devs = q.cmd('x-query-remote-devices')['return']
        check_eq([(x['id'], x['type']) for x in devs],
                 [('t0', 'x-remote-testdev')], 'devices')
        q.cmd('quit')
        check_eq(r.wait(), 0, 'exit status')
        q.close()


def test_block_nodes_open_and_close():
    with ScratchDir() as d:
        with open(d('disk.img'), 'wb') as f:
            f.truncate(1 << 20)
        with started(d, ['-blockdev', 'driver=file,node-name=f0,filename=%s'
                         % d('disk.img'), '-drive', 'if=none,id=d1,file=%s,'
                         'format=raw,readonly=on' % d('disk.img')]) as r:
            r.proc.send_signal(signal.SIGTERM)
            check_eq(r.wait(), 0, 'exit status')
            check_eq(r.stderr().count('\n'), 1, 'stderr lines')
        check_eq(d.listing(), ['disk.img'], 'files')


def test_compat_no_ops_are_accepted():
    with ScratchDir() as d, started(d, ['-nodefaults', '-nographic',
                                        '-display', 'none']) as r:
        r.proc.send_signal(signal.SIGTERM)
        check_eq(r.wait(), 0, 'exit status')


main([v for k, v in list(globals().items()) if k.startswith('test_')])
