#!/usr/bin/python3
"""Build a bootable FAT disk image: syslinux, a kernel, an initrd, a config.

No mounting and no loop devices: mtools writes the FAT file system into a
plain file and syslinux (the mtools-based installer) writes its boot sector
and ldlinux.sys into it.  The image has no partition table (SeaBIOS boots a
"superfloppy" disk from its first sector).

Usage: mkbootdisk.py IMAGE KERNEL INITRD [APPEND...]
"""

import os
import subprocess
import sys

# Room for Debian's kernel (~8 MiB) and the tiny initramfs (~1 MiB).
DEFAULT_SIZE_MIB = 16


def _run(argv):
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError('%s failed (status %d): %s'
                           % (' '.join(argv), p.returncode, p.stderr.strip()))


def syslinux_cfg(append):
    """A config that boots KERNEL/INITRD at once with APPEND."""
    return ('DEFAULT linux\n'
            'PROMPT 0\n'
            'TIMEOUT 0\n'
            'LABEL linux\n'
            '  KERNEL vmlinuz\n'
            '  INITRD initrd.gz\n'
            '  APPEND %s\n' % append)


def make_bootdisk(image, kernel, initrd, append, size_mib=DEFAULT_SIZE_MIB):
    """Write IMAGE (SIZE_MIB MiB): FAT, syslinux, KERNEL as vmlinuz, INITRD as
    initrd.gz, syslinux.cfg booting them with kernel arguments APPEND.
    Raises RuntimeError naming the tool that failed."""
    with open(image, 'wb') as f:
        f.truncate(size_mib << 20)
    _run(['mformat', '-i', image, '-v', 'QRBOOT', '::'])
    _run(['syslinux', '--install', image])
    cfg = image + '.cfg'
    try:
        with open(cfg, 'w') as f:
            f.write(syslinux_cfg(append))
        for src, dst in ((kernel, 'vmlinuz'), (initrd, 'initrd.gz'),
                         (cfg, 'syslinux.cfg')):
            _run(['mcopy', '-i', image, src, '::' + dst])
    finally:
        os.unlink(cfg)


def main():
    if len(sys.argv) < 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    make_bootdisk(sys.argv[1], sys.argv[2], sys.argv[3], ' '.join(sys.argv[4:]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
