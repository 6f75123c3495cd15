"""A vhost-user frontend in Python, for tests: raw messages (any header,
payload and fds, well-formed or not), the handshake QEMU 7.2 does, guest
memory in a memfd, split virtqueues in it, and virtio-blk requests through
them.  It plays QEMU's part against our backend without a VMM or a guest.

    fe = Frontend(path)
    fe.handshake()                       # features, protocol features, owner
    mem = GuestMemory(16 << 20)
    fe.add_mem(mem)
    q = fe.start_queue(mem, 0, size=64)  # NUM, BASE, ADDR, KICK, CALL, ENABLE
    status, data = q.blk_read(sector=0, length=4096)

Only the standard library: socket.sendmsg carries SCM_RIGHTS fds,
os.memfd_create backs guest memory, mmap maps it.
"""

import array
import mmap
import os
import select
import socket
import struct
import time

# Requests (docs/interop/vhost-user.md)
GET_FEATURES = 1
SET_FEATURES = 2
SET_OWNER = 3
RESET_OWNER = 4
SET_MEM_TABLE = 5
SET_LOG_BASE = 6
SET_LOG_FD = 7
SET_VRING_NUM = 8
SET_VRING_ADDR = 9
SET_VRING_BASE = 10
GET_VRING_BASE = 11
SET_VRING_KICK = 12
SET_VRING_CALL = 13
SET_VRING_ERR = 14
GET_PROTOCOL_FEATURES = 15
SET_PROTOCOL_FEATURES = 16
GET_QUEUE_NUM = 17
SET_VRING_ENABLE = 18
SET_BACKEND_REQ_FD = 21
GET_CONFIG = 24
SET_CONFIG = 25
GET_INFLIGHT_FD = 31
SET_INFLIGHT_FD = 32
RESET_DEVICE = 34
GET_MAX_MEM_SLOTS = 36
ADD_MEM_REG = 37
REM_MEM_REG = 38
SET_STATUS = 39
GET_STATUS = 40

VERSION = 0x1
REPLY = 0x4
NEED_REPLY = 0x8
NOFD = 1 << 8

F_PROTOCOL_FEATURES = 1 << 30
F_LOG_ALL = 1 << 26
F_VERSION_1 = 1 << 32
F_EVENT_IDX = 1 << 29
F_INDIRECT_DESC = 1 << 28

PF_MQ = 1 << 0
PF_LOG_SHMFD = 1 << 1
PF_REPLY_ACK = 1 << 3
PF_BACKEND_REQ = 1 << 5
PF_CONFIG = 1 << 9
PF_INFLIGHT_SHMFD = 1 << 12
PF_CONFIGURE_MEM_SLOTS = 1 << 15
PF_STATUS = 1 << 16

# Where the test's guest memory appears to the backend.
GPA_BASE = 0x100000
UADDR_BASE = 0x7f0000000000

# virtio-blk request types and status
BLK_T_IN = 0
BLK_T_OUT = 1
BLK_T_FLUSH = 4
BLK_T_GET_ID = 8
BLK_S_OK = 0
BLK_S_IOERR = 1
BLK_S_UNSUPP = 2

VRING_DESC_F_NEXT = 1
VRING_DESC_F_WRITE = 2

HDR = struct.Struct('<III')


class Closed(Exception):
    """The backend closed the connection."""


