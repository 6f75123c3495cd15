#!/usr/bin/python3
"""Functional: SeaBIOS boots a Linux guest from a disk behind x-pci-proxy-dev.

The disk is a FAT image made with mtools + syslinux holding the kernel, the
tiny busybox initramfs and a syslinux.cfg whose kernel command line carries
a token made for this run and the test script.  No -kernel: SeaBIOS's own
virtio-blk driver (it polls, so it works without interrupts under TCG)
loads syslinux, which loads the kernel and initrd from the disk.  The guest
printing the token proves every byte came through the proxy.
"""

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

# Firmware + ~9 MiB read through the proxy + a kernel boot, under TCG.
BOOT_TIMEOUT = 180

SCRIPT = '''
echo "cmdline=$(cat /proc/cmdline)"
'''


def seabios_boots_from_disk(kind):
    """The story, with the boot disk served the KIND way."""
    workdir = tempfile.mkdtemp(prefix='qr-test-seabios-')
    try:
        token = 'qr.token=' + os.urandom(8).hex()
        image = os.path.join(workdir, 'boot.img')
        tiny = guest.build_tiny()
        guest.make_bootdisk(image, tiny, ' '.join([
            'console=ttyS0', 'loglevel=4', 'panic=-1', token,
            guest.cmdline_script(SCRIPT)]))
        disk = devices.blk(kind, image)

        res = machine.Machine(None, devices=[disk],
                              timeout=BOOT_TIMEOUT).run()

        res.check()
        cmdline = (res.value('cmdline') or '').split()
        assert token in cmdline, res.describe()
        # syslinux names the kernel it loaded from the FAT file system.
        assert 'BOOT_IMAGE=vmlinuz' in cmdline, res.describe()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_seabios_boots_from_qemu_remote_disk():
    reason = devices.qemu_remote_lacks('virtio-blk-pci')
    if reason:
        raise tap.Skip(reason)
    seabios_boots_from_disk('qemu-remote')


def test_seabios_boots_from_qemu_x_remote_disk():
    seabios_boots_from_disk('x-remote')


if __name__ == '__main__':
    tap.main([test_seabios_boots_from_qemu_remote_disk,
              test_seabios_boots_from_qemu_x_remote_disk])
