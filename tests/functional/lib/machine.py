"""Boot a guest under Debian's QEMU with devices served in-process, by a
device process behind x-pci-proxy-dev (mpqemu) or by a vhost-user backend.

    import guest, machine, devices
    disk = devices.blk('x-remote', '/tmp/d/disk.img')
    vm = machine.Machine(guest.build(), script='lspci -n', devices=[disk],
                         polled=True, timeout=120)
    res = vm.run()                 # never raises for guest/VMM failures
    res.check()                    # AssertionError with both sides' logs
    res.status, res.output, res.value('capacity'), res.processes['remote'].rc

One Machine.run() is one boot: it makes a private temporary directory, starts
each device's helper process (remote device process, vhost-user backend),
then the VMM with memfd-backed shared RAM and its serial console on a pipe,
reads the console until the guest's end marker, waits for the VMM under a
watchdog deadline, then collects every process's exit status and stderr.
Whatever happens (timeout, exception, SIGTERM turned into SystemExit by
tap.main), every process it started is stopped and the directory removed.
Children also get PR_SET_PDEATHSIG, so even a SIGKILLed test leaves none.

Environment:
  QEMU_SYSTEM            the VMM binary (default qemu-system-x86_64)
  QR_FUNCTIONAL_ACCEL    tcg (default), kvm, or auto: use KVM only after a
                         probe boot proved it works (result cached)
  QR_FUNCTIONAL_KEEP=1   keep the temporary directory (logs) for debugging
"""

import ctypes
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import accel

QEMU = os.environ.get('QEMU_SYSTEM', 'qemu-system-x86_64')

# Printed by the guest's /init (tests/functional/guest/init) around the test
# script's output.
BEGIN_MARKER = '@@@qr-test-begin@@@'
END_RE = re.compile(r'@@@qr-test-end status=(\d+)@@@')

# The polled mode of specs/test-environment.md: no interrupt from a device
# behind x-pci-proxy-dev reaches a TCG guest, so the kernel polls every IRQ
# handler on each timer tick, and virtio-blk gets a polled queue that fio
# drives with io_uring --hipri.  virtio_blk caps its queues at the number of
# possible CPUs before reserving poll queues, hence two possible CPUs.
POLLED_APPEND = ['irqpoll', 'nolapic_timer', 'virtio_blk.poll_queues=1']
POLLED_SMP = '1,maxcpus=2'

# How long helper processes get to exit on their own once the VMM is gone
# (a remote sees EOF on its socket), and after SIGTERM, before SIGKILL.
EXIT_GRACE = 10

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Process:
    """A child process with its stdout/stderr in files of the run directory.
    A DAEMON (e.g. a vhost-user backend) is expected to outlive the VMM: it is
    sent SIGTERM once the VMM is gone, and that does not count as killed."""

    def __init__(self, name, argv, workdir, pass_fds=(), env=None,
                 daemon=False):
        self.name = name
        self.argv = list(argv)
        self.daemon = daemon
        self.stdout_path = os.path.join(workdir, name + '.stdout')
        self.stderr_path = os.path.join(workdir, name + '.stderr')
        self.killed = False
        with open(self.stdout_path, 'wb') as out, \
                open(self.stderr_path, 'wb') as err:
            self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                          stdout=out, stderr=err,
                                          pass_fds=tuple(pass_fds), env=env,
                                          preexec_fn=_die_with_parent)

    @property
    def pid(self):
        return self.popen.pid

    def running(self):
        return self.popen.poll() is None

    def wait(self, timeout):
        """Exit status, or None if still running after TIMEOUT seconds."""
        try:
            return self.popen.wait(timeout=max(timeout, 0))
        except subprocess.TimeoutExpired:
            return None

    def stop(self, expected=False):
        """SIGTERM, then SIGKILL after EXIT_GRACE; always reaps.  Marks the
        process killed unless EXPECTED and SIGTERM sufficed."""
        if self.popen.poll() is not None:
            return
        self.killed = not expected
        self.popen.terminate()
        if self.wait(EXIT_GRACE) is None:
            self.killed = True
            self.popen.kill()
            self.popen.wait()

    def _read(self, path):
        try:
            with open(path, 'rb') as f:
                return f.read().decode(errors='replace')
        except OSError:
            return ''

    def result(self):
        return ProcessResult(self.name, self.argv, self.popen.returncode,
                             self.killed, self._read(self.stdout_path),
                             self._read(self.stderr_path))


