#!/usr/bin/env python3
"""In-flight recovery (INFLIGHT_SHMFD) through a real qemu-remote process.

Our frontend plays QEMU across a backend crash: it keeps the guest memory
and the in-flight region, writes into them what a backend that died at a
chosen moment would have left behind, and reconnects as QEMU does (the
ring base it sends is used->idx, its only guess).  The new session must
complete every request the dead backend had popped exactly once and carry
on with the avail ring after them.  The functional test kills a real
backend at random moments; these stories pin each moment down.
"""

import os
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'functional', 'lib'))

import tap  # noqa: E402
from backend import Backend, make_image, qemu_remote_lacks_exports  # noqa
from vuclient import *  # noqa: E402,F403

DISK_SIZE = 4 << 20
MEM_SIZE = 4 << 20
QSIZE = 64
FEATURES = F_VERSION_1 | F_PROTOCOL_FEATURES


def block(n):
    return struct.pack('<Q', n) * 512


def image_block(path, sector):
    with open(path, 'rb') as f:
        f.seek(sector * 512)
        return f.read(4096)


class Crash:
    """A session that ends after one completed write, leaving a second
    request in the avail ring that no backend has processed yet."""

    def __init__(self, tmp):
        self.image = make_image(os.path.join(tmp, 'disk.img'), DISK_SIZE)
        self.be = Backend.qemu_remote(tmp, [('a', self.image)])
        self.mem = GuestMemory(MEM_SIZE)
        fe = Frontend(self.be.socket('a'))
        fe.handshake(FEATURES)
        fe.add_mem(self.mem)
        self.region = InflightRegion(fe, 1, QSIZE)
        self.region.set_fd(fe)
        self.q = fe.start_queue(self.mem, 0, QSIZE)
        assert self.q.blk_write(0, block(1)) == BLK_S_OK
        self.first_head = self.q.free_desc - 3     # header, data, status
        # The guest submits another write; the kick never reaches anyone.
        self.head = self.q.blk_submit(BLK_T_OUT, 8, block(2))[0]
        fe.close()
        self.fe = None

    def reconnect(self, base):
        """QEMU after the restart: same memory, same region, base = its
        guess; returns the queue as the new session runs it."""
        self.fe = Frontend(self.be.socket('a'))
        self.fe.handshake(FEATURES)
        self.fe.add_mem(self.mem)
        self.region.set_fd(self.fe)
        q = self.fe.start_queue(self.mem, 0, QSIZE, base=base,
                                offset=self.q.desc)
        q.avail_idx = self.q.avail_idx
        return q

    def close(self):
        if self.fe:
            self.fe.close()
        self.region.close()
        self.mem.close()
        assert self.be.stop() == 0, self.be.stderr()


def with_crash(story):
    def test():
        why = qemu_remote_lacks_exports()
        if why:
            raise tap.Skip(why)
        with tempfile.TemporaryDirectory(prefix='qr-inflight-') as tmp:
            c = Crash(tmp)
            try:
                story(c)
            finally:
                c.close()
    test.__name__ = story.__name__
    return test


@with_crash
def test_request_popped_by_the_dead_backend_is_resubmitted(c):
    # The dead backend had popped the second request (avail entry 1) and
    # started it: marked in flight, counter after the first one's.
    c.region.set_desc(0, c.head, 1, 0, 2)

    q = c.reconnect(base=1)

    # Completed once, without a kick, and the avail ring goes on after it.
    assert q.wait_used(1) == [(c.head, 1)]
    assert c.fe.get_vring_base(0) == 2
    assert q.used_idx() == 2
    assert image_block(c.image, 8) == block(2)


@with_crash
def test_request_the_dead_backend_had_not_popped_is_taken_from_avail(c):
    q = c.reconnect(base=1)
    q.notify()

    assert q.wait_used(1) == [(c.head, 1)]
    assert c.fe.get_vring_base(0) == 2
    assert image_block(c.image, 8) == block(2)


@with_crash
def test_completion_published_before_the_crash_is_not_repeated(c):
    # The dead backend completed the second request and published it in
    # the used ring (used->idx 2), but died before clearing its mark.
    struct.pack_into('<II', c.mem.map, c.q.used + 4 + 8 * 1, c.head, 1)
    struct.pack_into('<H', c.mem.map, c.q.used + 2, 2)
    c.region.set_desc(0, c.head, 1, c.first_head, 2)
    c.region.set_header(0, 1, c.head, 1)

    q = c.reconnect(base=2)

    assert c.fe.get_vring_base(0) == 2
    assert q.used_idx() == 2
    assert c.region.desc(0, c.head)[0] == 0
    assert c.region.header(0)[4] == 2


@with_crash
def test_two_requests_in_flight_are_both_resubmitted(c):
    # Two requests were in flight: the second and a third the guest had
    # added, popped by the dead backend in this order.  (They are started
    # oldest first, but may complete in any order.)
    head3 = c.q.blk_submit(BLK_T_OUT, 16, block(3))[0]
    c.region.set_desc(0, c.head, 1, 0, 2)
    c.region.set_desc(0, head3, 1, 0, 3)

    q = c.reconnect(base=1)

    assert sorted(h for h, _ in q.wait_used(2)) == sorted([c.head, head3])
    assert c.fe.get_vring_base(0) == 3
    assert image_block(c.image, 16) == block(3)


TESTS = [v for k, v in list(globals().items())
         if k.startswith('test_') and callable(v)]

if __name__ == '__main__':
    tap.main(TESTS)
