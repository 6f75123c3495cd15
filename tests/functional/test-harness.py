#!/usr/bin/python3
"""Functional: the boot harness itself (tests/functional/lib).

The setups the benchmarks compare besides the proxy ones (virtio-blk inside
the VMM in the polled mode; vhost-user-blk with qemu-storage-daemon), the
watchdog stopping a hung guest without leaving anything behind, and the
console parser.
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
DISK_SIZE = 32 * MiB
BOOT_TIMEOUT = 240
# Short on purpose: the guest hangs, so the watchdog always fires.
HUNG_TIMEOUT = 20

FIND_AND_READ = r'''
echo "pci=$(lspci -n -d 1af4:1001)"
echo "capacity=$(cat /sys/block/vda/size)"
echo "first_md5=$(dd if=/dev/vda bs=64k count=1 iflag=direct 2>/dev/null \
    | md5sum | cut -d' ' -f1)"
'''

POLLED_FIO = r'''
echo "io_poll=$(cat /sys/block/vda/queue/io_poll)"
fio --name=rr --filename=/dev/vda --ioengine=io_uring --hipri --direct=1 \
    --rw=randread --bs=4k --iodepth=1 --size=4M --number_ios=256 \
    > /tmp/fio.log 2>&1
echo "fio=$?"
'''


def make_disk(workdir):
    """A raw image whose first 64 KiB are random; returns (path, their md5)."""
    path = os.path.join(workdir, 'disk.img')
    data = os.urandom(64 << 10)
    with open(path, 'wb') as f:
        f.truncate(DISK_SIZE)
        f.write(data)
    return path, hashlib.md5(data).hexdigest()


def assert_found_and_read(res, md5):
    res.check()
    why = res.describe()
    assert '1af4:1001' in (res.value('pci') or ''), why
    assert res.value('capacity') == str(DISK_SIZE // 512), why
    assert res.value('first_md5') == md5, why


def test_in_process_virtio_blk_polled_fio():
    workdir = tempfile.mkdtemp(prefix='qr-test-harness-')
    try:
        image, md5 = make_disk(workdir)
        disk = devices.blk('in-process', image, polled=True)

        res = machine.Machine(guest.build(), script=FIND_AND_READ + POLLED_FIO,
                              devices=[disk], polled=True,
                              timeout=BOOT_TIMEOUT).run()

        assert_found_and_read(res, md5)
        assert res.value('io_poll') == '1', res.describe()
        assert res.value('fio') == '0', res.describe()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_vhost_user_blk_from_qemu_storage_daemon():
    if not shutil.which(devices.QSD):
        raise tap.Skip('%s not installed' % devices.QSD)
    workdir = tempfile.mkdtemp(prefix='qr-test-harness-')
    try:
        image, md5 = make_disk(workdir)
        disk = devices.blk('vhost-user', image)

        res = machine.Machine(guest.build(), script=FIND_AND_READ,
                              devices=[disk], timeout=BOOT_TIMEOUT).run()

        assert_found_and_read(res, md5)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_hung_guest_stopped_by_watchdog():
    workdir = tempfile.mkdtemp(prefix='qr-test-harness-')
    try:
        image, _ = make_disk(workdir)
        disk = devices.blk('x-remote', image)
        vm = machine.Machine(guest.build(), script='echo hanging\nsleep 100000\n',
                             devices=[disk], timeout=HUNG_TIMEOUT)

        res = vm.run()

        why = res.describe()
        assert res.timed_out and res.status is None, why
        assert res.processes['qemu'].killed, why
        # The remote exits by itself once the VMM's end of the socket closes.
        assert res.processes['remote'].rc == 0, why
        assert not res.processes['remote'].killed, why
        for p in res.processes.values():
            assert p.rc is not None, why
        assert not os.path.exists(vm.workdir), vm.workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_console_markers_give_status_and_output():
    console = ('[    1.0] kernel noise\r\n' + machine.BEGIN_MARKER + '\r\n'
               'a=1\r\nb=2\r\n@@@qr-test-end status=3@@@\r\n[ 2.0] Power down\r\n')

    status, output = machine.parse_console(console)

    assert status == 3, status
    assert output == 'a=1\nb=2\n', repr(output)


def test_console_without_end_marker_has_no_status():
    console = machine.BEGIN_MARKER + '\npartial\n'

    status, output = machine.parse_console(console)

    assert status is None, status
    assert output == 'partial\n', repr(output)


if __name__ == '__main__':
    tap.main([test_console_markers_give_status_and_output,
              test_console_without_end_marker_has_no_status,
              test_in_process_virtio_blk_polled_fio,
              test_vhost_user_blk_from_qemu_storage_daemon,
              test_hung_guest_stopped_by_watchdog])
