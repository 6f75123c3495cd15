"""Shared pieces of the command-line tests: TAP output, running the real
qemu-remote binary ($QEMU_REMOTE), scratch directories, a small QMP client.

Every wait is bounded by a deadline (TIMEOUT); no test measures time.
Processes a test starts are killed and scratch directories removed even
when the test fails.
"""

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

QEMU_REMOTE = os.environ.get('QEMU_REMOTE', 'qemu-remote')
# Bound on every wait; generous for a loaded 2-core sanitizer build.
TIMEOUT = 30.0

# main(tests): the TAP producer the functional tests use too.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'functional', 'lib'))
from tap import main  # noqa: E402,F401


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def check_eq(got, want, what):
    check(got == want, '%s: got %r, want %r' % (what, got, want))


class ScratchDir:
    """A fresh directory (mkdtemp), removed on exit."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix='qr-cli-')
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)

    def __call__(self, name):
        return os.path.join(self.path, name)

    def listing(self):
        return sorted(os.listdir(self.path))


def run(args, cwd=None, pass_fds=()):
    """Runs qemu-remote ARGS to completion; returns (status, out, err)."""
    p = subprocess.run([QEMU_REMOTE] + args, cwd=cwd, pass_fds=pass_fds,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def wait_for(cond, what):
    """Polls COND() until true, failing after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while not cond():
        check(time.monotonic() < deadline, 'timed out waiting for ' + what)
        time.sleep(0.02)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Remote:
    """qemu-remote running in the background; killed at the end if still
    running.  Its stderr goes to an anonymous temporary file (read it with
    .stderr())."""

    def __init__(self, args, pass_fds=(), cwd=None):
        self.errfile = tempfile.TemporaryFile(mode='w+')
        self.proc = subprocess.Popen([QEMU_REMOTE] + args, cwd=cwd,
                                     pass_fds=pass_fds,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.errfile)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.errfile.close()

    def wait(self):
        """Waits (bounded) for the process to exit; returns its status."""
        return self.proc.wait(timeout=TIMEOUT)

    def stderr(self):
        self.errfile.seek(0)
        return self.errfile.read()


class QMP:
    """One QMP client connection with bounded, line-based reads."""

    def __init__(self, path):
        self.sock = self._connect(path)
        self.buf = b''
        greeting = self.msg()
        check('QMP' in greeting, 'no QMP greeting: %r' % greeting)

    @staticmethod
    def _connect(path):
        # The socket file appears at bind(), a moment before listen(): a
        # connection in between is refused, so retry until the deadline.
        deadline = time.monotonic() + TIMEOUT
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                return sock
            except ConnectionRefusedError:
                sock.close()
                check(time.monotonic() < deadline,
                      'connection to %s refused until the deadline' % path)
                time.sleep(0.02)

    def close(self):
        self.sock.close()

    def msg(self):
        """The next message, or None when the server closed."""
        deadline = time.monotonic() + TIMEOUT
        while b'\n' not in self.buf:
            left = deadline - time.monotonic()
            check(left > 0, 'no QMP message within %gs' % TIMEOUT)
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                continue
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def cmd(self, name, **args):
        req = {'execute': name}
        if args:
            req['arguments'] = args
        self.sock.sendall(json.dumps(req).encode() + b'\n')
        while True:
            m = self.msg()
            check(m is not None, 'connection closed before the reply to '
                  + name)
            if 'event' not in m:
                return m

    def event(self, name):
        """Waits for event NAME; returns it."""
        while True:
            m = self.msg()
            check(m is not None, 'connection closed before event ' + name)
            if m.get('event') == name:
                return m


def negotiated(path):
    """A QMP client on PATH past capability negotiation."""
    q = QMP(path)
    check_eq(q.cmd('qmp_capabilities'), {'return': {}}, 'qmp_capabilities')
    return q
