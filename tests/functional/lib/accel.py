"""Which accelerator boots the functional-test guest.

TCG always works.  /dev/kvm existing proves nothing (specs/test-environment.md:
on the project's hosts KVM runs SeaBIOS but a stock Linux guest spins after
"Probing EDD"), so KVM is used only in 'auto' mode and only after a probe
boot of the real guest printed its marker under KVM.  The probe's verdict is
cached per (host kernel, QEMU version, guest build) next to the guest cache.
"""

import fcntl
import hashlib
import os
import platform
import subprocess

import guest

# A working KVM guest reaches /init in well under this; a broken one spins.
PROBE_TIMEOUT = 30


def _probe_file(image):
    qemu = os.environ.get('QEMU_SYSTEM', 'qemu-system-x86_64')
    try:
        version = subprocess.run([qemu, '--version'], capture_output=True,
                                 text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        version = ''
    key = '\0'.join([platform.release(), version, image.dir])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return os.path.join(guest.mkguest.cache_root(), 'kvm-probe-' + digest)


def kvm_boots(image):
    """True if IMAGE boots to its /init under KVM here (probed once)."""
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return False
    path = _probe_file(image)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(path):
            with open(path) as f:
                return f.read().strip() == 'kvm-ok'
        import machine  # here: machine imports this module
        res = machine.Machine(image, script='echo kvm-probe=ok\n',
                              accel='kvm', timeout=PROBE_TIMEOUT,
                              memory=256).run()
        ok = res.status == 0 and res.value('kvm-probe') == 'ok'
        with open(path, 'w') as f:
            f.write('kvm-ok\n' if ok else 'kvm-fails\n')
        return ok


def choose(mode, image):
    """The -accel value for MODE ('tcg', 'kvm' or 'auto') and guest IMAGE
    (None when booting firmware only: 'auto' then means tcg)."""
    if mode in ('tcg', 'kvm'):
        return mode
    if mode != 'auto':
        raise ValueError('QR_FUNCTIONAL_ACCEL must be tcg, kvm or auto, not %r'
                         % mode)
    return 'kvm' if image is not None and kvm_boots(image) else 'tcg'