class ProcessResult:
    def __init__(self, name, argv, rc, killed, stdout, stderr):
        self.name = name
        self.argv = argv
        self.rc = rc            # exit status, -N for signal N
        self.killed = killed    # we had to stop it
        self.stdout = stdout
        self.stderr = stderr

    def describe(self):
        lines = ['%s: exit status %s%s' % (self.name, self.rc,
                                           ' (stopped by the harness)'
                                           if self.killed else ''),
                 '  argv: ' + ' '.join(self.argv)]
        for label, text in (('stderr', self.stderr), ('stdout', self.stdout)):
            if text.strip():
                lines.append('  %s:' % label)
                lines += ['    ' + ln for ln in text.strip().splitlines()[-30:]]
        return '\n'.join(lines)


class Result:
    """What one boot produced."""

    def __init__(self):
        self.status = None      # the test script's exit status in the guest
        self.output = ''        # console text between the markers
        self.console = ''       # the whole console
        self.timed_out = False
        self.elapsed = 0.0      # seconds from VMM start to VMM exit
        self.processes = {}     # name -> ProcessResult ('qemu', devices' ...)
        self.accel = None

    def value(self, key):
        """The value of the last "KEY=VALUE" line the script printed."""
        found = None
        for line in self.output.splitlines():
            if line.startswith(key + '='):
                found = line[len(key) + 1:].strip()
        return found

    def describe(self):
        out = ['guest status: %s%s (accel %s, %.1f s)'
               % (self.status, ', TIMED OUT' if self.timed_out else '',
                  self.accel, self.elapsed)]
        out += [p.describe() for p in self.processes.values()]
        out.append('console (last 60 lines):')
        out += ['  ' + ln for ln in self.console.splitlines()[-60:]]
        return '\n'.join(out)

    def check(self, expect_rc=0):
        """Raise AssertionError (with every log) unless the guest script
        exited 0 and every process exited EXPECT_RC on its own."""
        bad = self.timed_out or self.status != 0
        for p in self.processes.values():
            bad = bad or p.killed or p.rc != expect_rc
        if bad:
            raise AssertionError('boot failed\n' + self.describe())


