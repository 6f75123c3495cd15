#!/usr/bin/python3
"""Functional: live migration of a guest doing I/O on a vhost-user-blk disk.

Two sides, A and B, each a qemu-remote backend (QR_VHOST_USER_BACKEND=qsd:
qemu-storage-daemon) serving the same image file (locking=off, as two
processes must share it).  The guest boots on side A and does verified I/O
in rounds (fio pattern writes read back and compared); the test migrates
it A -> B -> A -> ... MIGRATIONS times, each time to a new QEMU started
with -incoming on the other side, while the I/O runs.  The backend of the
source logs every page it writes into guest memory (LOG_SHMFD) so QEMU
re-sends them.  After each migration, with both QEMUs stopped, the guest
memory of the destination must equal the source's (a page the backend
wrote without logging it would differ).  Afterwards: no error in the
guest, and the image holds the last round's pattern.
"""

import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                'lib'))
import guest  # noqa: E402
import machine  # noqa: E402
import qmp  # noqa: E402
import tap  # noqa: E402
import vhostuser  # noqa: E402

MiB = 1 << 20
DISK_SIZE = 32 * MiB
MIGRATIONS = 4
MEMORY = 512
TIMEOUT = 600
MIGRATE_TIMEOUT = 120
# Let the guest's I/O run on each side for at least this many rounds.
ROUNDS_PER_SIDE = 2
# Debian's QEMU 7.2 under TCG sometimes fails to re-send guest pages the
# guest's CPUs wrote during a migration when a vhost-user device is present
# (qemu-storage-daemon as much as qemu-remote; never without the device):
# comparing the guest memory of the stopped source and the paused
# destination found lost pages in about one migration in ten with one vCPU
# and one in three with two; on a busier host, one vCPU, 4 in 16 with
# qemu-remote and 4 in 8 with qemu-storage-daemon (1 to 10 pages, all within
# 2 MiB near the top of guest RAM, 0x1dd00000-0x1df80000).  So the test
# compares the memory after every migration and tries again when pages
# differ; the guest has one vCPU to keep retries rare.  The comparison also
# catches pages our backend wrote without logging them, though a rare such
# miss would pass as one more retry (each retry is reported).
GUEST_SMP = '1'
MIGRATE_ATTEMPTS = 3


def guest_memory_fd(pid):
    """An fd of QEMU PID's guest RAM (its memory-backend-memfd)."""
    d = '/proc/%d/fd' % pid
    for name in os.listdir(d):
        try:
            target = os.readlink(os.path.join(d, name))
        except OSError:
            continue
        if target.startswith('/memfd:memory-backend-memfd'):
            return os.open(os.path.join(d, name), os.O_RDONLY)
    raise AssertionError('QEMU %d has no memfd guest RAM' % pid)


def differing_pages(src_pid, dst_pid):
    """Guest-physical addresses of the 4 KiB pages whose contents differ
    between two QEMUs (both stopped), in RAM order."""
    a, b = guest_memory_fd(src_pid), guest_memory_fd(dst_pid)
    lost = []
    try:
        chunk = 1 << 20
        for off in range(0, MEMORY << 20, chunk):
            x, y = os.pread(a, chunk, off), os.pread(b, chunk, off)
            if x != y:
                lost += [off + k for k in range(0, chunk, 4096)
                         if x[k:k + 4096] != y[k:k + 4096]]
    finally:
        os.close(a)
        os.close(b)
    return lost


class Console:
    """Every QEMU's serial output, in order, with round tracking."""

    def __init__(self):
        self.rounds = 0
        self.cond = threading.Condition()

    def line(self, text):
        if text.startswith('round='):
            with self.cond:
                self.rounds = int(text.split('=')[1])
                self.cond.notify_all()

    def wait_round(self, n, timeout, alive):
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.rounds < n:
                if not alive() or time.monotonic() > deadline:
                    return False
                self.cond.wait(0.5)
        return True


