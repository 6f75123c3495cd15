"""Devices a machine.Machine attaches, one class per way of serving them.

Each class has the same three calls, made by Machine.run():
  prepare(m)      start helper processes (m.spawn) and return
                  (VMM arguments, fds the VMM must inherit)
  vmm_started(m)  the VMM runs: drop the launcher's copies of shared fds
  cleanup(m)      release whatever is left (always called, may repeat)

and blk(kind, image) builds a virtio-blk disk for each of the setups the tests
and benchmarks compare:
  'qemu-remote'  our qemu-remote behind -device x-pci-proxy-dev (mpqemu)
  'x-remote'     QEMU's own remote (-machine x-remote) behind the same proxy
  'in-process'   QEMU's virtio-blk-pci inside the VMM
  'vhost-user'   vhost-user-blk-pci with qemu-storage-daemon on a socket
                 (needs interrupts: use it without the polled mode)

qemu-remote runs confined (-sandbox on) as in production, so real guests
exercise the seccomp allowlists.

Environment: QEMU_REMOTE (our binary; meson sets it), QEMU_REMOTE_ARGS
(options added after -sandbox on, e.g. "-sandbox on,debug=eperm" to name a
blocked call), QEMU_SYSTEM, QEMU_STORAGE_DAEMON.
"""

import os
import re
import shlex
import socket
import subprocess
import time

BLK_KINDS = ('qemu-remote', 'x-remote', 'in-process', 'vhost-user')

QEMU = os.environ.get('QEMU_SYSTEM', 'qemu-system-x86_64')
QSD = os.environ.get('QEMU_STORAGE_DAEMON', 'qemu-storage-daemon')

# In the polled mode (machine.POLLED_APPEND) virtio_blk turns the queues
# beyond the first into poll queues: the device must offer two.
POLLED_QUEUES = 2

# How long a vhost-user backend may take to create its socket.
SOCKET_TIMEOUT = 30


def qemu_remote_binary():
    """Path of our qemu-remote ($QEMU_REMOTE), or None when not set."""
    return os.environ.get('QEMU_REMOTE') or None


def qemu_remote_argv():
    """qemu-remote's command line before the device options: confined, plus
    $QEMU_REMOTE_ARGS (a later -sandbox wins)."""
    return ([qemu_remote_binary(), '-sandbox', 'on']
            + shlex.split(os.environ.get('QEMU_REMOTE_ARGS', '')))


