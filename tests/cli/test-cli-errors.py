#!/usr/bin/python3
"""Every command-line error: its exact message, exit status 1, and nothing
left behind.

Most stories put a pidfile and a QMP socket into a scratch directory ahead
of the faulty option (the "bait"), so that an error found late in start-up
proves both are removed again.  Prints TAP.
"""

import os
import re
import socket
import tempfile

from clitest import ScratchDir, check, check_eq, main, run


def bait(d):
    return ['-pidfile', d('qemu.pid'),
            '-qmp', 'unix:%s,server=on,wait=off' % d('qmp.sock')]


def expect_error(args, message, with_bait=True, pass_fds=()):
    """Runs ARGS (after the bait); the only output must be MESSAGE."""
    with ScratchDir() as d:
        full = (bait(d) if with_bait else []) + [
            a.replace('@D', d.path) for a in args]
        status, out, err = run(full, pass_fds=pass_fds)
        check_eq(status, 1, 'exit status')
        check_eq(out, '', 'stdout')
        check_eq(err, 'qemu-remote: %s\n' % message.replace('@D', d.path),
                 'stderr')
        check_eq(d.listing(), [], 'files left behind')


# --- option syntax ---------------------------------------------------------

def test_unknown_option():
    expect_error(['-foo'], '-foo: invalid option')


def test_unknown_option_with_equals():
    expect_error(['--foo=bar'], '--foo=bar: invalid option')


def test_device_without_argument():
    expect_error(['-device'], '-device: requires an argument')


def test_double_dash_device_without_argument():
    expect_error(['--device'], '--device: requires an argument')


def test_positional_argument():
    expect_error(['disk.img'],
                 "disk.img: invalid argument (options start with '-')")


def test_argument_to_daemonize():
    expect_error(['--daemonize=on'],
                 '--daemonize=on: does not take an argument')


def test_stopped_cpus_refused():
    expect_error(['-S'], '-S: not supported: qemu-remote has no CPUs to '
                 'keep stopped; devices serve as soon as the VMM connects')


def test_memory_size_refused():
    expect_error(['-m', '512'], '-m: not supported: guest memory belongs '
                 'to the VMM, which shares it with qemu-remote')


# --- -machine ------------------------------------------------------------

def test_machine_q35():
    expect_error(['-machine', 'q35'], "-machine q35: unsupported machine "
                 "type 'q35': qemu-remote only provides 'x-remote' (use "
                 "-machine help)")


def test_machine_vfio_user_on():
    expect_error(['-M', 'x-remote,vfio-user=on'],
                 '-M x-remote,vfio-user=on: vfio-user is not supported yet '
                 "(use x-remote-object and QEMU's x-pci-proxy-dev)")


def test_machine_auto_shutdown_maybe():
    expect_error(['-machine', 'x-remote,auto-shutdown=maybe'],
                 '-machine x-remote,auto-shutdown=maybe: Parameter '
                 "'auto-shutdown' expects 'on' or 'off'")


def test_machine_unknown_property():
    expect_error(['-machine', 'x-remote,foo=bar'],
                 "-machine x-remote,foo=bar: Invalid parameter 'foo'")


# --- -device ---------------------------------------------------------------

def test_device_unknown_type():
    expect_error(['-device', 'foo'],
                 "-device foo: 'foo' is not a valid device model name")


def test_device_unknown_type_in_json():
    expect_error(['-device', '{"driver": "foo", "id": "x"}'],
                 '-device {"driver": "foo", "id": "x"}: '
                 "'foo' is not a valid device model name")


def test_device_json_syntax_error():
    status, out, err = run(['-device', '{"driver": '])
    check_eq(status, 1, 'exit status')
    check(err.startswith('qemu-remote: -device {"driver": : JSON parse '
                         'error: '), 'stderr: %r' % err)


def test_device_unknown_property():
    expect_error(['-device', 'x-remote-testdev,id=t0,foo=1'],
                 '-device x-remote-testdev,id=t0,foo=1: Property '
                 "'x-remote-testdev.foo' not found")


def test_device_property_not_bool():
    expect_error(['-device', 'x-remote-testdev,id=t0,msi=maybe'],
                 '-device x-remote-testdev,id=t0,msi=maybe: Property '
                 "'x-remote-testdev.msi': 'maybe' is not a boolean (use "
                 'on/off, yes/no or true/false)')


