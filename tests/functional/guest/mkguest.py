#!/usr/bin/python3
"""Build the functional-test guest from the host's Debian packages.

The guest is Debian's kernel (linux-image-amd64) plus an initramfs holding
busybox-static, the kernel modules the tests need (resolved with
`modprobe -S VER --show-depends`, loaded in that order by /init), a few host
tools copied with every library ldd lists (fio, lspci, mkfs.ext2, e2fsck) and
the /init script next to this file.

The result is cached outside the repository in
  ${QEMU_REMOTE_GUEST_CACHE:-${XDG_CACHE_HOME:-~/.cache}/qemu-remote}/
      guest-<kernel version>-<hash of this folder's files>/
          vmlinuz, initramfs.cpio.gz, initramfs-tiny.cpio.gz (busybox only)
so a new kernel or an edit of these scripts builds a new guest.  Builds are
serialised with a lock file and published with an atomic rename, so tests
running in parallel share one build.

Usage: mkguest.py [--kernel VER] [--force]   prints the cache directory.
"""

import argparse
import fcntl
import gzip
import hashlib
import io
import lzma
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Modules the tests load.  Dependencies are added by modprobe; order matters.
MODULES = ['virtio_pci', 'virtio_blk', 'virtio_net', 'qemu_fw_cfg', 'nvme',
           'ext4']

# Host tools copied into the guest with their libraries (busybox covers the
# rest: sh, dd, md5sum, hexdump, mount, ...).
TOOLS = ['fio', 'lspci', 'mkfs.ext2', 'e2fsck']

# Data files the tools read (lspci's device names).
DATA_FILES = ['/usr/share/misc/pci.ids']

BUSYBOX = '/bin/busybox'

# Guests not used for this long are removed when another one is built (each
# edit of these scripts makes a new ~45 MiB guest).
PRUNE_AFTER_DAYS = 2


class GuestBuildError(Exception):
    """The host lacks something the guest needs (a package, a module)."""


def cache_root():
    """Where guests are cached (env QEMU_REMOTE_GUEST_CACHE overrides)."""
    root = os.environ.get('QEMU_REMOTE_GUEST_CACHE')
    if root:
        return root
    xdg = os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache')
    return os.path.join(xdg, 'qemu-remote')


def installed_kernels():
    """Kernel versions with both /boot/vmlinuz-VER and /lib/modules/VER."""
    vers = []
    for name in os.listdir('/boot'):
        if name.startswith('vmlinuz-'):
            ver = name[len('vmlinuz-'):]
            if os.path.isdir(os.path.join('/lib/modules', ver)):
                vers.append(ver)
    return sorted(vers, key=_version_key)


def _version_key(ver):
    return [int(p) if p.isdigit() else p for p in re.split(r'[.-]', ver)]


def default_kernel():
    """The newest installed kernel (env QEMU_REMOTE_GUEST_KERNEL overrides)."""
    ver = os.environ.get('QEMU_REMOTE_GUEST_KERNEL')
    if ver:
        return ver
    vers = installed_kernels()
    if not vers:
        raise GuestBuildError('no kernel in /boot with modules in /lib/modules '
                              '(install linux-image-amd64)')
    return vers[-1]


def scripts_hash():
    """Hash of every file in this folder: editing a script rebuilds."""
    h = hashlib.sha256()
    for name in sorted(os.listdir(HERE)):
        path = os.path.join(HERE, name)
        if os.path.isfile(path) and not name.endswith('.pyc'):
            h.update(name.encode() + b'\0')
            with open(path, 'rb') as f:
                h.update(f.read())
    return h.hexdigest()[:12]


def guest_dir(kver):
    return os.path.join(cache_root(), 'guest-%s-%s' % (kver, scripts_hash()))


# ---------------------------------------------------------------- cpio newc

