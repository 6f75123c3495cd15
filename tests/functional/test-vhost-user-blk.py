#!/usr/bin/python3
"""Functional: a Linux guest's own virtio_blk driver on a qemu-remote
export over vhost-user (QR_VHOST_USER_BACKEND=qsd: qemu-storage-daemon).

One boot, interrupt-driven (vhost-user delivers interrupts under TCG):
the guest finds the disk, runs fio with --verify on both queues, then
makes an ext2 file system, mounts it, copies files, checks their md5sums,
and unmounts.  The host then checks the file system with e2fsck -n.
"""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                'lib'))
import guest  # noqa: E402
import machine  # noqa: E402
import tap  # noqa: E402
import vhostuser  # noqa: E402

MiB = 1 << 20
DISK_SIZE = 64 * MiB
TIMEOUT = 600

SCRIPT = r'''
set -e
echo "capacity=$(cat /sys/block/vda/size)"
echo "queues=$(ls /sys/block/vda/mq | wc -l)"
fio --name=verify --filename=/dev/vda --direct=1 --ioengine=libaio \
    --iodepth=32 --numjobs=2 --rw=randwrite --bs=4k --size=16M \
    --offset_increment=16M --verify=crc32c --do_verify=1 --verify_fatal=1 \
    --group_reporting > /tmp/fio.log 2>&1 || { cat /tmp/fio.log; exit 1; }
echo "fio=ok"
mkfs.ext2 -q -F /dev/vda
mkdir -p /mnt
mount -t ext2 /dev/vda /mnt
mkdir /mnt/files
mkdir /mnt/files/lib /rand
dd if=/dev/urandom of=/rand/random.bin bs=1M count=8 2>/dev/null
cp -a /bin /usr /rand /mnt/files/
cp -a /lib/modules /mnt/files/lib/
( cd / && find bin usr lib/modules rand -type f | sort | xargs md5sum ) > /tmp/want.md5
( cd /mnt/files && find bin usr lib/modules rand -type f | sort | xargs md5sum ) \
    > /tmp/got.md5
cmp /tmp/want.md5 /tmp/got.md5
echo "files=$(wc -l < /tmp/want.md5)"
umount /mnt
echo 3 > /proc/sys/vm/drop_caches
mount -t ext2 -o ro /dev/vda /mnt
( cd /mnt/files && find bin usr lib/modules rand -type f | sort | xargs md5sum ) \
    > /tmp/again.md5
cmp /tmp/want.md5 /tmp/again.md5
umount /mnt
sync
if dmesg | grep -i -E 'i/o error|blk_update_request|ext[24]-fs error'; then
    exit 3
fi
echo "ext2=ok"
'''


def test_linux_driver_fio_verify_and_ext2():
    why = vhostuser.backend_lacks()
    if why:
        raise tap.Skip(why)
    try:
        image_ = guest.build()
    except guest.Unavailable as e:
        raise tap.Skip(str(e))
    with tempfile.TemporaryDirectory(prefix='qr-vu-blk-') as tmp:
        disk_path = os.path.join(tmp, 'disk.img')
        with open(disk_path, 'wb') as f:
            f.truncate(DISK_SIZE)
        disk = vhostuser.Disk(disk_path, num_queues=2)
        res = machine.Machine(image_, SCRIPT, devices=[disk], timeout=TIMEOUT,
                              args=['-smp', '2']).run()
        why = res.describe()
        assert not res.timed_out and res.status == 0, why
        assert res.value('capacity') == str(DISK_SIZE // 512), why
        assert res.value('queues') == '2', why
        assert res.value('ext2') == 'ok', why
        tap.diag('files copied and verified: %s' % res.value('files'))
        fsck = subprocess.run(['e2fsck', '-n', '-f', disk_path],
                              capture_output=True, text=True)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        backend = [p for n, p in res.processes.items()
                   if n.startswith('backend')]
        assert backend and all(p.rc == 0 for p in backend), why


if __name__ == '__main__':
    tap.main([test_linux_driver_fio_verify_and_ext2])