def test_device_duplicate_id():
    expect_error(['-device', 'x-remote-testdev,id=t0',
                  '-device', 'x-remote-testdev,id=t0'],
                 "-device x-remote-testdev,id=t0: Duplicate device ID 't0'")


def test_device_key_with_space():
    expect_error(['-device', 'x-remote-testdev,a b=1'],
                 "-device x-remote-testdev,a b=1: Invalid parameter 'a b'")


def test_device_help_for_unknown_type():
    expect_error(['-device', 'foo,help'],
                 "-device foo,help: 'foo' is not a valid device model name")


# --- -object ---------------------------------------------------------------

def test_object_unknown_type():
    expect_error(['-object', 'foo,id=x'], "-object foo,id=x: Parameter "
                 "'qom-type' does not accept value 'foo'")


def test_object_without_id():
    expect_error(['-object', 'iothread'],
                 "-object iothread: Parameter 'id' is missing")


def test_object_duplicate_id():
    expect_error(['-object', 'iothread,id=a', '-object', 'iothread,id=a'],
                 "-object iothread,id=a: Duplicate ID 'a' for object")


def test_iothread_unknown_property():
    expect_error(['-object', 'iothread,id=a,poll-grow=2'],
                 "-object iothread,id=a,poll-grow=2: Invalid parameter "
                 "'poll-grow'")


def test_iothread_poll_max_ns_out_of_range():
    expect_error(['-object', 'iothread,id=a,poll-max-ns=-1'],
                 "-object iothread,id=a,poll-max-ns=-1: poll-max-ns value "
                 "must be in range [0, 1000000000]")


def test_remote_object_on_a_pipe():
    r, w = os.pipe()
    try:
        expect_error(['-device', 'x-remote-testdev,id=t0', '-object',
                      'x-remote-object,id=r0,devid=t0,fd=%d' % r],
                     '-object x-remote-object,id=r0,devid=t0,fd=%d: fd %d '
                     'is not a Unix stream socket' % (r, r), pass_fds=(r,))
    finally:
        os.close(r)
        os.close(w)


def test_remote_object_unknown_device():
    a, b = socket.socketpair()
    try:
        fd = a.fileno()
        expect_error(['-object', 'x-remote-object,id=r0,devid=nope,fd=%d'
                      % fd], '-object x-remote-object,id=r0,devid=nope,'
                     "fd=%d: Device 'nope' not found" % fd, pass_fds=(fd,))
    finally:
        a.close()
        b.close()


# --- block nodes -----------------------------------------------------------

def expect_error_prefix(args, prefix):
    """Like expect_error, for messages the block layer words: checks the
    location prefix, the status and that nothing is left behind."""
    with ScratchDir() as d:
        status, out, err = run(bait(d) + args)
        check_eq(status, 1, 'exit status')
        check(err.startswith('qemu-remote: ' + prefix) and
              err.count('\n') == 1, 'stderr: %r' % err)
        check_eq(d.listing(), [], 'files left behind')


# --- -export iothread-vq-mapping -----------------------------------------------

def expect_export_error(export_opts, message):
    """An -export of a 1 MiB image with 4 queues, iothreads io0 and io1,
    and EXPORT_OPTS; the only output must be MESSAGE (after the option)."""
    img_dir = tempfile.mkdtemp(prefix='qr-cli-export-')
    img = os.path.join(img_dir, 'disk.img')
    try:
        with open(img, 'wb') as f:
            f.truncate(1 << 20)
        export = ('type=vhost-user-blk,id=e0,node-name=d0,addr.type=unix,'
                  'addr.path=@D/e0.sock,num-queues=4,' + export_opts)
        expect_error(['-object', 'iothread,id=io0',
                      '-object', 'iothread,id=io1',
                      '-blockdev', 'driver=file,node-name=d0,filename=' + img,
                      '-export', export],
                     '-export %s: %s' % (export, message))
    finally:
        os.unlink(img)
        os.rmdir(img_dir)


def test_export_mapping_unknown_iothread():
    expect_export_error('iothread-vq-mapping.0.iothread=io0,'
                        'iothread-vq-mapping.1.iothread=io9',
                        'iothread-vq-mapping: iothread "io9" not found')


