#!/usr/bin/python3
"""Functional: a vhost-user-blk export whose four queues run in two
iothreads (iothread-vq-mapping, round-robin: queues 0 and 2 in io0, 1 and 3
in io1), under a Linux guest with four vCPUs doing verified fio.

Each fio job is pinned to its own vCPU, so the guest's blk-mq submits on
all four queues.  qemu-remote logs every completion with its queue and the
thread that completed it (-d block); the test reads the thread ids of io0
and io1 from /proc while the backend runs and checks that each queue was
served by its own iothread, and that both iothreads served requests.
"""

import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                'lib'))
import guest  # noqa: E402
import machine  # noqa: E402
import tap  # noqa: E402
import vhostuser  # noqa: E402

MiB = 1 << 20
DISK_SIZE = 32 * MiB
NUM_QUEUES = 4
TIMEOUT = 600
# The iothread of each queue: the round-robin of two mapping entries.
QUEUE_IOTHREAD = {0: 'io0', 1: 'io1', 2: 'io0', 3: 'io1'}

SCRIPT = r'''
set -e
echo "queues=$(ls /sys/block/vda/mq | wc -l)"
fio --name=verify --filename=/dev/vda --direct=1 --ioengine=libaio \
    --iodepth=16 --numjobs=4 --cpus_allowed=0-3 \
    --cpus_allowed_policy=split --rw=randwrite --bs=4k --size=4M \
    --offset_increment=4M --verify=crc32c --do_verify=1 --verify_fatal=1 \
    --group_reporting > /tmp/fio.log 2>&1 || { cat /tmp/fio.log; exit 1; }
echo "fio=ok"
if dmesg | grep -i -E 'i/o error|blk_update_request'; then
    exit 3
fi
'''

COMPLETION = re.compile(r'virtio-blk: exp0: queue (\d+) head \d+ type \d+ '
                        r'status \d+ \(thread (\d+)\)')


class MappedDisk(vhostuser.Disk):
    """The disk, recording the thread ids of the backend's iothreads once
    the VMM runs (the backend has created them by then)."""

    def __init__(self, image):
        super().__init__(
            image, num_queues=NUM_QUEUES,
            export_opts=',iothread-vq-mapping.0.iothread=io0,'
                        'iothread-vq-mapping.1.iothread=io1',
            extra_args=['-object', 'iothread,id=io0',
                        '-object', 'iothread,id=io1', '-d', 'block'])
        self.tids = {}

    def vmm_started(self, m):
        task = '/proc/%d/task' % self.proc.popen.pid
        for tid in os.listdir(task):
            with open(os.path.join(task, tid, 'comm')) as f:
                name = f.read().strip()
            if name in ('io:io0', 'io:io1'):
                self.tids[int(tid)] = name[3:]


def test_four_queues_in_two_iothreads_under_guest_fio():
    why = vhostuser.backend_lacks()
    if why or vhostuser.backend_kind() != 'qemu-remote':
        raise tap.Skip(why or 'iothread-vq-mapping is qemu-remote\'s')
    try:
        image_ = guest.build()
    except guest.Unavailable as e:
        raise tap.Skip(str(e))
    with tempfile.TemporaryDirectory(prefix='qr-vu-iothreads-') as tmp:
        disk_path = os.path.join(tmp, 'disk.img')
        with open(disk_path, 'wb') as f:
            f.truncate(DISK_SIZE)
        disk = MappedDisk(disk_path)
        res = machine.Machine(image_, SCRIPT, devices=[disk], timeout=TIMEOUT,
                              args=['-smp', str(NUM_QUEUES)]).run()
        why = res.describe()
        assert not res.timed_out and res.status == 0, why
        assert res.value('queues') == str(NUM_QUEUES), why
        assert res.value('fio') == 'ok', why
        assert sorted(disk.tids.values()) == ['io0', 'io1'], disk.tids

        served = {}     # queue -> {iothread name: completions}
        for q, tid in COMPLETION.findall(res.processes['backend-0'].stderr):
            name = disk.tids.get(int(tid), 'thread %s' % tid)
            per_queue = served.setdefault(int(q), {})
            per_queue[name] = per_queue.get(name, 0) + 1
        tap.diag('completions per queue and iothread: %s'
                 % ', '.join('queue %d: %s' % (q, served[q])
                             for q in sorted(served)))
        for q, threads in served.items():
            assert list(threads) == [QUEUE_IOTHREAD[q]], served
        assert {QUEUE_IOTHREAD[q] for q in served} == {'io0', 'io1'}, served
        # SIGTERM at the end: status 0 (a sanitizer build fails it on a
        # report).
        assert res.processes['backend-0'].rc == 0, why


if __name__ == '__main__':
    tap.main([test_four_queues_in_two_iothreads_under_guest_fio])
