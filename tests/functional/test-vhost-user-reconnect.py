#!/usr/bin/python3
"""Functional: a vhost-user-blk backend crashing under a running guest.

One boot.  The guest does verified I/O in rounds (fio pattern writes read
back and compared) on a vhost-user-blk-pci disk served by qemu-remote
(QR_VHOST_USER_BACKEND=qsd: qemu-storage-daemon).  Meanwhile the test kills
the backend with SIGKILL at random moments, KILLS times, starting a new one
on the same socket each time; QEMU (chardev reconnect=1) reconnects and the
new backend resubmits what was in flight (INFLIGHT_SHMFD).  Afterwards:
no I/O error and no verify failure in the guest, and the image holds the
last round's pattern in every block.
"""

import os
import random
import re
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                'lib'))
import guest  # noqa: E402
import machine  # noqa: E402
import tap  # noqa: E402
import vhostuser  # noqa: E402

MiB = 1 << 20
DISK_SIZE = 32 * MiB
KILLS = 6
# Random pause before each kill: long enough for QEMU to reconnect (it
# retries every second) and some requests to be in flight again.
KILL_DELAY = (1.5, 4.0)
BOOT_TIMEOUT = 600


class Killer(threading.Thread):
    """Kills and restarts the backend KILLS times once the guest's I/O
    runs, then waits for a round that started after the last restart to
    finish and writes the stop mark."""

    def __init__(self, disk, image, rng):
        super().__init__(daemon=True)
        self.disk = disk
        self.image = image
        self.rng = rng
        self.rounds = 0
        self.kills = 0
        self.error = None
        self.cond = threading.Condition()
        self.done = threading.Event()

    def console(self, line):
        if line.startswith('round='):
            with self.cond:
                self.rounds = int(line.split('=')[1])
                self.cond.notify_all()

    def wait_round(self, n, timeout):
        with self.cond:
            return self.cond.wait_for(lambda: self.rounds >= n or
                                      self.done.is_set(), timeout)

    def run(self):
        try:
            self.kill_loop()
        except Exception as e:  # reported by the test
            self.error = e
            self.disk.stop_vmm()
        # Backends started here die with this thread (PR_SET_PDEATHSIG):
        # live until the boot is over and the machine has stopped them.
        self.done.wait()

    def kill_loop(self):
        # The guest is in its I/O loop once the first round finished.
        if not self.wait_round(1, BOOT_TIMEOUT):
            return
        while self.kills < KILLS:
            time.sleep(self.rng.uniform(*KILL_DELAY))
            if self.done.is_set() or not self.disk.vmm_running():
                return
            self.disk.restart()
            self.kills += 1
            tap.diag('kill %d during round %d' % (self.kills,
                                                  self.rounds + 1))
        # One full round after the last restart, then stop.
        if self.wait_round(self.rounds + 2, BOOT_TIMEOUT):
            vhostuser.write_stop_mark(self.image)


def resubmitted(res):
    """Requests qemu-remote's restarted backends found in flight (from
    their -d vhost_user trace); '?' for a backend without the trace."""
    if vhostuser.backend_kind() == 'qsd':
        return '?'
    found = re.findall(r'resubmits (\d+) requests',
                       ''.join(p.stderr for p in res.processes.values()))
    return sum(int(n) for n in found)


def test_backend_killed_repeatedly_under_guest_io():
    why = vhostuser.backend_lacks()
    if why:
        raise tap.Skip(why)
    try:
        image_ = guest.build()
    except guest.Unavailable as e:
        raise tap.Skip(str(e))
    seed = int(os.environ.get('QR_TEST_SEED', time.time()))
    tap.diag('random seed %d (QR_TEST_SEED reproduces it)' % seed)
    with tempfile.TemporaryDirectory(prefix='qr-vu-reconnect-') as tmp:
        disk_path = os.path.join(tmp, 'disk.img')
        with open(disk_path, 'wb') as f:
            f.truncate(DISK_SIZE)
        # O_DIRECT keeps each request in the backend long enough that most
        # kills catch some in flight, so resubmission really runs.
        disk = vhostuser.Disk(disk_path, num_queues=2, direct=True,
                              trace=True)
        killer = Killer(disk, disk_path, random.Random(seed))
        vm = machine.Machine(image_, vhostuser.guest_rounds_script(),
                             devices=[disk], timeout=BOOT_TIMEOUT,
                             console=killer.console,
                             args=['-smp', '2'])
        killer.start()
        try:
            res = vm.run()
        finally:
            killer.done.set()
            with killer.cond:
                killer.cond.notify_all()
            killer.join(30)
        why = res.describe()
        assert killer.error is None, '%r\n%s' % (killer.error, why)
        tap.diag('backend killed %d times; guest rounds: %s; requests '
                 'resubmitted after restarts: %s'
                 % (killer.kills, res.value('rounds'), resubmitted(res)))
        assert killer.kills >= KILLS, why
        assert not res.timed_out and res.status == 0, why
        rounds = int(res.value('rounds'))
        bad = vhostuser.check_image(disk_path, rounds)
        assert not bad, 'blocks not holding round %d: %s\n%s' % (
            rounds, bad[:16], why)


if __name__ == '__main__':
    tap.main([test_backend_killed_repeatedly_under_guest_io])
