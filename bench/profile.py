#!/usr/bin/python3
"""Profile a device process while a guest workload runs against it.

    bench/profile.py --build BUILD --setup NAME --workload W
                     [--runtime S] [--tool strace|perf|perf-sched|none]
                     [--out DIR]

Boots the benchmark guest once with SETUP (bench/lib/setups.py) and runs
the fio workload W (bench/lib/guestio.py); while fio runs, the tool is
attached to the device process (the remote, or the vhost-user backend):
  strace      strace -c -f: system calls per request (divide by fio's I/Os)
  strace-log  strace -f -tt: every call, to read one request's sequence
  perf        perf record -g, then perf report --no-children (top symbols)
  perf-sched  perf sched record, then the latency summary per thread
  none        just the figures
Prints fio's figures, the device process's CPU time, and the tool's report
(also saved in DIR, default BUILD/bench/profile).
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib'))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests', 'functional',
                                'lib'))
import guest  # noqa: E402
import guestio  # noqa: E402
import setups as setups_mod  # noqa: E402

TOOLS = {
    'strace': lambda pid, out: ['strace', '-c', '-f', '-q', '-o', out, '-p',
                                str(pid)],
    'strace-log': lambda pid, out: ['strace', '-f', '-q', '-tt', '-o', out,
                                    '-p', str(pid)],
    'perf': lambda pid, out: ['perf', 'record', '-q', '-g', '-o', out, '-p',
                              str(pid)],
    'perf-sched': lambda pid, out: ['perf', 'sched', 'record', '-o', out,
                                    '-p', str(pid)],
}


class Attach:
    """Console hook: starts the tool at the workload's begin marker and
    stops it (SIGINT, as a user would) at the end marker."""

    def __init__(self, tool, out):
        self.tool = tool
        self.out = out
        self.proc = None
        self.sampler = None

    def __call__(self, line):
        self.sampler(line)
        words = line.split()
        if len(words) != 3 or words[0] != guestio.MARK or not self.tool:
            return
        target = self.sampler.vm.helpers.get(self.sampler.process)
        if words[1] == 'begin' and target and not self.proc:
            self.proc = subprocess.Popen(TOOLS[self.tool](target.pid,
                                                          self.out),
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
        elif words[1] == 'end':
            self.stop()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def tool_report(tool, raw):
    if tool in ('strace', 'strace-log'):
        with open(raw) as f:
            return f.read()
    if tool == 'perf':
        argv = ['perf', 'report', '-i', raw, '--no-children', '--stdio',
                '--percent-limit', '1', '-g', 'none']
    else:
        argv = ['perf', 'sched', 'latency', '-i', raw, '--sort', 'max']
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    return p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', required=True)
    ap.add_argument('--setup', required=True)
    ap.add_argument('--workload', required=True, choices=guestio.WORKLOADS)
    ap.add_argument('--runtime', type=int, default=10)
    ap.add_argument('--tool', default='strace',
                    choices=list(TOOLS) + ['none'])
    ap.add_argument('--out')
    args = ap.parse_args()

    os.environ.setdefault('QEMU_REMOTE', os.path.abspath(
        os.path.join(args.build, 'remote', 'qemu-remote')))
    by_name = {s.name: s for s in setups_mod.all_setups(False)}
    setup = by_name.get(args.setup)
    if not setup:
        ap.error('unknown setup; one of ' + ', '.join(by_name))
    why = setup.unavailable()
    if why:
        print('%s: %s' % (setup.name, why))
        return 1
    out = os.path.abspath(args.out or os.path.join(args.build, 'bench',
                                                   'profile'))
    os.makedirs(out, exist_ok=True)
    raw = os.path.join(out, '%s-%s.%s' % (setup.name, args.workload,
                                          args.tool))
    tool = None if args.tool == 'none' or not setup.process else args.tool
    attach = Attach(tool, raw)
    with tempfile.TemporaryDirectory(prefix='qr-profile-') as workdir:
        disk = os.path.join(workdir, 'disk.img')
        guestio.make_disk(disk)
        try:
            boot, res = guestio.run_boot(setup, guest.build(), disk,
                                         [args.workload], args.runtime,
                                         console_hook=attach)
        finally:
            attach.stop()
    fig = boot.get(args.workload)
    if not fig:
        print(res.describe())
        return 1
    ios = fig['read_kib'] / 4 + fig['write_kib'] / 4 \
        if '4k' in args.workload else None
    print('%s %s: %s' % (setup.name, args.workload, ', '.join(
        '%s %.5g' % kv for kv in sorted(fig.items()))))
    if ios:
        print('4k I/Os: %d' % ios)
    if tool:
        text = tool_report(tool, raw)
        with open(raw + '.txt', 'w') as f:
            f.write(text)
        print(text[:6000])
    return 0


if __name__ == '__main__':
    sys.exit(main())