class Side:
    """One side: a backend and the QEMUs started against it."""

    def __init__(self, name, tmp, image, spawn):
        self.name = name
        self.sock = os.path.join(tmp, 'vhost-%s.sock' % name)
        argv = vhostuser.backend_argv(image, self.sock, 2, locking=False,
                                      eid='exp-' + name)
        self.backend = spawn('backend-' + name, argv, daemon=True)
        deadline = time.monotonic() + vhostuser.SOCKET_TIMEOUT
        while not os.path.exists(self.sock):
            if not self.backend.running() or time.monotonic() > deadline:
                raise RuntimeError('backend %s did not start:\n%s'
                                   % (name, self.backend.result().describe()))
            time.sleep(0.01)


class Migration:
    def __init__(self, tmp, image_):
        self.tmp = tmp
        self.image_ = image_
        self.procs = []
        self.console = Console()
        self.readers = []
        self.qemus = 0
        self.lost_pages = []    # per retried migration: the pages QEMU lost

    def spawn(self, name, argv, pass_fds=(), daemon=False):
        p = machine.Process(name, argv, self.tmp, pass_fds, None, daemon)
        self.procs.append(p)
        return p

    def start_qemu(self, side, incoming=None):
        """A QEMU on SIDE (booting, or waiting for INCOMING); returns
        (process, qmp client)."""
        n = self.qemus
        self.qemus += 1
        m = machine.Machine(self.image_, vhostuser.guest_rounds_script(),
                            memory=MEMORY, args=['-smp', GUEST_SMP])
        script = os.path.join(self.tmp, 'test.sh')
        with open(script, 'w') as f:
            f.write(m.script)
        rfd, wfd = os.pipe()
        qmp_path = os.path.join(self.tmp, 'qmp-%d.sock' % n)
        argv = m.vmm_argv('tcg', wfd, script) + [
            '-chardev', 'socket,id=vu,path=%s,reconnect=1' % side.sock,
            '-device', 'vhost-user-blk-pci,id=vblk0,chardev=vu,num-queues=2',
            '-qmp', 'unix:%s,server=on,wait=off' % qmp_path]
        if incoming:
            argv += ['-incoming', incoming]
        p = self.spawn('qemu-%d-%s' % (n, side.name), argv, pass_fds=[wfd])
        os.close(wfd)
        self.readers.append(machine._ConsoleReader(rfd, self.console.line))
        deadline = time.monotonic() + 30
        while True:
            try:
                c = qmp.Client(qmp_path, timeout=MIGRATE_TIMEOUT)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if not p.running() or time.monotonic() > deadline:
                    raise RuntimeError('QEMU did not start:\n%s'
                                       % p.result().describe())
                time.sleep(0.05)
        c.command('qmp_capabilities')
        return p, c

    def migrate(self, src, dst_side):
        """Migrates the running guest of SRC (process, qmp) to a new QEMU on
        DST_SIDE; returns the new (process, qmp).  The destination is kept
        paused until its guest memory is checked equal to the source's;
        on a difference the source resumes and the migration is tried
        again (MIGRATE_ATTEMPTS), counting the retry."""
        for attempt in range(MIGRATE_ATTEMPTS):
            dst = self.migrate_paused(src, dst_side)
            lost = differing_pages(src[0].pid, dst[0].pid)
            if not lost:
                dst[1].command('cont')
                src[1].command('quit')
                src[1].close()
                if src[0].wait(30) is None:
                    raise AssertionError('source QEMU did not quit')
                return dst
            self.lost_pages.append(lost)
            tap.diag('migration attempt %d: %d guest pages differ between '
                     'source and destination (%s): retrying'
                     % (attempt + 1, len(lost),
                        ', '.join('0x%x' % p for p in lost[:8])))
            dst[1].command('quit')
            dst[1].close()
            dst[0].wait(30)
            src[1].command('cont')
        raise AssertionError('guest memory differed after %d migration '
                             'attempts:\n%s' % (MIGRATE_ATTEMPTS,
                                                self.describe()))

    def migrate_paused(self, src, dst_side):
        """One migration of SRC's guest into a new, paused QEMU."""
        uri = 'unix:' + os.path.join(self.tmp, 'mig-%d.sock' % self.qemus)
        dst = self.start_qemu(dst_side, incoming=uri)
        dst[1].command('stop')          # no autostart once it has arrived
        src[1].command('migrate', uri=uri)
        deadline = time.monotonic() + MIGRATE_TIMEOUT
        while True:
            st = src[1].command('query-migrate').get('status')
            if st == 'completed':
                break
            if st in ('failed', 'cancelled') or \
                    time.monotonic() > deadline:
                raise AssertionError('migration %s:\n%s' % (
                    st, src[0].result().describe()))
            time.sleep(0.1)
        # 'completed' on the source: the destination may still be loading.
        while dst[1].command('query-status')['status'] != 'paused':
            if not dst[0].running() or time.monotonic() > deadline:
                raise AssertionError('destination did not arrive:\n%s'
                                     % dst[0].result().describe())
            time.sleep(0.05)
        return dst

    def text(self):
        return ''.join(r.text() for r in self.readers)

    def cleanup(self):
        for p in reversed(self.procs):
            p.stop(expected=p.daemon)
        for r in self.readers:
            r.close()
        with open(os.path.join(self.tmp, 'console.txt'), 'w') as f:
            f.write(self.text())

    def describe(self):
        out = [p.result().describe() for p in self.procs]
        out.append('console:')
        out += ['  ' + ln for ln in self.text().splitlines()[-60:]]
        return '\n'.join(out)


