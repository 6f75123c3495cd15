"""Start a vhost-user block backend for a test: our qemu-remote with one or
more -export options, or qemu-storage-daemon as the reference.

    with Backend.qemu_remote(tmpdir, exports=[('a', imgA), ('b', imgB)]) as be:
        be.socket('a')          # path of export 'a'
        be.pid, be.stderr()
    # SIGTERM on exit; the exit status is checked (0) unless KILLED.

Environment: QEMU_REMOTE (meson sets it), QEMU_STORAGE_DAEMON;
QEMU_REMOTE_CONFINED=1 runs qemu-remote as in production: -sandbox on and,
when the test runs as root, -run-with user=nobody.
"""

import os
import signal
import subprocess
import time

QEMU_REMOTE = os.environ.get('QEMU_REMOTE')
QSD = os.environ.get('QEMU_STORAGE_DAEMON', 'qemu-storage-daemon')

START_TIMEOUT = 30
STOP_TIMEOUT = 10

_exports_supported = None


def qemu_remote_lacks_exports():
    """None if $QEMU_REMOTE serves vhost-user-blk exports, else the reason
    (for a TAP SKIP)."""
    global _exports_supported
    if not QEMU_REMOTE:
        return 'QEMU_REMOTE is not set (run through meson test)'
    if not os.access(QEMU_REMOTE, os.X_OK):
        return '%s is not built' % QEMU_REMOTE
    if _exports_supported is None:
        p = subprocess.run([QEMU_REMOTE, '--print-capabilities'],
                           capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        _exports_supported = p.returncode == 0 and '"block"' in p.stdout
    if not _exports_supported:
        return 'qemu-remote has no vhost-user-blk export yet'
    return None


def confinement():
    """qemu-remote options for QEMU_REMOTE_CONFINED=1 (see above)."""
    if os.environ.get('QEMU_REMOTE_CONFINED') != '1':
        return []
    args = ['-sandbox', 'on']
    if os.geteuid() == 0:
        args += ['-run-with', 'user=nobody']
    return args


def make_image(path, size, pattern=None):
    """A raw image of SIZE bytes; PATTERN(i) gives the bytes of sector i."""
    with open(path, 'wb') as f:
        if pattern is None:
            f.truncate(size)
        else:
            for i in range(size // 512):
                f.write(pattern(i))
    return path


class Backend:
    def __init__(self, argv, sockets, workdir, name):
        self.argv = argv
        self.sockets = dict(sockets)
        self.workdir = workdir
        self.name = name
        self.killed = False
        self.stderr_path = os.path.join(workdir, name + '.stderr')
        for path in self.sockets.values():
            if os.path.exists(path):
                os.unlink(path)
        with open(self.stderr_path, 'wb') as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err)
        deadline = time.monotonic() + START_TIMEOUT
        while not all(os.path.exists(p) for p in self.sockets.values()):
            if self.proc.poll() is not None:
                raise RuntimeError('%s exited (%d) before listening:\n%s'
                                   % (name, self.proc.returncode,
                                      self.stderr()))
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError('%s did not listen within %d s'
                                   % (name, START_TIMEOUT))
            time.sleep(0.02)

    @classmethod
    def qemu_remote(cls, workdir, exports, extra=(), name='qemu-remote',
                    export_opts=''):
        """EXPORTS: [(id, image)] served writable with
        ',num-queues=4' + EXPORT_OPTS."""
        argv = [QEMU_REMOTE]
        sockets = {}
        for eid, image in exports:
            sock = os.path.join(workdir, eid + '.sock')
            sockets[eid] = sock
            argv += ['-blockdev', 'driver=file,node-name=n-%s,filename=%s'
                     % (eid, image),
                     '-export', 'type=vhost-user-blk,id=%s,node-name=n-%s,'
                     'addr.type=unix,addr.path=%s,writable=on,num-queues=4%s'
                     % (eid, eid, sock, export_opts)]
        return cls(argv + confinement() + list(extra), sockets, workdir,
                   name)

    @classmethod
    def qemu_storage_daemon(cls, workdir, exports, name='qsd'):
        argv = [QSD]
        sockets = {}
        for eid, image in exports:
            sock = os.path.join(workdir, eid + '.sock')
            sockets[eid] = sock
            argv += ['--blockdev', 'driver=file,node-name=n-%s,filename=%s'
                     % (eid, image),
                     '--export', 'type=vhost-user-blk,id=%s,node-name=n-%s,'
                     'addr.type=unix,addr.path=%s,writable=on,num-queues=4'
                     % (eid, eid, sock)]
        return cls(argv, sockets, workdir, name)

    @property
    def pid(self):
        return self.proc.pid

    def socket(self, eid):
        return self.sockets[eid]

    def running(self):
        return self.proc.poll() is None

    def stderr(self):
        try:
            with open(self.stderr_path, 'rb') as f:
                return f.read().decode(errors='replace')
        except OSError:
            return ''

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.killed = True
            self.proc.send_signal(sig)
            self.proc.wait()

    def stop(self):
        """SIGTERM and wait; returns the exit status (SIGKILL after
        STOP_TIMEOUT, reported as -9)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        rc = self.stop()
        if exc[0] is None and not self.killed and rc != 0:
            raise AssertionError('%s exited with %d:\n%s'
                                 % (self.name, rc, self.stderr()))


def wait_for(cond, timeout=10, what='condition'):
    """Poll COND() until true, at most TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for ' + what)
        time.sleep(0.01)
