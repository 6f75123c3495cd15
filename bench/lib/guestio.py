"""fio inside the functional-test guest, and what the device process
spends meanwhile.

One boot runs every workload in turn.  The guest prints a marker line on
its console before and after each fio run; when the host reads a marker it
samples the device process (CPU time from /proc/PID/stat, VmRSS and VmHWM
from /proc/PID/status), so CPU time is charged to the workload it served.
"""

import os
import threading
import time

import machine

MiB = 1 << 20
# Large enough that random 4k I/O is spread out, small enough to fill fast.
DISK_SIZE = 256 * MiB

# name -> fio arguments.  Keep names stable: results are compared by name.
WORKLOADS = {
    'randread-4k-qd1': '--rw=randread --bs=4k --iodepth=1',
    'randread-4k-qd32': '--rw=randread --bs=4k --iodepth=32',
    'randwrite-4k-qd1': '--rw=randwrite --bs=4k --iodepth=1',
    'read-128k-qd1': '--rw=read --bs=128k --iodepth=1',
}

# fio --terse-version=3 fields (1-based): read io KiB, KiB/s, IOPS, mean
# total latency (µs); then the same for writes.
FIO_FIELDS = '$6, $7, $8, $40, $47, $48, $49, $81'
FIO_KEYS = ('read_kib', 'read_bw_kib', 'read_iops', 'read_lat_us',
            'write_kib', 'write_bw_kib', 'write_iops', 'write_lat_us')

MARK = '@bench'
CLK_TCK = os.sysconf('SC_CLK_TCK')

# A workload that has not ended this long after its runtime is stuck (a
# lost completion in the guest): the boot is stopped rather than left to
# the whole-boot watchdog.
STALL_GRACE = 60

# Kernel arguments of every benchmark boot: skip the IO-APIC timer check,
# which a TCG guest on a loaded host can fail ("IO-APIC + timer doesn't
# work!", a panic at boot).
APPEND = ['no_timer_check']


def guest_script(workloads, runtime, polled):
    """The shell script the guest runs: for each workload a begin marker,
    fio, its terse result as one 'result NAME ...' line, an end marker.
    No ramp time: fio's byte count then covers the whole measured span."""
    hipri = '--hipri ' if polled else ''
    lines = []
    for name in workloads:
        lines += [
            'echo "%s begin %s"' % (MARK, name),
            "fio --name=%s --filename=/dev/vda --ioengine=io_uring %s"
            "--direct=1 --time_based --runtime=%d --size=%dM %s "
            "--output-format=terse --terse-version=3 2>/tmp/fio.err "
            "| awk -F';' '/^3;/ {print \"result %s\", %s}' "
            "|| echo \"result %s failed $(cat /tmp/fio.err)\""
            % (name, hipri, runtime, DISK_SIZE // MiB, WORKLOADS[name], name,
               FIO_FIELDS, name),
            'echo "%s end %s"' % (MARK, name)]
    return '\n'.join(lines) + '\n'


def parse_results(output):
    """{workload: {FIO_KEYS...}} from the guest's 'result' lines."""
    out = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) == 2 + len(FIO_KEYS) and words[0] == 'result':
            try:
                nums = [float(w) for w in words[2:]]
            except ValueError:
                continue
            out[words[1]] = dict(zip(FIO_KEYS, nums))
    return out