def test_guest_migrated_back_and_forth_keeps_its_io_correct():
    why = vhostuser.backend_lacks()
    if why:
        raise tap.Skip(why)
    try:
        image_ = guest.build()
    except guest.Unavailable as e:
        raise tap.Skip(str(e))
    tmp = tempfile.mkdtemp(prefix='qr-vu-migrate-')
    try:
        run_migrations(tmp, image_)
    finally:
        if os.environ.get('QR_FUNCTIONAL_KEEP'):
            tap.diag('kept %s' % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run_migrations(tmp, image_):
    if True:
        disk = os.path.join(tmp, 'disk.img')
        with open(disk, 'wb') as f:
            f.truncate(DISK_SIZE)
        mig = Migration(tmp, image_)
        try:
            sides = [Side('a', tmp, disk, mig.spawn),
                     Side('b', tmp, disk, mig.spawn)]
            cur = mig.start_qemu(sides[0])
            done = 0
            for i in range(MIGRATIONS):
                target = mig.console.rounds + ROUNDS_PER_SIDE
                assert mig.console.wait_round(target, TIMEOUT,
                                              cur[0].running), \
                    mig.describe()
                cur = mig.migrate(cur, sides[(i + 1) % 2])
                done += 1
                tap.diag('migration %d to side %s during round %d'
                         % (done, sides[(i + 1) % 2].name,
                            mig.console.rounds + 1))
            assert mig.console.wait_round(mig.console.rounds + 2, TIMEOUT,
                                          cur[0].running), mig.describe()
            vhostuser.write_stop_mark(disk)
            cur[1].close()
            assert cur[0].wait(TIMEOUT) is not None, mig.describe()
            for r in mig.readers:
                r.join(machine.EXIT_GRACE)
            status, output = machine.parse_console(mig.text())
            why = mig.describe()
            assert status == 0, why
            rounds = None
            for line in output.splitlines():
                if line.startswith('rounds='):
                    rounds = int(line.split('=')[1])
            tap.diag('%d migrations; guest rounds: %s; retried because QEMU '
                     'lost guest pages: %d' % (done, rounds,
                                               len(mig.lost_pages)))
            bad = vhostuser.check_image(disk, rounds)
            assert not bad, 'blocks not holding round %d: %s\n%s' % (
                rounds, bad[:16], why)
            for s in sides:
                s.backend.stop(expected=True)
                assert s.backend.result().rc == 0, why
        finally:
            mig.cleanup()


if __name__ == '__main__':
    tap.main([test_guest_migrated_back_and_forth_keeps_its_io_correct])
