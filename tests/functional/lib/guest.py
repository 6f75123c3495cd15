"""The functional-test guest: kernel + initramfs built by ../guest/mkguest.py.

    image = guest.build()            # cached; raises guest.Unavailable
    image.kernel, image.initrd, image.kver
    guest.build_tiny()               # busybox-only initramfs (boot disks)
    guest.make_bootdisk(path, image, append)   # FAT + syslinux disk image
"""

import base64
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'guest'))
import mkbootdisk  # noqa: E402  (path set up above)
import mkguest  # noqa: E402

Unavailable = mkguest.GuestBuildError


class GuestImage:
    def __init__(self, directory, kver, initrd_name='initramfs.cpio.gz'):
        self.dir = directory
        self.kver = kver
        self.kernel = os.path.join(directory, 'vmlinuz')
        self.initrd = os.path.join(directory, initrd_name)

    def __repr__(self):
        return 'GuestImage(%s)' % self.dir


def build(kver=None):
    """Build (or find in the cache) the full test guest: modules, fio, lspci."""
    kver = kver or mkguest.default_kernel()
    return GuestImage(mkguest.build(kver), kver)


def build_tiny(kver=None):
    """The same kernel with a busybox-only initramfs (no modules, no tools):
    small enough to put on a boot disk.  The test script comes from the
    kernel command line (qr.test=BASE64, see cmdline_script())."""
    kver = kver or mkguest.default_kernel()
    return GuestImage(mkguest.build(kver), kver, 'initramfs-tiny.cpio.gz')


def cmdline_script(script):
    """Kernel command-line argument carrying SCRIPT to the guest's /init
    (for guests without fw_cfg, e.g. the tiny one)."""
    return 'qr.test=' + base64.b64encode(script.encode()).decode()


def make_bootdisk(path, image, append):
    """Write a FAT disk image at PATH that boots IMAGE's kernel and initrd
    with syslinux and kernel arguments APPEND (see mkbootdisk.py)."""
    mkbootdisk.make_bootdisk(path, image.kernel, image.initrd, append)