class Machine:
    """One guest boot.  Arguments:
      image     guest.GuestImage (kernel + initrd) or None to boot from a
                disk with the firmware
      script    shell script the guest's /init runs (passed via fw_cfg)
      devices   objects from devices.py (each adds VMM arguments and may
                start a helper process)
      polled    the polled mode (POLLED_APPEND, POLLED_SMP)
      memory    guest RAM in MiB
      append    extra kernel arguments
      timeout   watchdog: seconds from VMM start until it is stopped
      console   callable(line) called for each console line as it arrives
      accel     'tcg', 'kvm' or 'auto' (default: $QR_FUNCTIONAL_ACCEL or tcg)
      args      extra VMM arguments
    """

    def __init__(self, image=None, script=None, devices=(), polled=False,
                 memory=512, append=(), timeout=120, console=None,
                 accel=None, args=()):
        self.image = image
        self.script = script
        self.devices = list(devices)
        self.polled = polled
        self.memory = memory
        self.append = list(append)
        self.timeout = timeout
        self.console_cb = console
        self.accel = accel or os.environ.get('QR_FUNCTIONAL_ACCEL', 'tcg')
        self.args = list(args)
        self.workdir = None
        self._procs = []

    # ------------------------------------------------------------ for devices

    def path(self, name):
        """A path inside this boot's private directory."""
        return os.path.join(self.workdir, name)

    def spawn(self, name, argv, pass_fds=(), env=None, daemon=False):
        """Start a helper process; it is stopped and reaped by run().  A
        DAEMON keeps running after the VMM exits and gets SIGTERM then;
        other helpers must exit by themselves (see Process)."""
        p = Process(name, argv, self.workdir, pass_fds, env, daemon)
        self._procs.append(p)
        return p

    # ------------------------------------------------------------ the boot

    def vmm_argv(self, accel_name, console_fd, script_path):
        mem = '%dM' % self.memory
        argv = [QEMU, '-accel', accel_name, '-nodefaults', '-no-user-config',
                '-display', 'none',
                '-machine', 'q35,memory-backend=mem', '-m', mem,
                # Shared RAM: the remote device process maps it for DMA.
                '-object', 'memory-backend-memfd,id=mem,size=%s,share=on' % mem,
                '-chardev', 'file,id=con0,path=/dev/fd/%d' % console_fd,
                '-serial', 'chardev:con0',
                # A guest reboot (panic=-1, a crash) ends the boot instead.
                '-no-reboot']
        if self.polled:
            argv += ['-smp', POLLED_SMP]
        if self.image:
            append = ['console=ttyS0', 'loglevel=4', 'panic=-1']
            if self.polled:
                append += POLLED_APPEND
            argv += ['-kernel', self.image.kernel, '-initrd', self.image.initrd,
                     '-append', ' '.join(append + self.append)]
        if script_path:
            argv += ['-fw_cfg', 'name=opt/test,file=%s' % script_path]
        return argv + self.args

    def run(self):
        res = Result()
        self.workdir = tempfile.mkdtemp(prefix='qr-functional-')
        rfd = wfd = None
        reader = None
        try:
            res.accel = accel.choose(self.accel, self.image)
            script_path = None
            if self.script is not None:
                script_path = self.path('test.sh')
                with open(script_path, 'w') as f:
                    f.write(self.script)
            dev_args, dev_fds = [], []
            for d in self.devices:
                args, fds = d.prepare(self)
                dev_args += args
                dev_fds += fds
            rfd, wfd = os.pipe()
            argv = self.vmm_argv(res.accel, wfd, script_path) + dev_args
            start = time.monotonic()
            vmm = Process('qemu', argv, self.workdir, dev_fds + [wfd])
            self._procs.insert(0, vmm)
            os.close(wfd)
            wfd = None
            for d in self.devices:
                d.vmm_started(self)
            reader = _ConsoleReader(rfd, self.console_cb)
            rfd = None

            if vmm.wait(self.timeout) is None:
                res.timed_out = True
                vmm.stop()
            res.elapsed = time.monotonic() - start
            # The console pipe reaches EOF once the VMM is gone.
            reader.join(EXIT_GRACE)
            for p in self._procs[1:]:
                if p.daemon:
                    p.stop(expected=True)
                elif p.wait(EXIT_GRACE) is None:
                    p.stop()
            res.console = reader.text()
            res.status, res.output = parse_console(res.console)
        finally:
            for p in reversed(self._procs):
                p.stop()
            for d in self.devices:
                d.cleanup(self)
            for fd in (rfd, wfd):
                if fd is not None:
                    os.close(fd)
            if reader:
                reader.close()
            res.processes = {p.name: p.result() for p in self._procs}
            self._procs = []
            if os.environ.get('QR_FUNCTIONAL_KEEP'):
                print('# kept %s' % self.workdir, flush=True)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)
        return res


def parse_console(text):
    """(status, output) from the console: the script's exit status (None if
    the end marker never came) and the text between the markers."""
    begin = text.find(BEGIN_MARKER)
    if begin < 0:
        return None, ''
    body = text[begin + len(BEGIN_MARKER):].lstrip('\r\n')
    m = END_RE.search(body)
    if not m:
        return None, body.replace('\r', '')
    return int(m.group(1)), body[:m.start()].replace('\r', '')


class _ConsoleReader(threading.Thread):
    """Reads the console pipe until EOF, keeping the text and passing each
    complete line to a callback."""

    def __init__(self, fd, callback):
        super().__init__(daemon=True)
        self.fd = fd
        self.callback = callback
        self.chunks = []
        self.lock = threading.Lock()
        self.start()

    def run(self):
        pending = b''
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                break
            if not data:
                break
            with self.lock:
                self.chunks.append(data)
            if self.callback:
                pending += data
                *lines, pending = pending.split(b'\n')
                for line in lines:
                    self.callback(line.decode(errors='replace').rstrip('\r'))
        if self.callback and pending:
            self.callback(pending.decode(errors='replace').rstrip('\r'))

    def text(self):
        with self.lock:
            return b''.join(self.chunks).decode(errors='replace')

    def close(self):
        # Only reached after the VMM is gone (EOF) or join() timed out.
        self.join(1)
        try:
            os.close(self.fd)
        except OSError:
            pass
