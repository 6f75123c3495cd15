#!/usr/bin/python3
"""qemu-remote confined: -sandbox, -run-with/-runas/-chroot and resources
handed over as fds (docs/security.md), proven from outside the process.

Each story starts qemu-remote with an x-remote-testdev on an mpqemu
socketpair (and a QMP socket where it needs one), checks what
/proc/PID says about every thread, and that the device still answers.
The binary is $QEMU_REMOTE; $QEMU_REMOTE_SANITIZERS=1 marks a sanitizer
build, whose allowlist lets LeakSanitizer open /proc (the story proving
that open() fails skips there).  Prints TAP.
"""
import json
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

QEMU_REMOTE = os.environ.get('QEMU_REMOTE', 'qemu-remote')
SANITIZERS = os.environ.get('QEMU_REMOTE_SANITIZERS') == '1'
TIMEOUT = 20            # seconds; generous for a loaded machine
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'vhost-user'))
import vuclient  # noqa: E402  (our vhost-user frontend)
TESTDEV_VENDOR = 0x1b36  # x-remote-testdev's PCI IDs (docs/testdev.md)
MPQEMU_PCI_CFGREAD = 3
MPQEMU_RET = 1


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_until(pred, what):
    deadline = time.monotonic() + TIMEOUT
    while not pred():
        check(time.monotonic() < deadline, 'timed out waiting for ' + what)
        time.sleep(0.01)  # poll interval


def config_read(sock, addr, length):
    """One PCI_CFGREAD over mpqemu (docs/interop/mpqemu.md)."""
    sock.sendall(struct.pack('<iIQ', MPQEMU_PCI_CFGREAD, 0, 12) +
                 struct.pack('<IIi', addr, 0, length))
    reply = b''
    while len(reply) < 24:
        chunk = sock.recv(24 - len(reply))
        check(chunk, 'mpqemu connection closed')
        reply += chunk
    cmd, _, size = struct.unpack('<iIQ', reply[:16])
    check(cmd == MPQEMU_RET and size == 8, 'bad RET %r' % reply)
    return struct.unpack('<Q', reply[16:])[0]


def proc_status(pid, tid=None):
    path = '/proc/%d/task/%d/status' % (pid, tid) if tid else \
        '/proc/%d/status' % pid
    with open(path) as f:
        return dict(line.split(':', 1) for line in f.read().splitlines())


def threads(pid):
    return [int(t) for t in os.listdir('/proc/%d/task' % pid)]