def make_disk(path):
    """The host file every setup serves.  Written, not sparse: reads then
    cost the same page-cache copy everywhere."""
    chunk = os.urandom(MiB)
    with open(path, 'wb') as f:
        for _ in range(DISK_SIZE // MiB):
            f.write(chunk)


def sample(pid):
    """{'cpu_s', 'rss_kib', 'hwm_kib'} of process PID now, or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            stat = f.read()
        with open('/proc/%d/status' % pid) as f:
            status = f.read()
    except OSError:
        return None
    # Fields after the parenthesised command name; utime, stime are 14, 15.
    fields = stat[stat.rindex(')') + 2:].split()
    out = {'cpu_s': (int(fields[11]) + int(fields[12])) / CLK_TCK}
    for line in status.splitlines():
        key, _, value = line.partition(':')
        if key in ('VmRSS', 'VmHWM'):
            out[key == 'VmRSS' and 'rss_kib' or 'hwm_kib'] = int(value.split()[0])
    return out


class _Sampler:
    """Console callback: samples the device process at every marker."""

    def __init__(self, vm, process):
        self.vm = vm
        self.process = process
        self.marks = {}         # (begin|end, workload) -> sample
        self.times = {}         # (begin|end, workload) -> time.monotonic()
        self.last = None        # the latest successful sample
        self.running = None     # (workload, begin time) while fio runs

    def __call__(self, line):
        words = line.split()
        if len(words) != 3 or words[0] != MARK:
            return
        now = time.monotonic()
        self.times[(words[1], words[2])] = now
        self.running = (words[2], now) if words[1] == 'begin' else None
        proc = self.vm.helpers.get(self.process) if self.process else None
        s = sample(proc.pid) if proc else None
        if s:
            self.marks[(words[1], words[2])] = s
            self.last = s


class _BenchMachine(machine.Machine):
    """machine.Machine that remembers its helper processes by name and can
    stop the VMM early."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helpers = {}
        self.stalled = None

    def spawn(self, name, argv, *args, **kwargs):
        p = super().spawn(name, argv, *args, **kwargs)
        self.helpers[name] = p
        return p

    def stop_vmm(self, why):
        """Stops the VMM (run() then collects everything as usual)."""
        self.stalled = why
        for p in list(self._procs):
            if p.name == 'qemu':
                p.stop()


def _watch(vm, sampler, runtime, done):
    """Stops VM when a workload overruns by STALL_GRACE seconds."""
    while not done.wait(1):
        running = sampler.running
        if running and time.monotonic() - running[1] > runtime + STALL_GRACE:
            vm.stop_vmm('%s stalled' % running[0])
            return


def run_boot(setup, image, disk, workloads, runtime, console_hook=None):
    """One boot of SETUP (setups.Setup) running WORKLOADS.  CONSOLE_HOOK,
    if given, is called with each console line instead of the sampler and
    must pass the line on to its .sampler attribute (set here).  Returns
    (figures, machine.Result): figures is {workload: fio keys + 'cpu_s'},
    'boot_s' (start to the first workload) and 'fio_s' (all workloads),
    plus 'peak_rss_kib' and 'end_rss_kib' when a device process exists."""
    timeout = 120 + len(workloads) * (runtime + 30) * 3
    vm = _BenchMachine(image, script=guest_script(workloads, runtime,
                                                  setup.polled),
                       devices=[setup.device(disk)], polled=setup.polled,
                       accel=setup.accel, timeout=timeout, append=APPEND)
    sampler = _Sampler(vm, setup.process)
    vm.console_cb = sampler
    if console_hook:
        console_hook.sampler = sampler
        vm.console_cb = console_hook
    done = threading.Event()
    watchdog = threading.Thread(target=_watch,
                                args=(vm, sampler, runtime, done), daemon=True)
    start = time.monotonic()
    watchdog.start()
    try:
        res = vm.run()
    finally:
        done.set()
        watchdog.join()
    res.stalled = vm.stalled
    figures = parse_results(res.output)
    first = sampler.times.get(('begin', workloads[0]))
    last = sampler.times.get(('end', workloads[-1]))
    if first and last:
        figures['boot_s'] = first - start
        figures['fio_s'] = last - first
    for name, f in figures.items():
        begin = sampler.marks.get(('begin', name))
        end = sampler.marks.get(('end', name))
        if begin and end:
            f['cpu_s'] = end['cpu_s'] - begin['cpu_s']
    if sampler.last:
        figures['peak_rss_kib'] = sampler.last.get('hwm_kib')
        figures['end_rss_kib'] = sampler.last.get('rss_kib')
    return figures, res
