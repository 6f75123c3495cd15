#!/usr/bin/python3
"""Functional: a Linux guest uses a virtio-blk disk behind x-pci-proxy-dev.

One boot per test, in the polled mode of specs/test-environment.md (no
interrupt from a proxied device reaches a TCG guest).  The guest finds the
device (lspci 1af4:1001, capacity), reads a region the host filled before
boot, writes a pattern the host checks in the backing file after the boot,
and runs fio with --verify=crc32c, all with io_uring --hipri on the polled
queue.  The same story runs against QEMU's own remote, the reference.
"""

import hashlib
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                'lib'))
import devices  # noqa: E402
import guest  # noqa: E402
import machine  # noqa: E402
import tap  # noqa: E402

MiB = 1 << 20
DISK_SIZE = 64 * MiB
# Random bytes the host writes before boot and the guest reads back.
HOST_DATA_OFFSET = 16 * MiB
HOST_DATA_SIZE = 1 * MiB
# fio fills this region with PATTERN; the host checks it after the boot.
PATTERN_OFFSET = 32 * MiB
PATTERN_SIZE = 1 * MiB
PATTERN = bytes.fromhex('71726d74')      # "qrmt"
# fio's crc32c-verified random writes stay inside this region.
VERIFY_OFFSET = 40 * MiB
VERIFY_SIZE = 8 * MiB
# Watchdog for one boot under TCG on a loaded 2-core host.
BOOT_TIMEOUT = 240

FIO = ('fio --filename=/dev/vda --ioengine=io_uring --hipri --direct=1 '
       '--iodepth=1')

SCRIPT = r'''
echo "pci=$(lspci -n -d 1af4:1001)"
echo "capacity=$(cat /sys/block/vda/size)"
echo "io_poll=$(cat /sys/block/vda/queue/io_poll)"
echo "host_md5=$(dd if=/dev/vda bs=64k skip={host_blocks} count={host_count} \
    iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
{fio} --name=pattern --rw=write --bs=64k --offset={pat_off} --size={pat_size} \
    --verify=pattern --verify_pattern=0x{pattern} --do_verify=1 --verify_fatal=1 \
    >> /tmp/fio.log 2>&1
echo "fio_pattern=$?"
{fio} --name=crc --rw=randwrite --bs=4k --offset={ver_off} --size={ver_size} \
    --verify=crc32c --do_verify=1 --verify_fatal=1 >> /tmp/fio.log 2>&1
echo "fio_crc32c=$?"
grep -E 'err=|verify|fio:' /tmp/fio.log
'''.format(fio=FIO, host_blocks=HOST_DATA_OFFSET // (64 << 10),
           host_count=HOST_DATA_SIZE // (64 << 10),
           pat_off=PATTERN_OFFSET, pat_size=PATTERN_SIZE, pattern=PATTERN.hex(),
           ver_off=VERIFY_OFFSET, ver_size=VERIFY_SIZE)


def guest_reads_writes_and_verifies(kind):
    """The story, with the disk served the KIND way (devices.BLK_KINDS)."""
    workdir = tempfile.mkdtemp(prefix='qr-test-virtio-blk-')
    try:
        image = os.path.join(workdir, 'disk.img')
        host_data = os.urandom(HOST_DATA_SIZE)
        with open(image, 'wb') as f:
            f.truncate(DISK_SIZE)
            f.seek(HOST_DATA_OFFSET)
            f.write(host_data)
        disk = devices.blk(kind, image, polled=True)

        res = machine.Machine(guest.build(), script=SCRIPT, devices=[disk],
                              polled=True, timeout=BOOT_TIMEOUT).run()

        res.check()
        why = res.describe()
        assert '1af4:1001' in (res.value('pci') or ''), why
        assert res.value('capacity') == str(DISK_SIZE // 512), why
        assert res.value('io_poll') == '1', why
        assert res.value('host_md5') == hashlib.md5(host_data).hexdigest(), why
        assert res.value('fio_pattern') == '0', why
        assert res.value('fio_crc32c') == '0', why
        with open(image, 'rb') as f:
            f.seek(PATTERN_OFFSET)
            written = f.read(PATTERN_SIZE)
        assert written == PATTERN * (PATTERN_SIZE // len(PATTERN)), \
            'pattern region in the backing file differs\n' + why
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_guest_fio_verify_through_qemu_remote():
    reason = devices.qemu_remote_lacks('virtio-blk-pci')
    if reason:
        raise tap.Skip(reason)
    guest_reads_writes_and_verifies('qemu-remote')


def test_guest_fio_verify_through_qemu_x_remote():
    guest_reads_writes_and_verifies('x-remote')


if __name__ == '__main__':
    tap.main([test_guest_fio_verify_through_qemu_remote,
              test_guest_fio_verify_through_qemu_x_remote])