def test_export_mapping_with_iothread():
    expect_export_error('iothread=io0,iothread-vq-mapping.0.iothread=io1',
                        'iothread and iothread-vq-mapping cannot be used '
                        'together')


def test_export_mapping_queue_out_of_range():
    expect_export_error('iothread-vq-mapping.0.iothread=io0,'
                        'iothread-vq-mapping.0.vqs.0=0,'
                        'iothread-vq-mapping.0.vqs.1=1,'
                        'iothread-vq-mapping.1.iothread=io1,'
                        'iothread-vq-mapping.1.vqs.0=2,'
                        'iothread-vq-mapping.1.vqs.1=4',
                        'iothread-vq-mapping: queue 4 is out of range '
                        '(num-queues is 4)')


def test_export_mapping_queue_twice():
    expect_export_error('iothread-vq-mapping.0.iothread=io0,'
                        'iothread-vq-mapping.0.vqs.0=0,'
                        'iothread-vq-mapping.0.vqs.1=1,'
                        'iothread-vq-mapping.1.iothread=io1,'
                        'iothread-vq-mapping.1.vqs.0=1,'
                        'iothread-vq-mapping.1.vqs.1=2,'
                        'iothread-vq-mapping.1.vqs.2=3',
                        'iothread-vq-mapping: queue 1 is listed twice')


def test_export_mapping_queue_left_out():
    expect_export_error('iothread-vq-mapping.0.iothread=io0,'
                        'iothread-vq-mapping.0.vqs.0=0,'
                        'iothread-vq-mapping.1.iothread=io1,'
                        'iothread-vq-mapping.1.vqs.0=1,'
                        'iothread-vq-mapping.1.vqs.1=3',
                        'iothread-vq-mapping: queue 2 is not assigned to an '
                        'iothread')


def test_export_mapping_vqs_for_one_iothread_only():
    expect_export_error('iothread-vq-mapping.0.iothread=io0,'
                        'iothread-vq-mapping.0.vqs.0=0,'
                        'iothread-vq-mapping.1.iothread=io1',
                        'iothread-vq-mapping: give vqs for every iothread '
                        'or for none')


def test_blockdev_without_argument():
    expect_error(['-blockdev'], '-blockdev: requires an argument')


def test_blockdev_missing_file():
    expect_error(['-blockdev', 'driver=file,node-name=f0,'
                  'filename=@D/missing.img'],
                 '-blockdev driver=file,node-name=f0,filename=@D/'
                 "missing.img: Could not open '@D/missing.img': No such "
                 'file or directory')


def test_blockdev_json_missing_file():
    expect_error_prefix(['-blockdev', '{"driver": "raw", "node-name": "r0", '
                         '"file": {"driver": "file", "filename": '
                         '"/nonexistent/x.img"}}'],
                        '-blockdev {"driver": "raw", ')


def test_drive_missing_file():
    expect_error_prefix(['-drive', 'if=none,id=d0,file=/nonexistent/x.img,'
                         'format=raw'],
                        '-drive if=none,id=d0,file=/nonexistent/x.img,'
                        'format=raw: ')


def test_drive_if_virtio():
    expect_error_prefix(['-drive', 'if=virtio,id=d0,file=/dev/null,'
                         'format=raw'],
                        '-drive if=virtio,id=d0,file=/dev/null,format=raw: ')


# --- monitors --------------------------------------------------------------

def test_qmp_over_tcp():
    expect_error(['-qmp', 'tcp:localhost:4444,server=on,wait=off'],
                 '-qmp tcp:localhost:4444,server=on,wait=off: only '
                 "'unix:PATH,server=on,wait=off' is supported")


def test_qmp_without_server():
    expect_error(['-qmp', 'unix:@D/x.sock'], '-qmp unix:@D/x.sock: '
                 'server=on is required (qemu-remote listens; it does not '
                 'connect to a client)')


def test_qmp_wait_on():
    expect_error(['-qmp', 'unix:@D/x.sock,server=on'],
                 '-qmp unix:@D/x.sock,server=on: wait=on is not supported '
                 '(add wait=off: qemu-remote does not wait for a client to '
                 'start)')


