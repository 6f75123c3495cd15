"""vhost-user-blk disks for functional tests: a block backend (our
qemu-remote, or qemu-storage-daemon as the reference) on a UNIX socket that
tests may kill and restart, or run twice on one image for migration.

    disk = vhostuser.Disk(image)                 # qemu-remote by default
    vm = machine.Machine(image, script, devices=[disk])
    ...                                          # disk.restart(), disk.kill()

The guest-side workload (verified pattern writes in rounds until the host
writes a stop mark into the image) and the host-side check of the image are
here too, shared by the reconnect and migration tests.

Environment: QEMU_REMOTE (meson sets it), QEMU_STORAGE_DAEMON,
QR_VHOST_USER_BACKEND=qemu-remote|qsd (default qemu-remote),
QR_VHOST_USER_BACKEND_ARGS: extra backend arguments (e.g. "-d vhost_user"
with QR_FUNCTIONAL_KEEP=1 to read the trace afterwards).
"""

import os
import signal
import struct
import subprocess
import time

import devices

QSD = os.environ.get('QEMU_STORAGE_DAEMON', 'qemu-storage-daemon')

# How long a backend may take to create its socket.
SOCKET_TIMEOUT = 30
# How long a restarted backend may find the image still locked by the
# process it replaces.
LOCK_TIMEOUT = 10

# The verified region of the disk and where the stop mark goes.
IO_REGION = 16 << 20
BLOCK = 4096
STOP_MARK = b'QRSTOP'


def backend_kind():
    return os.environ.get('QR_VHOST_USER_BACKEND', 'qemu-remote')


