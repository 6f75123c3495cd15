#!/usr/bin/python3
"""Guest fio benchmark: the same guest and disk, served different ways.

    bench/guest-fio.py [--build BUILD] [--setups a,b,..] [--workloads w,..]
                       [--runtime S] [--boots N] [--json FILE]

For each setup (tests/functional/lib/devices.py: qemu-remote, x-remote,
in-process, vhost-user) and each of --boots repetitions, boots the functional
test guest once and runs every workload with fio inside it, one after the
other; prints the median per (setup, workload) and its ratio to the
in-process device.  The mpqemu setups and in-process run in the polled mode
(irqpoll, poll queue, io_uring --hipri: the only way a TCG guest does I/O
through x-pci-proxy-dev); vhost-user runs with interrupts, as polled
vhost-user-blk hangs (specs/test-environment.md).  Setups that cannot run
here (qemu-remote without virtio-blk-pci, no qemu-storage-daemon) are
reported and skipped.

A setup may name its mode: KIND:polled or KIND:irq (e.g. in-process:irq
is the fair baseline for vhost-user).  The proxied setups need :polled under
TCG (nothing else completes there).

Add a workload: one line in WORKLOADS.  Add a setup: one kind in
devices.blk() (and POLLED if it needs the polled mode by default).
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'functional', 'lib'))
import devices  # noqa: E402
import guest  # noqa: E402
import machine  # noqa: E402

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
DEFAULT_WORKLOADS = ['randread-4k-qd1']

# Setups that boot in the polled mode unless told KIND:irq (no interrupts
# through the proxy under TCG; in-process polls to be comparable).
POLLED = {'qemu-remote', 'x-remote', 'in-process'}
BASELINE = 'in-process'

# Terse v3 fields (1-based, awk numbering): read KiB/s and IOPS, write ditto.
FIO_FIELDS = '$7, $8, $48, $49'


def guest_script(workloads, runtime, polled):
    hipri = '--hipri ' if polled else ''
    lines = []
    for name in workloads:
        lines.append(
            "fio --name=%s --filename=/dev/vda --ioengine=io_uring %s"
            "--direct=1 --time_based --runtime=%d --ramp_time=1 --size=%dM %s "
            "--output-format=terse --terse-version=3 2>/tmp/fio.err "
            "| awk -F';' '/^3;/ {print \"result %s\", %s}' "
            "|| echo \"result %s failed $(cat /tmp/fio.err)\""
            % (name, hipri, runtime, DISK_SIZE // MiB, WORKLOADS[name], name,
               FIO_FIELDS, name))
    return '\n'.join(lines) + '\n'


def parse_results(output):
    """{workload: {'read_bw_kib', 'read_iops', 'write_bw_kib', 'write_iops'}}"""
    out = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) == 6 and words[0] == 'result':
            try:
                nums = [float(w) for w in words[2:]]
            except ValueError:
                continue
            out[words[1]] = dict(zip(('read_bw_kib', 'read_iops',
                                      'write_bw_kib', 'write_iops'), nums))
    return out


def make_disk(path):
    # Written, not sparse: reads then cost the same page-cache copy everywhere.
    chunk = os.urandom(MiB)
    with open(path, 'wb') as f:
        for _ in range(DISK_SIZE // MiB):
            f.write(chunk)


def parse_setup(setup):
    """'KIND[:polled|:irq]' -> (kind, polled) or ValueError."""
    kind, _, mode = setup.partition(':')
    if kind not in devices.BLK_KINDS or mode not in ('', 'polled', 'irq'):
        raise ValueError(setup)
    return kind, (kind in POLLED) if not mode else mode == 'polled'


def run_setup(setup, image, disk, workloads, runtime):
    """One boot; returns (results dict, Result)."""
    kind, polled = parse_setup(setup)
    timeout = 120 + len(workloads) * (runtime + 30) * 3
    res = machine.Machine(image, script=guest_script(workloads, runtime, polled),
                          devices=[devices.blk(kind, disk, polled=polled)],
                          polled=polled, timeout=timeout).run()
    return parse_results(res.output), res


def unavailable(setup):
    kind = parse_setup(setup)[0]
    if kind == 'qemu-remote':
        return devices.qemu_remote_lacks('virtio-blk-pci')
    if kind == 'vhost-user' and not shutil.which(devices.QSD):
        return '%s not installed' % devices.QSD
    return None


def metric(workload, values):
    """The figure that matters for WORKLOAD: IOPS, or KiB/s for sequential."""
    rw = 'write' if 'write' in workload else 'read'
    key = '%s_%s' % (rw, 'iops' if workload.startswith('rand') else 'bw_kib')
    return key, values[key]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', default=os.path.join(TOP, 'build'),
                    help='build directory with remote/qemu-remote (default build/; '
                    '$QEMU_REMOTE wins)')
    ap.add_argument('--setups', default='qemu-remote,x-remote,in-process',
                    help='comma-separated KIND[:polled|:irq], KIND from: '
                    + ', '.join(devices.BLK_KINDS))
    ap.add_argument('--workloads', default=','.join(DEFAULT_WORKLOADS),
                    help='comma-separated, from: ' + ', '.join(WORKLOADS))
    ap.add_argument('--runtime', type=int, default=10, help='seconds per workload')
    ap.add_argument('--boots', type=int, default=1,
                    help='boots per setup; the median is reported')
    ap.add_argument('--json', help='write all samples and medians here')
    args = ap.parse_args()

    if not os.environ.get('QEMU_REMOTE'):
        os.environ['QEMU_REMOTE'] = os.path.abspath(
            os.path.join(args.build, 'remote', 'qemu-remote'))
    setups = [s for s in args.setups.split(',') if s]
    workloads = [w for w in args.workloads.split(',') if w]
    for s in setups:
        try:
            parse_setup(s)
        except ValueError:
            ap.error('unknown setup %r' % s)
    for w in workloads:
        if w not in WORKLOADS:
            ap.error('unknown workload %r' % w)

    image = guest.build()
    workdir = tempfile.mkdtemp(prefix='qr-bench-')
    report = {'accel': None, 'runtime': args.runtime, 'boots': args.boots,
              'guest': image.dir, 'samples': {}, 'median': {}, 'skipped': {}}
    failed = False
    try:
        disk = os.path.join(workdir, 'disk.img')
        make_disk(disk)
        for kind in setups:
            reason = unavailable(kind)
            if reason:
                report['skipped'][kind] = reason
                print('# %s: skipped: %s' % (kind, reason), flush=True)
                continue
            samples = report['samples'].setdefault(kind, [])
            for n in range(args.boots):
                t = time.monotonic()
                results, res = run_setup(kind, image, disk, workloads,
                                         args.runtime)
                report['accel'] = res.accel
                print('# %s boot %d: %.0f s, %s' % (kind, n + 1,
                                                    time.monotonic() - t,
                                                    results or 'no results'),
                      flush=True)
                if set(results) != set(workloads):
                    failed = True
                    print(res.describe(), file=sys.stderr)
                samples.append(results)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print('%-18s %-18s %12s %8s' % ('setup', 'workload', 'median', 'ratio'))
    for w in workloads:
        base = None
        for kind in setups:
            vals = [s[w] for s in report['samples'].get(kind, []) if w in s]
            if not vals:
                continue
            key = metric(w, vals[0])[0]
            med = statistics.median(v[key] for v in vals)
            report['median'].setdefault(kind, {})[w] = {key: med}
            if kind.partition(':')[0] == BASELINE and base is None:
                base = med
        for kind in setups:
            entry = report['median'].get(kind, {}).get(w)
            if not entry:
                continue
            (key, med), = entry.items()
            ratio = '%.2fx' % (med / base) if base else '-'
            unit = 'IOPS' if key.endswith('iops') else 'KiB/s'
            print('%-18s %-18s %7.0f %-5s %7s' % (kind, w, med, unit, ratio))
    print('# accel %s, %d s per workload, %d boot(s) per setup, ratio to the '
          'first %s setup' % (report['accel'], args.runtime, args.boots, BASELINE))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