class Remote:
    """qemu-remote with one x-remote-testdev; stopped in stop()."""

    def __init__(self, args, qmp=False, pass_fds=(), user=None):
        self.dir = tempfile.mkdtemp(prefix='qr-confine-')
        os.chmod(self.dir, 0o755)
        self.vmm, theirs = socket.socketpair()
        self.log = open(os.path.join(self.dir, 'stderr'), 'w+')
        argv = [QEMU_REMOTE, '-machine', 'x-remote,auto-shutdown=off',
                '-device', 'x-remote-testdev,id=t0',
                '-object', 'x-remote-object,id=r0,devid=t0,fd=%d'
                % theirs.fileno()]
        self.qmp_path = None
        if qmp:
            self.qmp_path = os.path.join(self.dir, 'qmp.sock')
            argv += ['-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path]
        extra = {}
        if user is not None:
            extra = dict(user=user, group=user, extra_groups=[])
        self.proc = subprocess.Popen(
            argv + list(args), stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=self.log, pass_fds=[theirs.fileno()] + list(pass_fds),
            **extra)
        theirs.close()
        # Serving means confined: the link starts after the sandbox.
        check(config_read(self.vmm, 0, 2) == TESTDEV_VENDOR,
              'x-remote-testdev does not answer: ' + self.stderr())

    def stderr(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.vmm.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def sigterm_exit(self):
        """SIGTERM from us; returns (status, stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Fail('qemu-remote ignored SIGTERM')
        return status, self.stderr()


def qmp_client(path_or_sock):
    if isinstance(path_or_sock, socket.socket):
        s = path_or_sock
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path_or_sock)
    s.settimeout(TIMEOUT)
    f = s.makefile('rwb')
    check('QMP' in json.loads(f.readline()), 'no QMP greeting')

    def cmd(name, **args):
        req = {'execute': name}
        if args:
            req['arguments'] = args
        f.write(json.dumps(req).encode() + b'\n')
        f.flush()
        while True:
            msg = json.loads(f.readline())
            if 'event' not in msg:
                return msg
    check('return' in cmd('qmp_capabilities'), 'negotiation failed')
    return s, cmd


def need_root():
    if os.geteuid() != 0:
        raise Skip('needs root to start qemu-remote privileged')
    try:
        return pwd.getpwnam('nobody')
    except KeyError:
        raise Skip('no user nobody')


# --- stories -------------------------------------------------------------

def test_sandbox_on_filters_every_thread():
    r = Remote(['-sandbox', 'on'])
    try:
        tids = threads(r.proc.pid)
        check(len(tids) >= 2, 'expected the main and the link thread')
        for tid in tids:
            st = proc_status(r.proc.pid, tid)
            check(st['Seccomp'].strip() == '2',
                  'thread %d: Seccomp %s' % (tid, st['Seccomp']))
            check(st['NoNewPrivs'].strip() == '1',
                  'thread %d: NoNewPrivs %s' % (tid, st['NoNewPrivs']))
    finally:
        r.stop()


def test_without_sandbox_no_filter():
    r = Remote([])
    try:
        st = proc_status(r.proc.pid)
        check(st['Seccomp'].strip() == '0', 'filtered without -sandbox')
    finally:
        r.stop()


def test_run_with_user_leaves_no_capability_in_any_thread():
    pw = need_root()
    r = Remote(['-sandbox', 'on', '-run-with', 'user=nobody'])
    try:
        for tid in threads(r.proc.pid):
            st = proc_status(r.proc.pid, tid)
            check(st['Uid'].split() == [str(pw.pw_uid)] * 4,
                  'thread %d Uid %s' % (tid, st['Uid']))
            check(st['Gid'].split() == [str(pw.pw_gid)] * 4,
                  'thread %d Gid %s' % (tid, st['Gid']))
            for cap in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'):
                check(int(st[cap], 16) == 0,
                      'thread %d %s %s' % (tid, cap, st[cap].strip()))
        check(config_read(r.vmm, 2, 2) != 0xffff, 'device id unreadable')
    finally:
        r.stop()


def test_runas_is_run_with_user():
    pw = need_root()
    r = Remote(['-runas', 'nobody'])
    try:
        check(proc_status(r.proc.pid)['Uid'].split()[1] == str(pw.pw_uid),
              'not running as nobody')
    finally:
        r.stop()


def test_open_after_setup_fails():
    """On SIGTERM qemu-remote names the sender from /proc/PID/comm: the
    same code opens a file in a plain process and fails when confined."""
    if SANITIZERS:
        raise Skip('the sanitizer build allows LeakSanitizer to open files')
    comm = open('/proc/self/comm').read().strip()
    plain = Remote([])
    try:
        status, err = plain.sigterm_exit()
        check(status == 0, 'plain: exit status %d' % status)
        check('from pid %d (%s)' % (os.getpid(), comm) in err,
              'plain process did not read /proc: ' + err)
    finally:
        plain.stop()
    args = ['-sandbox', 'on']
    if os.geteuid() == 0:
        need_root()
        args += ['-run-with', 'user=nobody']
    confined = Remote(args)
    try:
        status, err = confined.sigterm_exit()
        check(status == 0, 'confined: exit status %d: %s' % (status, err))
        check('terminating on signal 15' in err, 'no exit message: ' + err)
        check('(%s)' % comm not in err,
              'confined process opened /proc/PID/comm: ' + err)
    finally:
        confined.stop()


def test_chroot_to_empty_directory():
    need_root()
    empty = tempfile.mkdtemp(prefix='qr-chroot-')
    try:
        r = Remote(['-sandbox', 'on', '-run-with',
                    'user=nobody,chroot=%s' % empty], qmp=True)
        try:
            check(os.readlink('/proc/%d/root' % r.proc.pid) == empty,
                  'root is not the chroot')
            sock, cmd = qmp_client(r.qmp_path)
            check(cmd('query-status')['return']['status'] == 'running',
                  'QMP does not answer in the chroot')
            sock.close()
        finally:
            r.stop()
    finally:
        os.rmdir(empty)


def test_every_resource_handed_over_as_an_fd():
    """A privileged launcher opens the disk image (root's, mode 0600) and
    the QMP socket and starts qemu-remote as nobody, sandboxed: it never
    needs the filesystem."""
    pw = need_root()
    work = tempfile.mkdtemp(prefix='qr-launcher-')
    disk = os.path.join(work, 'disk.img')
    with open(disk, 'wb') as f:
        f.truncate(1 << 20)
    os.chmod(disk, 0o600)
    disk_fd = os.open(disk, os.O_RDWR)
    qmp_ours, qmp_theirs = socket.socketpair()
    try:
        r = Remote(['-add-fd', 'fd=%d,set=1' % disk_fd,
                    '-blockdev', 'driver=file,node-name=d0,'
                    'filename=/dev/fdset/1',
                    '-device', 'virtio-blk-pci,id=v0,drive=d0',
                    '-chardev', 'socket,id=mon0,fd=%d' % qmp_theirs.fileno(),
                    '-mon', 'chardev=mon0,mode=control',
                    '-sandbox', 'on'],
                   pass_fds=[disk_fd, qmp_theirs.fileno()], user=pw.pw_uid)
        qmp_theirs.close()
        try:
            _, cmd = qmp_client(qmp_ours)
            ids = [d['id'] for d in cmd('x-query-remote-devices')['return']]
            check(ids == ['t0', 'v0'], 'devices %r' % ids)
            # The set's fd is closed once start-up is over.
            fds = os.listdir('/proc/%d/fd' % r.proc.pid)
            links = [os.readlink('/proc/%d/fd/%s' % (r.proc.pid, fd))
                     for fd in fds]
            check(links.count(disk) == 1,
                  'disk open %d times' % links.count(disk))
        finally:
            r.stop()
    finally:
        os.close(disk_fd)
        qmp_ours.close()
        shutil.rmtree(work)


def disk_image(path, sectors):
    """A raw image whose sector i holds the text 'sector i' (padded)."""
    with open(path, 'wb') as f:
        for i in range(sectors):
            f.write(('sector %d' % i).encode().ljust(512, b'.'))
    return path


def vhost_user_read_write(sock_path):
    """Reads sector 3 and writes sector 4 through a vhost-user frontend."""
    fe = vuclient.Frontend(sock_path)
    try:
        fe.handshake(vuclient.F_VERSION_1 | vuclient.F_PROTOCOL_FEATURES)
        mem = vuclient.GuestMemory(16 << 20)
        fe.add_mem(mem)
        q = fe.start_queue(mem, 0, size=64)
        status, data = q.blk_read(sector=3, length=512)
        check(status == 0 and data.startswith(b'sector 3.'),
              'read: status %d, %r' % (status, data[:16]))
        check(q.blk_write(sector=4, data=b'w' * 512) == 0, 'write failed')
    finally:
        fe.close()


def test_qmp_block_export_add_after_start_up_serves_io():
    """An export added over QMP once the sandbox is in place: new threads,
    a block I/O context without io_uring (refused after start-up: the
    thread pool serves it), a socket bound and listened on, a session."""
    work = tempfile.mkdtemp(prefix='qr-export-')
    os.chmod(work, 0o777)   # nobody binds the export's socket here
    img = disk_image(os.path.join(work, 'disk.img'), 64)
    args = ['-sandbox', 'on', '-blockdev',
            'driver=file,node-name=d0,filename=' + img]
    if os.geteuid() == 0:
        need_root()
        args += ['-run-with', 'user=nobody']
    r = Remote(args, qmp=True)
    try:
        sock, cmd = qmp_client(r.qmp_path)
        path = os.path.join(work, 'vu.sock')
        reply = cmd('block-export-add', type='vhost-user-blk', id='e0',
                    **{'node-name': 'd0', 'writable': True,
                       'addr': {'type': 'unix', 'path': path}})
        check('return' in reply, 'block-export-add: %r' % reply)
        vhost_user_read_write(path)
        with open(img, 'rb') as f:
            f.seek(4 * 512)
            check(f.read(512) == b'w' * 512, 'the write did not reach disk')
        # "hard": the frontend may not have been seen leaving yet.
        reply = cmd('block-export-del', id='e0', mode='hard')
        check('return' in reply, 'block-export-del: %r' % reply)
        check(proc_status(r.proc.pid)['Seccomp'].strip() == '2', 'filter')
        check(r.proc.poll() is None, 'qemu-remote died: ' + r.stderr())
        sock.close()
    finally:
        r.stop()
        shutil.rmtree(work, ignore_errors=True)


def test_export_on_inherited_socket_as_nobody():
    """The vhost-user listening socket and the disk handed over as fds to
    a process started as nobody, sandboxed: a frontend is served."""
    pw = need_root()
    work = tempfile.mkdtemp(prefix='qr-export-fd-')
    img = disk_image(os.path.join(work, 'disk.img'), 64)
    os.chmod(img, 0o600)
    disk_fd = os.open(img, os.O_RDWR)
    path = os.path.join(work, 'vu.sock')
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    try:
        r = Remote(['-sandbox', 'on', '-add-fd', 'fd=%d,set=1' % disk_fd,
                    '-blockdev', 'driver=file,node-name=d0,'
                    'filename=/dev/fdset/1',
                    '-export', 'type=vhost-user-blk,id=e0,node-name=d0,'
                    'addr.type=fd,addr.str=%d,writable=on'
                    % listener.fileno()],
                   pass_fds=[disk_fd, listener.fileno()], user=pw.pw_uid)
        try:
            vhost_user_read_write(path)
        finally:
            r.stop()
    finally:
        listener.close()
        os.close(disk_fd)
        shutil.rmtree(work)


def test_unknown_user_stops_start_up():
    proc = subprocess.run([QEMU_REMOTE, '-run-with', 'user=no-such-user-qr'],
                          capture_output=True, text=True, timeout=TIMEOUT)
    check(proc.returncode == 1, 'exit status %d' % proc.returncode)
    check('User "no-such-user-qr" doesn\'t exist' in proc.stderr,
          proc.stderr)


def test_fdset_without_matching_fd_fails():
    r, w = os.pipe()
    try:
        proc = subprocess.run(
            [QEMU_REMOTE, '-add-fd', 'fd=%d,set=2' % r, '-blockdev',
             'driver=file,node-name=d0,filename=/dev/fdset/2'],
            capture_output=True, text=True, timeout=TIMEOUT, pass_fds=[r])
        check(proc.returncode == 1, 'exit status %d' % proc.returncode)
        check("Could not open '/dev/fdset/2': Permission denied"
              in proc.stderr, proc.stderr)
    finally:
        os.close(r)
        os.close(w)


def allowlist_summary(r):
    m = re.search(r'sandbox: (\d+) system calls allowed \((\d+) only with '
                  r'some arguments\), (\d+) refused', r.stderr())
    check(m, 'no summary in: ' + r.stderr())
    return [int(g) for g in m.groups()]


def test_allowlist_grows_with_what_is_configured():
    """-d sandbox reports the composed allowlist; a monitor or a block
    device adds their policies to x-remote-testdev's over mpqemu."""
    disk = tempfile.NamedTemporaryFile()
    disk.truncate(1 << 20)
    cases = (
        ('x-remote-testdev over mpqemu', [], False),
        ('with virtio-blk-pci', ['-drive', 'if=none,id=d0,format=raw,file=' +
                                 disk.name, '-device',
                                 'virtio-blk-pci,id=v0,drive=d0'], False),
        ('with a QMP monitor', [], True),
    )
    sizes = []
    try:
        for name, args, qmp in cases:
            r = Remote(['-sandbox', 'on', '-d', 'sandbox'] + args, qmp=qmp)
            try:
                allowed, filtered, refused = allowlist_summary(r)
            finally:
                r.stop()
            print('# %s: %d system calls allowed (%d with argument checks), '
                  '%d refused with an errno' % (name, allowed, filtered,
                                                refused))
            sizes.append(allowed)
    finally:
        disk.close()
    check(sizes[1] > sizes[0], 'virtio-blk-pci added nothing')
    check(sizes[2] > sizes[0], 'the QMP monitor added nothing')


TESTS = [v for k, v in sorted(globals().items()) if k.startswith('test_')]


def main():
    if not os.access(QEMU_REMOTE, os.X_OK):
        print('1..0 # SKIP qemu-remote binary not found (QEMU_REMOTE=%s)'
              % QEMU_REMOTE)
        return 0
    print('1..%d' % len(TESTS))
    failed = 0
    for n, fn in enumerate(TESTS, 1):
        try:
            fn()
            print('ok %d - %s' % (n, fn.__name__))
        except Skip as e:
            print('ok %d - %s # SKIP %s' % (n, fn.__name__, e))
        except Exception as e:  # a failed check or an unexpected error
            failed += 1
            print('not ok %d - %s' % (n, fn.__name__))
            for line in str(e).splitlines() or [repr(e)]:
                print('# ' + line)
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