def backend_lacks():
    """None if the chosen backend can run here, else why (TAP SKIP)."""
    if backend_kind() == 'qsd':
        return None if _which(QSD) else 'qemu-storage-daemon not installed'
    binary = devices.qemu_remote_binary()
    if not binary:
        return 'QEMU_REMOTE is not set (run through meson test)'
    try:
        p = subprocess.run([binary, '--print-capabilities'],
                           capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
    except OSError as e:
        return str(e)
    if p.returncode != 0 or '"block"' not in p.stdout:
        return 'qemu-remote has no vhost-user-blk export yet'
    return None


def _which(prog):
    for d in os.environ.get('PATH', '').split(':'):
        if os.access(os.path.join(d, prog), os.X_OK):
            return True
    return os.access(prog, os.X_OK)


def backend_argv(image, sock, num_queues, locking=True, eid='exp0',
                 direct=False, trace=False, export_opts='', extra_args=()):
    """The command line of a backend serving IMAGE on SOCK; DIRECT: with
    O_DIRECT (cache.direct=on); TRACE: qemu-remote traces its vhost-user
    messages and ring starts on stderr (-d vhost_user); EXPORT_OPTS: more
    -export options (",key=value..."); EXTRA_ARGS: more backend options."""
    bdev = 'driver=file,node-name=disk0,filename=%s' % image
    if not locking:
        bdev += ',locking=off'
    if direct:
        bdev += ',cache.direct=on'
    export = ('type=vhost-user-blk,id=%s,node-name=disk0,addr.type=unix,'
              'addr.path=%s,writable=on,num-queues=%d'
              % (eid, sock, num_queues)) + export_opts
    extra = os.environ.get('QR_VHOST_USER_BACKEND_ARGS', '').split()
    if trace and backend_kind() != 'qsd':
        extra += ['-d', 'vhost_user']
    if backend_kind() == 'qsd':
        return [QSD] + list(extra_args) + ['--blockdev', bdev,
                                           '--export', export] + extra
    # Sandboxed as in production: real guests exercise the allowlist.
    # EXTRA_ARGS come first: they may create what -export refers to.
    return [devices.qemu_remote_binary(), '-sandbox', 'on'] + \
        list(extra_args) + ['-blockdev', bdev, '-export', export] + extra


class Disk:
    """A vhost-user-blk-pci disk whose backend the test controls.  QEMU
    connects with reconnect=1, so a restarted backend gets the device
    back.  NAME names the backend processes (NAME-0, NAME-1, ...)."""

    def __init__(self, image, num_queues=2, name='backend', locking=True,
                 sock=None, direct=False, trace=False, export_opts='',
                 extra_args=()):
        self.image = image
        self.num_queues = num_queues
        self.name = name
        self.locking = locking
        self.direct = direct
        self.trace = trace
        self.export_opts = export_opts
        self.extra_args = list(extra_args)
        self.sock = sock
        self.machine = None
        self.proc = None
        self.generation = 0

    # ---- devices.py protocol (prepare / vmm_started / cleanup)

    def prepare(self, m):
        self.machine = m
        if self.sock is None:
            self.sock = m.path(self.name + '.sock')
        self.start()
        return self.vmm_args(), []

    def vmm_started(self, m):
        pass

    def cleanup(self, m):
        pass

    def vmm_args(self):
        chardev = 'chr-' + self.name
        return ['-chardev', 'socket,id=%s,path=%s,reconnect=1'
                % (chardev, self.sock),
                '-device', 'vhost-user-blk-pci,id=%s,chardev=%s,'
                'num-queues=%d' % (self.name, chardev, self.num_queues)]

    # ---- control

    def start(self):
        """Start a backend process and wait for its socket.  A backend that
        replaces a killed one may find the image still locked for a moment
        (the kernel drops a dead process's image locks only once its
        io_uring instance is torn down, asynchronously): it is started
        again until LOCK_TIMEOUT."""
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            proc = self._start_once()
            if proc.running() or time.monotonic() > deadline or \
                    'lock' not in proc.result().stderr:
                break
            time.sleep(0.1)
        if not proc.running():
            raise RuntimeError('%s exited before listening:\n%s'
                               % (proc.name, proc.result().describe()))

    def _start_once(self):
        """One attempt: the process, running and listening, or exited."""
        if os.path.exists(self.sock) and self.proc is None:
            os.unlink(self.sock)
        name = '%s-%d' % (self.name, self.generation)
        self.generation += 1
        argv = backend_argv(self.image, self.sock, self.num_queues,
                            self.locking, direct=self.direct,
                            trace=self.trace, export_opts=self.export_opts,
                            extra_args=self.extra_args)
        # A restarted backend finds its predecessor's socket file: it must
        # replace it (qemu-storage-daemon needs it gone).
        if backend_kind() == 'qsd' and os.path.exists(self.sock):
            os.unlink(self.sock)
        before = _identity(self.sock)
        self.proc = self.machine.spawn(name, argv, daemon=True)
        deadline = time.monotonic() + SOCKET_TIMEOUT
        while _identity(self.sock) in (None, before):
            if not self.proc.running():
                return self.proc
            if time.monotonic() > deadline:
                raise RuntimeError('%s did not listen on %s' % (name,
                                                                self.sock))
            time.sleep(0.01)
        return self.proc

    def stop_vmm(self):
        """Stop the machine's VMM (a test that cannot go on)."""
        for p in list(self.machine._procs):
            if p.name == 'qemu':
                p.stop()

    def kill(self):
        """SIGKILL the backend (a crash): no cleanup of its own."""
        self.proc.popen.send_signal(signal.SIGKILL)
        self.proc.popen.wait()
        self.proc.killed = True

    def restart(self):
        self.kill()
        self.start()

    def vmm_running(self):
        """Whether the machine's VMM still runs (so a restart is still
        useful and will be cleaned up by the machine)."""
        return any(p.name == 'qemu' and p.running()
                   for p in list(self.machine._procs))


def _identity(path):
    """Which socket file is at PATH (None: none); a restarted backend
    replaces its predecessor's stale file with a new one."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


# ------------------------------------------------------------ the workload

GUEST_ROUNDS = r'''
# Verified I/O in rounds until the host writes the stop mark into the last
# sector.  Round R writes every 4 KiB block of the first {region} bytes
# with fio's pattern 0xRR5a + the block's offset, in random order, and
# reads everything back comparing it (fio verify).
disk=/dev/vda
last=$(( $(cat /sys/block/vda/size) - 1 ))
stopped() {{
    echo 3 > /proc/sys/vm/drop_caches
    dd if=$disk bs=512 skip=$last count=1 iflag=direct 2>/dev/null | grep -q {mark}
}}
round=0
while ! stopped; do
    round=$((round + 1))
    if [ $round -gt {max_rounds} ]; then
        echo "no stop mark after $round rounds"; exit 2
    fi
    pat=$(printf '0x%02x5a' $((round % 256)))
    if ! fio --name=r$round --filename=$disk --direct=1 --ioengine=libaio \
            --iodepth=16 --rw=randwrite --bs=4k --size={region} \
            --verify=pattern --verify_pattern=${{pat}}%o --do_verify=1 \
            --verify_fatal=1 > /tmp/fio.log 2>&1; then
        cat /tmp/fio.log
        echo "fio failed in round $round"
        exit 1
    fi
    echo "round=$round"
done
echo "rounds=$round"
if dmesg | grep -i -E 'i/o error|blk_update_request|buffer i/o'; then
    echo "guest kernel reported I/O errors"
    exit 3
fi
'''


def guest_rounds_script(max_rounds=300):
    return GUEST_ROUNDS.format(region=IO_REGION, mark=STOP_MARK.decode(),
                               max_rounds=max_rounds)


def write_stop_mark(image):
    """Write the stop mark into the image's last sector (outside the
    verified region) from the host."""
    size = os.path.getsize(image)
    fd = os.open(image, os.O_RDWR)
    try:
        os.pwrite(fd, STOP_MARK.ljust(512, b'\0'), size - 512)
        os.fsync(fd)
    finally:
        os.close(fd)


def expected_block(rnd, offset):
    pat = bytes([rnd % 256, 0x5a]) + struct.pack('<Q', offset)
    return (pat * (BLOCK // len(pat) + 1))[:BLOCK]


def check_image(image, rounds):
    """Every block of the verified region holds round ROUNDS' pattern;
    returns a list of the offsets that do not (empty when all is well)."""
    bad = []
    with open(image, 'rb') as f:
        for off in range(0, IO_REGION, BLOCK):
            if f.read(BLOCK) != expected_block(rounds, off):
                bad.append(off)
    return bad