class Frontend:
    def __init__(self, path, timeout=10):
        self.path = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self.backend_channel = None
        self.fds = []           # eventfds we created, closed by close()

    def close(self):
        self.sock.close()
        if self.backend_channel:
            self.backend_channel.close()
        for fd in self.fds:
            os.close(fd)
        self.fds = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---------------------------------------------------------------- raw

    def send_raw(self, data, fds=()):
        anc = []
        if fds:
            anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                    array.array('i', fds).tobytes())]
        self.sock.sendmsg([data], anc)

    def send(self, req, payload=b'', fds=(), flags=VERSION, size=None):
        """Send one message; SIZE overrides the header's size field."""
        if size is None:
            size = len(payload)
        self.send_raw(HDR.pack(req, flags, size) + payload, fds)

    def _recv_exact(self, n, with_fds=False):
        buf = b''
        fds = []
        while len(buf) < n:
            try:
                data, anc, _, _ = self.sock.recvmsg(
                    n - len(buf), socket.CMSG_SPACE(8 * 4))
            except socket.timeout:
                raise TimeoutError('no reply from the backend')
            except ConnectionResetError:
                raise Closed()
            for level, typ, fdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    a = array.array('i')
                    a.frombytes(fdata[:len(fdata) - len(fdata) % 4])
                    fds += list(a)
            if not data:
                for fd in fds:
                    os.close(fd)
                raise Closed()
            buf += data
        return buf, fds

    def recv(self):
        """One message from the backend: (request, flags, payload, fds)."""
        hdr, fds = self._recv_exact(HDR.size)
        req, flags, size = HDR.unpack(hdr)
        payload, more = self._recv_exact(size) if size else (b'', [])
        return req, flags, payload, fds + more

    def reply(self, req):
        """Read the reply to REQ and check its header."""
        rreq, flags, payload, fds = self.recv()
        assert rreq == req, 'reply to %d, expected %d' % (rreq, req)
        assert flags == VERSION | REPLY, 'reply flags 0x%x' % flags
        return payload, fds

    def reply_u64(self, req):
        payload, fds = self.reply(req)
        assert len(payload) == 8 and not fds, payload
        return struct.unpack('<Q', payload)[0]

    def expect_closed(self, timeout=None):
        """True when the backend hung up (EOF) within TIMEOUT seconds."""
        r, _, _ = select.select([self.sock], [], [],
                                self.timeout if timeout is None else timeout)
        if not r:
            return False
        try:
            data = self.sock.recv(4096)
        except ConnectionResetError:
            return True
        return data == b''

    def no_reply(self, timeout=0.2):
        """True when nothing arrives within TIMEOUT (a request must not be
        answered); a closed connection is not 'no reply'."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        return not r

    # --------------------------------------------------------- requests

    def request(self, req, payload=b'', fds=(), ack=True):
        """A request that needs no reply; with ACK (and REPLY_ACK
        negotiated) ask for one and check it is 0."""
        if ack and self.protocol_features & PF_REPLY_ACK:
            self.send(req, payload, fds, VERSION | NEED_REPLY)
            status = self.reply_u64(req)
            assert status == 0, 'request %d failed: %d' % (req, status)
        else:
            self.send(req, payload, fds)

    def get_u64(self, req):
        self.send(req)
        return self.reply_u64(req)

    protocol_features = 0

    def handshake(self, features=None, protocol_features=None):
        """QEMU 7.2's connect sequence; returns the backend's features."""
        offered = self.get_u64(GET_FEATURES)
        pf = self.get_u64(GET_PROTOCOL_FEATURES)
        if protocol_features is None:
            protocol_features = pf & (PF_MQ | PF_LOG_SHMFD | PF_REPLY_ACK |
                                      PF_BACKEND_REQ | PF_CONFIG |
                                      PF_INFLIGHT_SHMFD |
                                      PF_CONFIGURE_MEM_SLOTS | PF_STATUS)
        self.send(SET_PROTOCOL_FEATURES, struct.pack('<Q', protocol_features))
        self.protocol_features = protocol_features
        self.send(SET_OWNER)
        if features is not None:
            self.set_features(features)
        return offered

    def set_features(self, features):
        self.request(SET_FEATURES, struct.pack('<Q', features))

    def get_config(self, size, offset=0):
        self.send(GET_CONFIG, struct.pack('<III', offset, size, 0) +
                  bytes(size))
        payload, fds = self.reply(GET_CONFIG)
        assert not fds
        off, sz, _ = struct.unpack_from('<III', payload)
        assert (off, sz) == (offset, size), (off, sz)
        return payload[12:]

    def add_mem(self, mem):
        self.request(ADD_MEM_REG, struct.pack(
            '<QQQQQ', 0, GPA_BASE, mem.size, UADDR_BASE, 0), [mem.fd])

    def set_mem_table(self, regions, fds):
        """REGIONS: list of (gpa, size, uaddr, mmap_offset)."""
        payload = struct.pack('<II', len(regions), 0)
        for r in regions:
            payload += struct.pack('<QQQQ', *r)
        self.request(SET_MEM_TABLE, payload, fds)

    def vring_state(self, req, index, num):
        self.request(req, struct.pack('<II', index, num))

    def vring_fd(self, req, index, fd):
        if fd is None:
            self.request(req, struct.pack('<Q', index | NOFD))
        else:
            self.request(req, struct.pack('<Q', index), [fd])

    def get_vring_base(self, index):
        self.send(GET_VRING_BASE, struct.pack('<II', index, 0))
        payload, _ = self.reply(GET_VRING_BASE)
        i, num = struct.unpack('<II', payload)
        assert i == index
        return num

    def eventfd(self):
        fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self.fds.append(fd)
        return fd

    def start_queue(self, mem, index, size=64, base=0, offset=None,
                    enable=True):
        """Lay out a split ring of SIZE entries in MEM and start it the
        way QEMU does.  Returns the VirtQueue."""
        q = VirtQueue(self, mem, index, size, offset)
        q.avail_idx = q.last_used = base
        self.vring_state(SET_VRING_NUM, index, size)
        self.vring_state(SET_VRING_BASE, index, base)
        self.request(SET_VRING_ADDR, struct.pack(
            '<IIQQQQ', index, 0, mem.uaddr(q.desc), mem.uaddr(q.used),
            mem.uaddr(q.avail), GPA_BASE + q.used))
        self.vring_fd(SET_VRING_KICK, index, q.kick)
        self.vring_fd(SET_VRING_CALL, index, q.call)
        if enable:
            self.vring_state(SET_VRING_ENABLE, index, 1)
        return q


class GuestMemory:
    """SIZE bytes of "guest RAM" in a memfd at GPA_BASE, with a bump
    allocator for rings and buffers (offsets into the memfd)."""

    def __init__(self, size):
        self.size = size
        self.fd = os.memfd_create('guest-ram', os.MFD_CLOEXEC)
        os.ftruncate(self.fd, size)
        self.map = mmap.mmap(self.fd, size)
        self.next = 0

    def close(self):
        self.map.close()
        os.close(self.fd)

    def alloc(self, length, align=4096):
        off = (self.next + align - 1) & ~(align - 1)
        if off + length > self.size:
            raise MemoryError('guest memory exhausted')
        self.next = off + length
        return off

    def gpa(self, off):
        return GPA_BASE + off

    def uaddr(self, off):
        return UADDR_BASE + off

    def read(self, off, n):
        return bytes(self.map[off:off + n])

    def write(self, off, data):
        self.map[off:off + len(data)] = data

    def u16(self, off):
        return struct.unpack_from('<H', self.map, off)[0]


class VirtQueue:
    """A split virtqueue in guest memory, driven like a guest driver."""

    def __init__(self, fe, mem, index, size, offset=None):
        self.fe = fe
        self.mem = mem
        self.index = index
        self.size = size
        if offset is None:
            offset = mem.alloc(16 * size + 6 + 2 * size + 4096 + 6 + 8 * size)
        self.desc = offset
        self.avail = offset + 16 * size
        self.used = (self.avail + 6 + 2 * size + 4095) & ~4095
        self.kick = fe.eventfd()
        self.call = fe.eventfd()
        self.avail_idx = 0
        self.last_used = 0
        self.free_desc = 0

    def add_chain(self, bufs):
        """BUFS: list of (offset, length, device_writable).  Returns the
        head index.  Descriptors are taken round-robin."""
        head = self.free_desc
        for i, (off, length, writable) in enumerate(bufs):
            d = (head + i) % self.size
            flags = VRING_DESC_F_WRITE if writable else 0
            nxt = 0
            if i + 1 < len(bufs):
                flags |= VRING_DESC_F_NEXT
                nxt = (d + 1) % self.size
            struct.pack_into('<QIHH', self.mem.map, self.desc + 16 * d,
                             self.mem.gpa(off), length, flags, nxt)
        self.free_desc = (head + len(bufs)) % self.size
        return head

    def write_desc(self, i, addr, length, flags, nxt):
        """A raw descriptor, for malformed chains."""
        struct.pack_into('<QIHH', self.mem.map, self.desc + 16 * i, addr,
                         length, flags, nxt)

    def publish(self, head):
        slot = self.avail_idx % self.size
        struct.pack_into('<H', self.mem.map, self.avail + 4 + 2 * slot, head)
        self.avail_idx = (self.avail_idx + 1) & 0xffff
        struct.pack_into('<H', self.mem.map, self.avail + 2, self.avail_idx)

    def notify(self):
        os.eventfd_write(self.kick, 1)

    def used_idx(self):
        return self.mem.u16(self.used + 2)

    def wait_used(self, count=1, timeout=10):
        """Wait (on the call eventfd, with a polling fallback) until COUNT
        more used entries appeared; returns [(id, len)]."""
        deadline = time.monotonic() + timeout
        target = (self.last_used + count) & 0xffff
        while ((self.used_idx() - self.last_used) & 0xffff) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError('queue %d: used idx %d, waiting for %d'
                                   % (self.index, self.used_idx(), target))
            select.select([self.call], [], [], min(left, 0.05))
            try:
                os.eventfd_read(self.call)
            except BlockingIOError:
                pass
        out = []
        for _ in range(count):
            slot = self.last_used % self.size
            out.append(struct.unpack_from('<II', self.mem.map,
                                          self.used + 4 + 8 * slot))
            self.last_used = (self.last_used + 1) & 0xffff
        return out

    # ------------------------------------------------------- virtio-blk

    def blk_submit(self, req_type, sector, data=b'', read_len=0):
        """Queue one request; returns (head, hdr_off, data_off, status_off)."""
        hdr = self.mem.alloc(16, 16)
        self.mem.write(hdr, struct.pack('<IIQ', req_type, 0, sector))
        bufs = [(hdr, 16, False)]
        data_off = None
        if data:
            data_off = self.mem.alloc(len(data))
            self.mem.write(data_off, data)
            bufs.append((data_off, len(data), False))
        elif read_len:
            data_off = self.mem.alloc(read_len)
            bufs.append((data_off, read_len, True))
        status = self.mem.alloc(1, 1)
        self.mem.write(status, b'\xff')
        bufs.append((status, 1, True))
        head = self.add_chain(bufs)
        self.publish(head)
        return head, hdr, data_off, status

    def blk_request(self, req_type, sector, data=b'', read_len=0,
                    timeout=10):
        """One request, waited for: (status, data read or None, used len)."""
        head, _, data_off, status = self.blk_submit(req_type, sector, data,
                                                    read_len)
        self.notify()
        ((uid, ulen),) = self.wait_used(1, timeout)
        assert uid == head, 'used id %d, expected %d' % (uid, head)
        got = self.mem.read(data_off, read_len) if read_len else None
        return self.mem.read(status, 1)[0], got, ulen

    def blk_read(self, sector, length, timeout=10):
        st, data, _ = self.blk_request(BLK_T_IN, sector, read_len=length,
                                       timeout=timeout)
        return st, data

    def blk_write(self, sector, data, timeout=10):
        st, _, _ = self.blk_request(BLK_T_OUT, sector, data=data,
                                    timeout=timeout)
        return st


def fd_count(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def map_count(pid):
    with open('/proc/%d/maps' % pid) as f:
        return sum(1 for _ in f)


class InflightRegion:
    """The INFLIGHT_SHMFD region a frontend keeps for its backend: created
    by the backend (GET_INFLIGHT_FD), handed back with SET_INFLIGHT_FD.
    Tests read it, and write it as a crashed backend would have left it."""

    HDR = struct.Struct('<QHHHH')   # features, version, desc_num,
    #                                 last_batch_head, used_idx
    DESC = struct.Struct('<B5xHQ')  # inflight, next, counter

    def __init__(self, fe, num_queues, queue_size):
        fe.send(GET_INFLIGHT_FD, struct.pack('<QQHHI', 0, 0, num_queues,
                                             queue_size, 0))
        self.payload, fds = fe.reply(GET_INFLIGHT_FD)
        assert len(fds) == 1, fds
        self.fd = fds[0]
        self.size, self.offset = struct.unpack_from('<QQ', self.payload)
        self.queue_size = queue_size
        self.stride = self.size // num_queues

    def close(self):
        os.close(self.fd)

    def set_fd(self, fe):
        fe.request(SET_INFLIGHT_FD, self.payload, [self.fd])

    def header(self, q):
        return self.HDR.unpack(os.pread(self.fd, self.HDR.size,
                                        q * self.stride))

    def set_header(self, q, version, last_batch_head, used_idx):
        os.pwrite(self.fd, self.HDR.pack(0, version, self.queue_size,
                                         last_batch_head, used_idx),
                  q * self.stride)

    def desc(self, q, head):
        return self.DESC.unpack(os.pread(self.fd, self.DESC.size,
                                         q * self.stride + 16 + 16 * head))

    def set_desc(self, q, head, inflight, nxt, counter):
        os.pwrite(self.fd, self.DESC.pack(inflight, nxt, counter),
                  q * self.stride + 16 + 16 * head)
