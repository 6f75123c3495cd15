#!/usr/bin/python3
"""Captures real sessions as fuzz inputs (the seed corpora).

mpqemu: use this script as qemu-remote (QTEST_QEMU_REMOTE_BINARY=capture.py
with CAPTURE_REMOTE=path/to/qemu-remote and CAPTURE_DIR=DIR).  For every
"-object x-remote-object,...,fd=N" it puts itself between the VMM and
qemu-remote on fd N, relays both ways (fds included) and writes what the
VMM sent as a fuzz-mpqemu input: a device byte, then the program of
tests/fuzz/fuzz-stream.h -- messages with their fds (guest RAM memfds,
eventfds), and before each message the guest RAM bytes that changed since
the last one (RAM_WRITE), so the rings the guest driver built are in the
input too.

vhost-user: "capture.py vhost-user LISTEN_PATH BACKEND_PATH OUT" listens on
LISTEN_PATH, connects each client to BACKEND_PATH and writes the
frontend's side of the session the same way (fuzz-vhost-user input).

QMP (CAPTURE_MODE=qmp, as qemu-remote): every "-qmp unix:PATH" socket is
moved to PATH.real and this script serves PATH, writing each client's
bytes as a fuzz-qmp input.

Command lines (CAPTURE_MODE=argv, as qemu-remote): writes argv as JSON and
becomes qemu-remote; option-seeds.py turns them into fuzz-option inputs.

Inputs are cut at 64 KiB (what the transport targets accept).
"""
import json
import time
import array
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading

MAX_INPUT = 64 * 1024
PAGE = 4096
OP_SEND, OP_SEND_RAM, OP_SEND_EFD, OP_SEND_SOCK, OP_RAM_WRITE, OP_KICK, \
    OP_SEND_PIPE = range(7)
DEVICE_BYTE = {'x-remote-testdev': 0, 'virtio-blk-pci': 1}


def fd_kind(fd):
    """'ram', 'eventfd', 'socket' or 'other' for a received fd."""
    try:
        link = os.readlink('/proc/self/fd/%d' % fd)
    except OSError:
        return 'other'
    if link.startswith('/memfd:'):
        return 'ram'
    if link == 'anon_inode:[eventfd]':
        return 'eventfd'
    if link.startswith('socket:'):
        return 'socket'
    return 'other'


class Recorder:
    """Writes one fuzz input; follows the guest RAM the VMM handed over."""

    def __init__(self, path, prefix=b''):
        self.path = path
        self.out = bytearray(prefix)
        self.ram = {}           # dev/ino -> fd (our dup)
        self.pages = {}         # (dev/ino, page offset) -> bytes seen
        self.lock = threading.Lock()

    def _emit(self, data):
        if len(self.out) + len(data) <= MAX_INPUT:
            self.out += data

    def add_ram(self, fd):
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
        if key not in self.ram:
            self.ram[key] = os.dup(fd)

    def ram_diff(self):
        """RAM_WRITE ops for guest RAM changed since the last call."""
        for key, fd in self.ram.items():
            size = os.fstat(fd).st_size
            pos = 0
            while pos < size:
                try:
                    start = os.lseek(fd, pos, os.SEEK_DATA)
                    end = os.lseek(fd, start, os.SEEK_HOLE)
                except OSError:
                    break
                for off in range(start - start % PAGE, end, PAGE):
                    self._page_diff(key, fd, off)
                pos = end

    def _page_diff(self, key, fd, off):
        if off >= 1 << 30:
            return      # beyond the fuzz target's guest RAM
        data = os.pread(fd, PAGE, off)
        old = self.pages.get((key, off), bytes(len(data)))
        if data == old:
            return
        self.pages[(key, off)] = data
        i = 0
        while i < len(data):
            if data[i] == old[i]:
                i += 1
                continue
            j = i
            # Runs of changes with gaps under 16 bytes go together.
            while j < len(data) and (data[j] != old[j] or
                                     data[j:j + 16] != old[j:j + 16]):
                j += 1
            self._emit(struct.pack('<BIH', OP_RAM_WRITE, off + i, j - i) +
                       data[i:j])
            i = j

    def message(self, data, fds):
        """The VMM sent @data with @fds: RAM changes first, then it."""
        with self.lock:
            for fd in fds:
                if fd_kind(fd) == 'ram':
                    self.add_ram(fd)
            self.ram_diff()
            kinds = [fd_kind(fd) for fd in fds]
            if not fds:
                op = OP_SEND
            elif all(k == 'ram' for k in kinds):
                op = OP_SEND_RAM | ((min(len(fds), 8) - 1) << 3)
            elif all(k == 'eventfd' for k in kinds):
                op = OP_SEND_EFD | ((min(len(fds), 8) - 1) << 3)
            elif kinds == ['socket']:
                op = OP_SEND_SOCK
            else:
                op = OP_SEND_PIPE
            for i in range(0, max(len(data), 1), 0xffff):
                chunk = data[i:i + 0xffff]
                self._emit(struct.pack('<BH', op, len(chunk)) + chunk)
                op = OP_SEND     # fds go with the first chunk only

    def kick(self):
        with self.lock:
            self.ram_diff()
            self._emit(bytes([OP_KICK]))

    def save(self):
        with open(self.path, 'wb') as f:
            f.write(self.out)