class Cpio:
    """A cpio archive in the kernel's "newc" format, written in memory.

    Written here rather than with cpio(1) so that entries can be root-owned
    device nodes without running as root, and the output is reproducible."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1
        self.names = set()

    def _entry(self, name, mode, data=b'', rdev=(0, 0)):
        name = name.lstrip('/')
        if name in self.names:
            return
        self.names.add(name)
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(name) + 1, 0]
        self.ino += 1
        hdr = b'070701' + b''.join(b'%08x' % v for v in fields)
        self.buf.write(hdr + name.encode() + b'\0')
        self._pad()
        self.buf.write(data)
        self._pad()

    def _pad(self):
        self.buf.write(b'\0' * (-self.buf.tell() % 4))

    def mkdir(self, name):
        parts = name.strip('/').split('/')
        for i in range(1, len(parts) + 1):
            self._entry('/'.join(parts[:i]), stat.S_IFDIR | 0o755)

    def _parent(self, name):
        parent = os.path.dirname(name.strip('/'))
        if parent:
            self.mkdir(parent)

    def file(self, name, data, mode=0o644):
        self._parent(name)
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._parent(name)
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor):
        self._parent(name)
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def finish(self):
        self._entry('TRAILER!!!', 0)
        return self.buf.getvalue()


# ---------------------------------------------------------------- contents

def module_paths(kver, modules):
    """Module files for MODULES and their dependencies, in load order."""
    paths = []
    for mod in modules:
        try:
            out = subprocess.run(['modprobe', '-S', kver, '--show-depends', mod],
                                 check=True, capture_output=True,
                                 text=True).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            raise GuestBuildError('modprobe --show-depends %s failed: %s'
                                  % (mod, getattr(e, 'stderr', e)))
        for line in out.splitlines():
            words = line.split()
            # "builtin MOD" needs nothing; "insmod PATH [params]" is a file.
            if len(words) >= 2 and words[0] == 'insmod' and words[1] not in paths:
                paths.append(words[1])
    return paths


def module_data(path):
    """The uncompressed module (busybox insmod reads plain .ko files)."""
    with open(path, 'rb') as f:
        data = f.read()
    if path.endswith('.xz'):
        return lzma.decompress(data)
    if path.endswith('.gz'):
        return gzip.decompress(data)
    if path.endswith('.zst'):
        return subprocess.run(['zstd', '-dc', path], check=True,
                              capture_output=True).stdout
    return data


def library_paths(binary):
    """Every shared library (and the loader) ldd lists for BINARY."""
    out = subprocess.run(['ldd', binary], check=True, capture_output=True,
                         text=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.search(r'=>\s*(/\S+)', line) or re.match(r'\s*(/\S+)', line)
        if m:
            libs.append(m.group(1))
    return libs


def which(tool):
    path = shutil.which(tool, path='/usr/sbin:/usr/bin:/sbin:/bin')
    if not path:
        raise GuestBuildError('%s not found on the host (see scripts/install-deps.sh)'
                              % tool)
    return path


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def build_initramfs(kver, full=True):
    """The initramfs as cpio bytes: busybox and /init, plus, when FULL, the
    modules and tools (the tiny variant is for boot disks)."""
    cpio = Cpio()
    for d in ['dev', 'proc', 'sys', 'tmp', 'run', 'etc', 'root',
              'bin', 'sbin', 'usr/bin', 'usr/sbin']:
        cpio.mkdir(d)
    # The kernel opens /dev/console for /init before devtmpfs is mounted.
    cpio.chardev('dev/console', 5, 1)
    cpio.file('init', read(os.path.join(HERE, 'init')), 0o755)

    if not os.path.exists(BUSYBOX):
        raise GuestBuildError('%s missing (install busybox-static)' % BUSYBOX)
    cpio.file('bin/busybox', read(BUSYBOX), 0o755)
    applets = subprocess.run([BUSYBOX, '--list-full'], check=True,
                             capture_output=True, text=True).stdout.split()
    for applet in applets:
        cpio.symlink(applet, '/bin/busybox')

    if not full:
        cpio.file('etc/modules.order', b'')
        cpio.file('etc/guest.env', b'export QR_GUEST_KERNEL=%s\n' % kver.encode())
        return cpio.finish()

    order = []
    for path in module_paths(kver, MODULES):
        name = re.sub(r'\.(xz|gz|zst)$', '', os.path.basename(path))
        cpio.file('lib/modules/' + name, module_data(path))
        order.append('/lib/modules/' + name)
    cpio.file('etc/modules.order', ('\n'.join(order) + '\n').encode())

    libdirs = []
    for tool in TOOLS:
        path = which(tool)
        # Tools go where the guest's PATH finds them, even on usrmerge hosts.
        cpio.file('usr/bin/' + os.path.basename(path), read(path), 0o755)
        for lib in library_paths(path):
            cpio.file(lib, read(os.path.realpath(lib)), 0o755)
            d = os.path.dirname(lib)
            if d not in libdirs:
                libdirs.append(d)
    for path in DATA_FILES:
        if os.path.exists(path):
            cpio.file(path, read(path))

    # No ld.so.cache in the guest: tell the loader where the libraries are.
    env = 'export LD_LIBRARY_PATH=%s\nexport QR_GUEST_KERNEL=%s\n' % (
        ':'.join(libdirs), kver)
    cpio.file('etc/guest.env', env.encode())
    return cpio.finish()


def prune(root, keep):
    """Remove guest directories under ROOT other than KEEP that were not used
    for PRUNE_AFTER_DAYS."""
    limit = time.time() - PRUNE_AFTER_DAYS * 86400
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if (name.startswith('guest-') and path != keep
                and os.path.getmtime(path) < limit):
            shutil.rmtree(path, ignore_errors=True)


def build(kver=None, force=False):
    """Return the cache directory holding vmlinuz and initramfs.cpio.gz for
    kernel KVER (default: default_kernel()), building it first if needed.
    Raises GuestBuildError when the host lacks a package."""
    kver = kver or default_kernel()
    out = guest_dir(kver)
    if not force and os.path.exists(os.path.join(out, 'initramfs.cpio.gz')):
        os.utime(out)       # in use: keep it from being pruned
        return out
    root = cache_root()
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and os.path.exists(os.path.join(out, 'initramfs.cpio.gz')):
            return out
        vmlinuz = '/boot/vmlinuz-' + kver
        if not os.path.exists(vmlinuz):
            raise GuestBuildError('%s missing (install linux-image-amd64)' % vmlinuz)
        tmp = tempfile.mkdtemp(prefix='.build-', dir=root)
        try:
            shutil.copyfile(vmlinuz, os.path.join(tmp, 'vmlinuz'))
            # Level 6: the guest unpacks this under TCG, where gunzip time
            # matters more than a few MiB of cache.
            for name, full in (('initramfs.cpio.gz', True),
                               ('initramfs-tiny.cpio.gz', False)):
                data = gzip.compress(build_initramfs(kver, full),
                                     compresslevel=6, mtime=0)
                with open(os.path.join(tmp, name), 'wb') as f:
                    f.write(data)
            if os.path.exists(out):
                shutil.rmtree(out)
            os.rename(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        prune(root, out)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--kernel', help='kernel version (default: newest installed)')
    ap.add_argument('--force', action='store_true', help='rebuild even if cached')
    args = ap.parse_args()
    try:
        print(build(args.kernel, args.force))
    except GuestBuildError as e:
        print('mkguest: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
