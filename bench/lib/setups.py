"""The ways of serving one virtio-blk disk that bench/ compares.

A Setup names one way (whose process serves the disk, over which
transport, with which guest mode and accelerator) and builds the
tests/functional/lib/devices.py object that attaches it to a boot.

Setups come in groups; each group compares "ours" (qemu-remote) with
"theirs" (what a user would run instead) and QEMU's in-process device:

  mpqemu      x-pci-proxy-dev: qemu-remote vs QEMU's own remote
              (-machine x-remote) vs in-process virtio-blk-pci with MSI-X
              and with INTx.  Under TCG no interrupt crosses the proxy, so
              the guest polls (specs/test-environment.md).
  mpqemu-kvm  the same, interrupt-driven, under KVM: only where a probe
              boot proves KVM runs the guest (tests/functional/lib/accel.py).
  vhost-user  vhost-user-blk-pci: a qemu-remote export vs
              qemu-storage-daemon vs in-process, interrupt-driven.
"""

import os
import shutil
import subprocess

import devices

QEMU = shutil.which(devices.QEMU) or devices.QEMU
QSD = shutil.which(devices.QSD) or devices.QSD

# Roles inside a group.
OURS, THEIRS, IN_PROCESS = 'ours', 'theirs', 'in-process'


class Setup:
    """NAME is unique across groups (results are keyed by it); KIND is a
    devices.BLK_KINDS kind or 'qemu-remote-vhost-user'; PROPS extra
    virtio-blk-pci properties; PROCESS the name under which
    machine.Machine spawns the device process (None: in the VMM)."""

    def __init__(self, name, label, group, role, kind, polled, accel,
                 props='', binary=None):
        self.name = name
        self.binary = binary    # qemu-remote to run (None: $QEMU_REMOTE)
        self.label = label
        self.group = group
        self.role = role
        self.kind = kind
        self.polled = polled
        self.accel = accel
        self.props = props
        self.process = {'qemu-remote': 'remote', 'x-remote': 'remote',
                        'vhost-user': 'backend',
                        'qemu-remote-vhost-user': 'backend'}.get(kind)

    def device(self, disk):
        """The devices.py object serving DISK this setup's way."""
        binary = self.binary or devices.qemu_remote_binary()
        if self.kind == 'qemu-remote-vhost-user':
            return _qemu_remote_export(binary, disk, self.polled, self.props)
        dev = devices.blk(self.kind, disk, polled=self.polled,
                          props=self.props)
        if self.kind == 'qemu-remote':
            dev.remote_argv[0] = binary
        return dev

    def unavailable(self):
        """Why this setup cannot run here, or None."""
        if self.kind == 'qemu-remote':
            return devices.qemu_remote_lacks('virtio-blk-pci')
        if self.kind == 'qemu-remote-vhost-user':
            return qemu_remote_export_lacks()
        if self.kind == 'vhost-user' and not shutil.which(QSD):
            return '%s not installed' % QSD
        return None


def qemu_remote_export_lacks():
    """None if $QEMU_REMOTE serves vhost-user-blk exports, else why not."""
    binary = devices.qemu_remote_binary()
    if not binary or not os.access(binary, os.X_OK):
        return 'qemu-remote is not built'
    try:
        p = subprocess.run([binary, '--print-capabilities'],
                           capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    if p.returncode != 0 or '"block"' not in p.stdout:
        return 'qemu-remote has no vhost-user-blk export yet'
    return None


def _qemu_remote_export(binary, disk, polled, props):
    """qemu-remote with qemu-storage-daemon's command line: -blockdev and
    -export type=vhost-user-blk (docs/vhost-user.md), after the options
    the functional tests give every qemu-remote (devices.qemu_remote_argv():
    -sandbox on, $QEMU_REMOTE_ARGS)."""
    queues = devices.POLLED_QUEUES if polled else 1
    node = 'vblk0-file'
    export = ('type=vhost-user-blk,id=exp0,node-name=%s,addr.type=unix,'
              'addr.path={socket},writable=on,num-queues=%d' % (node, queues))
    argv = devices.qemu_remote_argv()
    argv[0] = binary
    return devices.VhostUser(
        argv + ['-blockdev',
         'driver=file,node-name=%s,filename=%s' % (node, disk),
         '-export', export],
        'vhost-user-blk-pci,id=vblk0,num-queues=%d%s' % (queues, props))


def all_setups(kvm):
    """Every setup of every group, in table order.  KVM: the probe showed
    KVM boots the guest, so the interrupt-driven mpqemu group runs too."""
    out = [
        Setup('qemu-remote', 'qemu-remote', 'mpqemu', OURS,
              'qemu-remote', True, 'tcg'),
        Setup('x-remote', 'QEMU x-remote', 'mpqemu', THEIRS,
              'x-remote', True, 'tcg'),
        Setup('in-process', 'in-process MSI-X', 'mpqemu', IN_PROCESS,
              'in-process', True, 'tcg'),
        Setup('in-process-intx', 'in-process INTx', 'mpqemu', IN_PROCESS,
              'in-process', True, 'tcg', ',vectors=0'),
        Setup('qemu-remote-vu', 'qemu-remote', 'vhost-user', OURS,
              'qemu-remote-vhost-user', False, 'tcg'),
        Setup('qsd', 'qemu-storage-daemon', 'vhost-user', THEIRS,
              'vhost-user', False, 'tcg'),
        Setup('in-process-irq', 'in-process', 'vhost-user', IN_PROCESS,
              'in-process', False, 'tcg'),
    ]
    base = os.environ.get('QEMU_REMOTE_BASELINE')
    if base:
        # A/B runs while optimising: another qemu-remote build (say, the
        # previous commit's) next to ours, ratios still against theirs.
        out += [
            Setup('qemu-remote-base', 'qemu-remote baseline', 'mpqemu-ab',
                  OURS, 'qemu-remote', True, 'tcg', binary=base),
            Setup('qemu-remote-vu-base', 'qemu-remote baseline',
                  'vhost-user-ab', OURS, 'qemu-remote-vhost-user', False,
                  'tcg', binary=base),
        ]
    if kvm:
        out += [
            Setup('qemu-remote-kvm', 'qemu-remote', 'mpqemu-kvm', OURS,
                  'qemu-remote', False, 'kvm'),
            Setup('x-remote-kvm', 'QEMU x-remote', 'mpqemu-kvm', THEIRS,
                  'x-remote', False, 'kvm'),
            Setup('in-process-kvm', 'in-process MSI-X', 'mpqemu-kvm',
                  IN_PROCESS, 'in-process', False, 'kvm'),
            Setup('in-process-intx-kvm', 'in-process INTx', 'mpqemu-kvm',
                  IN_PROCESS, 'in-process', False, 'kvm', ',vectors=0'),
        ]
    return out


GROUPS = {
    'mpqemu': 'virtio-blk over mpqemu (x-pci-proxy-dev), polled guest, TCG',
    'mpqemu-ab': '$QEMU_REMOTE_BASELINE over mpqemu, polled guest, TCG',
    'vhost-user-ab': '$QEMU_REMOTE_BASELINE over vhost-user, TCG',
    'mpqemu-kvm': 'virtio-blk over mpqemu (x-pci-proxy-dev), interrupts, KVM',
    'vhost-user': 'virtio-blk over vhost-user (vhost-user-blk-pci), '
                  'interrupts, TCG',
}