# Message framing: header length, and where and how its payload size is.
MPQEMU = (16, 8, '<Q')
VHOST_USER = (12, 8, '<I')


def recv_exactly(sock, n, fds):
    """@n bytes from @sock; fds arriving with them are added to @fds."""
    data = b''
    while len(data) < n:
        chunk, more, _, _ = socket.recv_fds(sock, n - len(data), 253)
        fds += more
        if not chunk:
            return None
        data += chunk
    return data


def relay(src, dst, recorder=None, framing=None):
    """Copies @src to @dst with fds until EOF; records what passes.  With
    @framing, one message at a time, so that fds stay with their message
    (the kernel may hand several messages to one read)."""
    while True:
        fds = []
        try:
            if framing:
                hlen, off, fmt = framing
                data = recv_exactly(src, hlen, fds)
                if data:
                    size = struct.unpack_from(fmt, data, off)[0]
                    body = recv_exactly(src, size, fds) if size else b''
                    data = data + body if body is not None else None
            else:
                data, fds, _, _ = socket.recv_fds(src, 65536, 253)
        except (OSError, struct.error):
            data = None
        if not data:
            break
        if recorder:
            recorder.message(data, fds)
        try:
            socket.send_fds(dst, [data], fds) if fds else dst.sendall(data)
        except OSError:
            break
        finally:
            for fd in fds:
                os.close(fd)
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def kicker(recorder, stop):
    """The guest's doorbells do not pass through the socket: mark a kick
    (after the RAM changes) whenever guest RAM changed for a while."""
    while not stop.wait(0.05):
        before = len(recorder.out)
        with recorder.lock:
            recorder.ram_diff()
        if len(recorder.out) != before:
            recorder.kick()


def capture_mpqemu(argv):
    remote = os.environ['CAPTURE_REMOTE']
    outdir = os.environ['CAPTURE_DIR']
    devices = {}
    for i, a in enumerate(argv):
        if i and argv[i - 1] == '-device':
            kv = dict(p.split('=', 1) for p in a.split(',')[1:] if '=' in p)
            devices[kv.get('id')] = a.split(',')[0]
    relays = []
    for i, a in enumerate(argv):
        if not (i and argv[i - 1] == '-object' and
                a.startswith('x-remote-object')):
            continue
        kv = dict(p.split('=', 1) for p in a.split(',')[1:] if '=' in p)
        fd = int(kv['fd'])
        vmm = socket.socket(fileno=os.dup(fd))
        ours, theirs = socket.socketpair()
        os.dup2(theirs.fileno(), fd)
        theirs.close()
        kind = devices.get(kv['devid'], '')
        name = '%s-%d-%s' % (os.environ.get('CAPTURE_NAME', 'session'),
                             os.getpid(), kv['devid'])
        rec = Recorder(os.path.join(outdir, name),
                       bytes([DEVICE_BYTE.get(kind, 0)]))
        relays.append((vmm, ours, rec))
    child = subprocess.Popen([remote] + argv, pass_fds=[
        int(dict(p.split('=', 1) for p in a.split(',')[1:]
                 if '=' in p)['fd'])
        for i, a in enumerate(argv)
        if i and argv[i - 1] == '-object' and a.startswith('x-remote-object')])
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: child.send_signal(s))
    threads = []
    for vmm, ours, rec in relays:
        for args in ((vmm, ours, rec, MPQEMU), (ours, vmm, None, MPQEMU)):
            t = threading.Thread(target=relay, args=args, daemon=True)
            t.start()
            threads.append(t)
    status = child.wait()
    for t in threads:
        t.join(2)
    for _, _, rec in relays:
        rec.save()
    return status if status >= 0 else 128 - status


# Every session being recorded, saved at the end even if still open.
RECORDERS = []


def capture_vhost_user(listen_path, backend_path, out):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(listen_path)
    srv.listen(1)
    n = 0
    while True:
        r, _, _ = select.select([srv], [], [], 60)
        if not r:
            return 0
        frontend, _ = srv.accept()
        backend = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        backend.connect(backend_path)
        rec = Recorder('%s-%d' % (out, n))
        RECORDERS.append(rec)
        n += 1
        stop = threading.Event()
        k = threading.Thread(target=kicker, args=(rec, stop), daemon=True)
        k.start()
        back = threading.Thread(target=relay, args=(backend, frontend, None,
                                                    VHOST_USER), daemon=True)
        back.start()
        relay(frontend, backend, rec, VHOST_USER)
        stop.set()
        k.join()
        rec.save()