def test_qmp_socket_in_missing_directory():
    expect_error(['-qmp', 'unix:@D/nodir/q.sock,server=on,wait=off'],
                 '-qmp unix:@D/nodir/q.sock,server=on,wait=off: Failed to '
                 'bind socket to @D/nodir/q.sock: No such file or directory')


def test_chardev_stdio():
    expect_error(['-chardev', 'stdio,id=c0'], '-chardev stdio,id=c0: '
                 "chardev backend 'stdio' is not supported (only 'socket', "
                 'for -mon)')


def test_chardev_tcp():
    expect_error(['-chardev', 'socket,id=c0,host=localhost,port=4444'],
                 '-chardev socket,id=c0,host=localhost,port=4444: Invalid '
                 "parameter 'host'")


def test_chardev_without_path():
    expect_error(['-chardev', 'socket,id=c0,server=on,wait=off'],
                 '-chardev socket,id=c0,server=on,wait=off: chardev '
                 "'c0' needs exactly one of path=PATH (a UNIX socket) and "
                 'fd=FD')


def test_chardev_duplicate_id():
    sock = 'socket,id=c0,path=@D/m.sock,server=on,wait=off'
    expect_error(['-chardev', sock, '-chardev', sock],
                 "-chardev %s: Duplicate ID 'c0' for chardev" % sock)


def test_chardev_fd_not_open():
    expect_error(['-chardev', 'socket,id=c0,fd=999,server=on,wait=off'],
                 '-chardev socket,id=c0,fd=999,server=on,wait=off: fd 999 '
                 'is not open')


def test_mon_readline():
    expect_error(['-chardev', 'socket,id=c0,path=@D/m.sock,server=on,'
                  'wait=off', '-mon', 'chardev=c0'],
                 '-mon chardev=c0: mode=readline is not supported: '
                 'qemu-remote serves QMP only (mode=control)')


def test_mon_pretty():
    expect_error(['-mon', 'chardev=c0,mode=control,pretty=on'],
                 '-mon chardev=c0,mode=control,pretty=on: pretty=on is not '
                 'supported')


def test_mon_unknown_chardev_after_qmp_socket_exists():
    # The bait's QMP socket is created first, in the same phase: it must be
    # removed again.
    expect_error(['-mon', 'chardev=nope,mode=control'],
                 '-mon chardev=nope,mode=control: chardev "nope" not found')


def test_two_mons_on_one_chardev():
    expect_error(['-chardev', 'socket,id=c0,path=@D/m.sock,server=on,'
                  'wait=off', '-mon', 'c0,mode=control',
                  '-mon', 'c0,mode=control'],
                 "-mon c0,mode=control: Device 'c0' is in use")


# --- process settings ------------------------------------------------------

def test_name_unknown_parameter():
    expect_error(['-name', 'guest=x,foo=bar'],
                 "-name guest=x,foo=bar: Invalid parameter 'foo'")


def test_msg_timestamp_maybe():
    expect_error(['-msg', 'timestamp=maybe'], '-msg timestamp=maybe: '
                 "Parameter 'timestamp' expects 'on' or 'off'")


def test_log_unknown_item():
    expect_error(['-d', 'bogus'],
                 "-d bogus: unknown log item 'bogus' (try -d help)")


def test_log_file_in_missing_directory():
    expect_error(['-D', '@D/nodir/log'], "-D @D/nodir/log: cannot open log "
                 "file '@D/nodir/log': No such file or directory")


def test_display_gtk():
    expect_error(['-display', 'gtk'], "-display gtk: only '-display none' "
                 'is supported (qemu-remote has no display)')


def test_pidfile_in_missing_directory():
    expect_error(['-pidfile', '@D/nodir/p.pid'], "cannot create PID file: "
                 "Could not create '@D/nodir/p.pid': No such file or "
                 'directory', with_bait=False)


def test_error_with_timestamp():
    status, out, err = run(['-msg', 'timestamp=on', '-device', 'foo'])
    check_eq(status, 1, 'exit status')
    check(re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z '
                       r"qemu-remote: -device foo: 'foo' is not a valid "
                       r'device model name\n', err), 'stderr: %r' % err)


main([v for k, v in list(globals().items()) if k.startswith('test_')])