def device_types(binary):
    """Device type names BINARY lists with `-device help` (empty when it
    cannot list them)."""
    try:
        p = subprocess.run([binary, '-device', 'help'], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return set()
    if p.returncode != 0:
        return set()
    # QEMU prints `name "virtio-blk-pci", bus PCI, ...`; accept a bare name
    # at the start of a line as well.
    names = set(re.findall(r'name "([^"]+)"', p.stdout))
    names |= set(re.findall(r'^\s*([a-z0-9][\w.-]*)', p.stdout, re.M))
    return names


def qemu_remote_lacks(dev_type):
    """None if $QEMU_REMOTE can serve DEV_TYPE, else the reason it cannot
    (for a TAP SKIP)."""
    binary = qemu_remote_binary()
    if not binary:
        return 'QEMU_REMOTE is not set (run through meson test)'
    if not os.access(binary, os.X_OK):
        return '%s is not built' % binary
    if dev_type not in device_types(binary):
        return 'qemu-remote has no %s yet' % dev_type
    return None


class InProcess:
    """A device emulated inside the VMM: just VMM arguments."""

    def __init__(self, args):
        self.args = list(args)

    def prepare(self, m):
        return self.args, []

    def vmm_started(self, m):
        pass

    def cleanup(self, m):
        pass


class Mpqemu:
    """A PCI device served by a device process over x-pci-proxy-dev.

    REMOTE_ARGV is the device process's command line without the
    x-remote-object; DEVID the id of the -device it serves.  The launcher's
    duties of specs/mpqemu.md section 5: one socketpair, one end inherited
    by each side, both closed here once the VMM runs."""

    def __init__(self, remote_argv, devid, name='remote'):
        self.remote_argv = list(remote_argv)
        self.devid = devid
        self.name = name
        self.socks = ()

    def prepare(self, m):
        vmm_end, remote_end = socket.socketpair(socket.AF_UNIX,
                                                socket.SOCK_STREAM)
        self.socks = (vmm_end, remote_end)
        argv = self.remote_argv + [
            '-object', 'x-remote-object,id=robj-%s,devid=%s,fd=%d'
            % (self.devid, self.devid, remote_end.fileno())]
        m.spawn(self.name, argv, pass_fds=[remote_end.fileno()])
        return (['-device', 'x-pci-proxy-dev,id=proxy-%s,fd=%d'
                 % (self.devid, vmm_end.fileno())], [vmm_end.fileno()])

    def vmm_started(self, m):
        self.cleanup(m)

    def cleanup(self, m):
        for s in self.socks:
            s.close()
        self.socks = ()


class VhostUser:
    """A device whose backend serves a vhost-user socket.

    BACKEND_ARGV may contain '{socket}', replaced by the socket path (in the
    boot's private directory).  VMM_DEVICE is the -device string without
    chardev=, e.g. 'vhost-user-blk-pci,num-queues=1'.  The backend keeps
    serving after the VMM leaves; the machine stops it with SIGTERM."""

    def __init__(self, backend_argv, vmm_device, name='backend'):
        self.backend_argv = list(backend_argv)
        self.vmm_device = vmm_device
        self.name = name

    def prepare(self, m):
        path = m.path(self.name + '.sock')
        argv = [a.replace('{socket}', path) for a in self.backend_argv]
        backend = m.spawn(self.name, argv, daemon=True)
        deadline = time.monotonic() + SOCKET_TIMEOUT
        while not os.path.exists(path):
            if not backend.running():
                raise RuntimeError('%s exited before creating %s:\n%s'
                                   % (self.name, path, backend.result().describe()))
            if time.monotonic() > deadline:
                raise RuntimeError('%s did not create %s within %d s'
                                   % (self.name, path, SOCKET_TIMEOUT))
            time.sleep(0.05)
        chardev = 'chr-' + self.name
        return (['-chardev', 'socket,id=%s,path=%s' % (chardev, path),
                 '-device', '%s,chardev=%s' % (self.vmm_device, chardev)], [])

    def vmm_started(self, m):
        pass

    def cleanup(self, m):
        pass


def _blockdev(node, image, readonly):
    opts = 'driver=file,node-name=%s,filename=%s' % (node, image)
    return opts + (',read-only=on' if readonly else '')


def blk(kind, image, readonly=False, polled=False, devid='vblk0', props=''):
    """A virtio-blk disk backed by the raw file IMAGE, served the KIND way
    (one of BLK_KINDS).  POLLED: the guest boots in the polled mode (the
    device then offers POLLED_QUEUES queues).  PROPS: extra ',prop=value'."""
    node = devid + '-file'
    bdev = _blockdev(node, image, readonly)
    queues = POLLED_QUEUES if polled else 1
    props = ',num-queues=%d%s' % (queues, props)
    dev = 'virtio-blk-pci,id=%s,drive=%s%s' % (devid, node, props)
    if kind == 'qemu-remote':
        return Mpqemu(qemu_remote_argv() + ['-blockdev', bdev, '-device', dev],
                      devid)
    if kind == 'x-remote':
        return Mpqemu([QEMU, '-machine', 'x-remote', '-nodefaults',
                       '-display', 'none', '-blockdev', bdev, '-device', dev],
                      devid)
    if kind == 'in-process':
        return InProcess(['-blockdev', bdev, '-device', dev])
    if kind == 'vhost-user':
        export = ('type=vhost-user-blk,id=exp-%s,node-name=%s,addr.type=unix,'
                  'addr.path={socket},writable=%s,num-queues=%d'
                  % (devid, node, 'off' if readonly else 'on', queues))
        return VhostUser([QSD, '--blockdev', bdev, '--export', export],
                         'vhost-user-blk-pci,id=%s%s' % (devid, props))
    raise ValueError('unknown virtio-blk setup %r (one of %s)'
                     % (kind, ', '.join(BLK_KINDS)))