def capture_argv(argv):
    remote = os.environ['CAPTURE_REMOTE']
    path = os.path.join(os.environ['CAPTURE_DIR'], 'argv-%d' % os.getpid())
    with open(path, 'w') as f:
        json.dump(argv, f)
    os.execv(remote, [remote] + argv)


def serve_qmp(path, real, outdir, stop):
    """Accepts clients on @path, relays each to @real and records it."""
    deadline = time.monotonic() + 10
    while not os.path.exists(real) and time.monotonic() < deadline:
        time.sleep(0.01)   # the real socket appears during start-up
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    n = 0
    while not stop.is_set():
        r, _, _ = select.select([srv], [], [], 0.1)
        if not r:
            continue
        client, _ = srv.accept()
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.connect(real)
        except OSError:
            client.close()
            continue
        rec = RawRecorder(os.path.join(outdir, '%s-%d-%d' % (
            os.environ.get('CAPTURE_NAME', 'qmp'), os.getpid(), n)))
        n += 1
        for args in ((client, server, rec), (server, client, None)):
            threading.Thread(target=relay, args=args, daemon=True).start()
    srv.close()
    os.unlink(path)


class RawRecorder:
    """The bytes a stream client sent, as they were."""

    def __init__(self, path):
        self.path = path

    def message(self, data, fds):
        with open(self.path, 'ab') as f:
            f.write(data)


def capture_qmp(argv):
    remote = os.environ['CAPTURE_REMOTE']
    outdir = os.environ['CAPTURE_DIR']
    stop = threading.Event()
    servers = []
    argv = list(argv)
    for i, a in enumerate(argv):
        if i and argv[i - 1] == '-qmp' and a.startswith('unix:'):
            path, _, rest = a[len('unix:'):].partition(',')
            argv[i] = 'unix:%s.real,%s' % (path, rest)
            servers.append((path, path + '.real'))
    child = subprocess.Popen([remote] + argv, close_fds=False)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: child.send_signal(s))
    threads = [threading.Thread(target=serve_qmp, args=(p, r, outdir, stop))
               for p, r in servers]
    for t in threads:
        t.start()
    status = child.wait()
    stop.set()
    for t in threads:
        t.join()
    return status if status >= 0 else 128 - status


def capture_backend(argv):
    """As a vhost-user backend program (qemu-storage-daemon or qemu-remote
    with --export ...addr.path=P): the real one listens on P.real, this
    script on P, recording each frontend."""
    real_prog = os.environ['CAPTURE_REMOTE']
    outdir = os.environ['CAPTURE_DIR']
    argv = list(argv)
    path = None
    for i, a in enumerate(argv):
        if i and argv[i - 1].lstrip('-') == 'export':
            parts = a.split(',')
            for j, p in enumerate(parts):
                if p.startswith('addr.path='):
                    path = p[len('addr.path='):]
                    parts[j] = 'addr.path=%s.real' % path
            argv[i] = ','.join(parts)
    if path is None:    # --print-capabilities and the like
        os.execv(real_prog, [real_prog] + argv)
    child = subprocess.Popen([real_prog] + argv, close_fds=False)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: child.send_signal(s))
    out = os.path.join(outdir, '%s-%d' % (
        os.environ.get('CAPTURE_NAME', 'vhost-user'), os.getpid()))
    deadline = time.monotonic() + 10
    while not os.path.exists(path + '.real') and time.monotonic() < deadline:
        time.sleep(0.01)   # the real socket appears during start-up
    t = threading.Thread(target=capture_vhost_user,
                         args=(path, path + '.real', out), daemon=True)
    t.start()
    status = child.wait()
    for rec in RECORDERS:
        with rec.lock:
            rec.save()
    try:
        os.unlink(path)
    except OSError:
        pass
    return status if status >= 0 else 128 - status


if __name__ == '__main__':
    if len(sys.argv) == 5 and sys.argv[1] == 'vhost-user':
        sys.exit(capture_vhost_user(*sys.argv[2:]))
    mode = os.environ.get('CAPTURE_MODE', 'mpqemu')
    if mode == 'argv':
        capture_argv(sys.argv[1:])
    if mode == 'qmp':
        sys.exit(capture_qmp(sys.argv[1:]))
    if mode == 'vhost-user-backend':
        sys.exit(capture_backend(sys.argv[1:]))
    sys.exit(capture_mpqemu(sys.argv[1:]))
