#!/usr/bin/python3
"""Side-by-side benchmark of qemu-remote against QEMU's own implementations.

    bench/bench.py --build BUILD [--quick] [--out DIR] [--sections ...]
                   [--setups a,b] [--boots N] [--runtime S]

In one run, on one host file and one guest (see docs/performance.md):
  rtt     build/bench/proxy-rtt: added µs of a config read, BAR read and BAR
          write through x-pci-proxy-dev, qemu-remote vs QEMU's remote
  launch  build/bench/launch: exec to first answered request and VmRSS
          then, for both mpqemu remotes, the qemu-remote vhost-user export
          and qemu-storage-daemon
  guest   fio in the functional-test guest for every setup of
          bench/lib/setups.py, boots interleaved (round 1 boots every
          setup, then round 2, ...), with the device process's CPU time
          and peak RSS sampled meanwhile
Writes DIR/results.json, DIR/table.md (also printed) and DIR/chart.png;
DIR defaults to BUILD/bench.  Exit status 1 if any measurement failed (the
outputs then say which).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, 'lib'))
sys.path.insert(0, os.path.join(TOP, 'tests', 'functional', 'lib'))
import accel  # noqa: E402
import guest  # noqa: E402
import guestio  # noqa: E402
import report  # noqa: E402
import setups as setups_mod  # noqa: E402

# Full and quick runs: (boots per setup, fio seconds per workload,
# launches per server, proxy-rtt runs, rounds per proxy-rtt run).
PLANS = {
    'full': dict(boots=3, runtime=4, launches=5, rtt_runs=3, rtt_rounds=21),
    'quick': dict(boots=1, runtime=2, launches=3, rtt_runs=3, rtt_rounds=7),
}
SECTIONS = ('rtt', 'launch', 'guest')
# A 1-minute load average above this means other work shares the host.
BUSY_LOAD = 1.5

# proxy-rtt's remote names -> setup names.
RTT_REMOTES = {'qemu-remote': 'qemu-remote', 'qemu': 'x-remote'}


def log(msg):
    print('# ' + msg, flush=True)


def machine_description(build):
    def run(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True,
                                  timeout=30, cwd=TOP).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ''
    cpu = ''
    mem = ''
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    with open('/proc/meminfo') as f:
        mem = f.readline().split(':', 1)[1].strip()
    return {
        'date': datetime.datetime.now().isoformat(timespec='seconds'),
        'cpu': cpu, 'cpus': os.cpu_count(), 'memory': mem,
        'kernel': platform.release(),
        'qemu': run([setups_mod.QEMU, '--version']).splitlines()[0:1],
        'qemu_remote': run(['git', 'describe', '--always', '--dirty']),
        'build': os.path.abspath(build),
        'load_at_start': [round(x, 2) for x in os.getloadavg()],
    }


def add(samples, setup, fid, value):
    if value is not None:
        samples.setdefault(setup, {}).setdefault(fid, []).append(value)


def pin_to_one_cpu():
    """Keeps proxy-rtt, the VMM and the remote it starts on one CPU.  On a
    virtual machine, waking a thread on another, idle vCPU costs 30-40 µs
    some of the time, which made both the device accesses and the baseline
    they are measured against jump between about 13 and 50 µs; on one CPU
    each wake-up is a plain context switch and the figures are stable."""
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})


def section_rtt(build, plan, workdir, samples, failures):
    exe = os.path.join(build, 'bench', 'proxy-rtt')
    env = dict(os.environ,
               QTEST_QEMU_REMOTE_BINARY=os.environ['QEMU_REMOTE'],
               QTEST_QEMU_BINARY=setups_mod.QEMU)
    for run in range(plan['rtt_runs']):
        out = os.path.join(workdir, 'rtt.json')
        p = subprocess.run([exe, '-R', str(plan['rtt_rounds']), '-j', out],
                           capture_output=True, text=True, env=env,
                           timeout=600, stdin=subprocess.DEVNULL,
                           preexec_fn=pin_to_one_cpu)
        if p.returncode != 0 or not os.path.exists(out):
            failures.append('proxy-rtt run %d: %s' % (
                run + 1, (p.stdout + p.stderr).strip()[-500:]))
            continue
        with open(out) as f:
            data = json.load(f)
        os.unlink(out)
        for remote, figs in data['remotes'].items():
            setup = RTT_REMOTES.get(remote)
            for op in ('config_read', 'bar_read', 'bar_write'):
                add(samples, setup, 'rtt.' + op, figs.get(op + '_delta_us'))
        log('proxy-rtt run %d: %s' % (run + 1, ', '.join(
            '%s %.1f/%.1f/%.1f us' % (r, f['config_read_delta_us'],
                                      f['bar_read_delta_us'],
                                      f['bar_write_delta_us'])
            for r, f in data['remotes'].items())))


def launch_commands(build, disk, workdir, skipped):
    """setup name -> launch argv (without -n/-j)."""
    exe = os.path.join(build, 'bench', 'launch')
    ours = os.environ['QEMU_REMOTE']
    node = 'node0'
    bdev = 'driver=file,node-name=%s,filename=%s' % (node, disk)
    dev = 'virtio-blk-pci,id=vblk0,drive=%s' % node
    sock = os.path.join(workdir, 'launch.sock')
    export = ('type=vhost-user-blk,id=exp0,node-name=%s,addr.type=unix,'
              'addr.path=%s,writable=on,num-queues=1' % (node, sock))
    cmds = {
        'qemu-remote': [exe, 'mpqemu', ours, dev, '-blockdev', bdev],
        'x-remote': [exe, 'mpqemu', setups_mod.QEMU, dev, '-display', 'none',
                     '-blockdev', bdev],
        'qemu-remote-vu': [exe, 'vhost-user', sock, ours, '-blockdev', bdev,
                           '-export', export],
        'qsd': [exe, 'vhost-user', sock, setups_mod.QSD, '--blockdev', bdev,
                '--export', export],
    }
    for s in setups_mod.all_setups(False):
        if s.name in cmds:
            why = s.unavailable()
            if why:
                skipped.setdefault(s.name, why)
                del cmds[s.name]
    return cmds


def section_launch(build, plan, disk, workdir, samples, failures, skipped):
    cmds = launch_commands(build, disk, workdir, skipped)
    out = os.path.join(workdir, 'launch.json')
    # Interleaved: one launch of each server per round.
    for run in range(plan['launches']):
        for name, argv in cmds.items():
            p = subprocess.run([argv[0], '-n', '1', '-j', out] + argv[1:],
                               capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL)
            if p.returncode != 0 or not os.path.exists(out):
                failures.append('launch %s: %s' % (
                    name, (p.stdout + p.stderr).strip()[-500:]))
                continue
            with open(out) as f:
                data = json.load(f)
            os.unlink(out)
            add(samples, name, 'launch', data['launch_ms'][0])
            add(samples, name, 'start_rss', data['rss_kib'][0] / 1024)
    for name in cmds:
        figs = samples.get(name, {})
        if figs.get('launch'):
            log('launch %s: %s ms, %s MiB' % (
                name, ' '.join('%.1f' % v for v in figs['launch']),
                ' '.join('%.1f' % v for v in figs['start_rss'])))


def section_guest(plan, setups, image, disk, samples, failures,
                  reference_failures, skipped, logdir):
    """Boots every setup plan['boots'] times.  A boot that does not finish
    its workloads is listed in FAILURES for our setups and in
    REFERENCE_FAILURES for the implementations we compare against (a stall
    of qemu-storage-daemon's QD32 reads under TCG recurs on this host)."""
    runnable = []
    for s in setups:
        why = s.unavailable()
        if why:
            skipped.setdefault(s.name, why)
            log('%s: skipped: %s' % (s.name, why))
        else:
            runnable.append(s)
    workloads = list(guestio.WORKLOADS)
    for rnd in range(plan['boots']):
        # Each round starts one setup later, so no setup always follows
        # the same neighbour (or always runs first, on a colder host).
        order = runnable[rnd % len(runnable):] + runnable[:rnd % len(runnable)] \
            if runnable else []
        for s in order:
            t = time.monotonic()
            boot, res = guestio.run_boot(s, image, disk, workloads,
                                         plan['runtime'])
            figs = report.guest_figures(boot)
            log('%s boot %d: %.0f s (boot %.1f s, fio %.1f s), %s' % (
                s.name, rnd + 1, time.monotonic() - t,
                boot.get('boot_s', 0), boot.get('fio_s', 0),
                ', '.join('%s %.4g' % kv for kv in sorted(figs.items()))))
            if not all(w in boot for w in workloads):
                path = os.path.join(logdir, 'failed-%s-%d.log'
                                    % (s.name, rnd + 1))
                with open(path, 'w') as f:
                    f.write(res.describe() + '\n')
                done = sum(w in boot for w in workloads)
                why = '%s boot %d: %d of %d workloads%s (log: %s)' % (
                    s.name, rnd + 1, done, len(workloads),
                    ', ' + res.stalled if res.stalled else '', path)
                if s.role == setups_mod.OURS:
                    failures.append(why)
                else:
                    reference_failures.append(why)
            for fid, v in figs.items():
                add(samples, s.name, fid, v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', required=True, help='meson build directory')
    ap.add_argument('--quick', action='store_true',
                    help='one boot per setup, short fio runs (under 3 min)')
    ap.add_argument('--out', help='output directory (default BUILD/bench)')
    ap.add_argument('--sections', default=','.join(SECTIONS),
                    help='comma-separated subset of: ' + ', '.join(SECTIONS))
    ap.add_argument('--setups', help='comma-separated setup names for the '
                    'guest section (default: all; see bench/lib/setups.py)')
    ap.add_argument('--boots', type=int, help='boots per setup')
    ap.add_argument('--runtime', type=int, help='fio seconds per workload')
    args = ap.parse_args()

    plan = dict(PLANS['quick' if args.quick else 'full'])
    if args.boots:
        plan['boots'] = args.boots
    if args.runtime:
        plan['runtime'] = args.runtime
    sections = [s for s in args.sections.split(',') if s]
    for s in sections:
        if s not in SECTIONS:
            ap.error('unknown section %r' % s)
    out = os.path.abspath(args.out or os.path.join(args.build, 'bench'))
    os.makedirs(out, exist_ok=True)
    os.environ.setdefault('QEMU_REMOTE', os.path.abspath(
        os.path.join(args.build, 'remote', 'qemu-remote')))

    start = time.monotonic()
    samples, failures, reference_failures, skipped = {}, [], [], {}
    if os.getloadavg()[0] > BUSY_LOAD:
        log('warning: load average %.1f: other work is running, figures will '
            'be noisy' % os.getloadavg()[0])
    image = guest.build() if 'guest' in sections else None
    kvm = bool(image) and accel.kvm_boots(image)
    every = setups_mod.all_setups(kvm)
    all_setups = every
    if not kvm:
        skipped['mpqemu-kvm'] = 'KVM cannot boot the guest on this host'
    if args.setups:
        wanted = args.setups.split(',')
        unknown = set(wanted) - {s.name for s in all_setups}
        if unknown:
            ap.error('unknown setups: ' + ', '.join(sorted(unknown)))
        all_setups = [s for s in all_setups if s.name in wanted]
    result = {'machine': machine_description(args.build),
              'plan': plan, 'sections': sections}

    with tempfile.TemporaryDirectory(prefix='qr-bench-') as workdir:
        disk = os.path.join(workdir, 'disk.img')
        guestio.make_disk(disk)
        if 'rtt' in sections:
            log('proxy round trips (%d runs)' % plan['rtt_runs'])
            section_rtt(args.build, plan, workdir, samples, failures)
        if 'launch' in sections:
            log('launch and RSS after startup (%d launches each)'
                % plan['launches'])
            section_launch(args.build, plan, disk, workdir, samples,
                           failures, skipped)
        if 'guest' in sections:
            log('guest fio, %d boot(s) per setup, %d s per workload, accel '
                'tcg%s' % (plan['boots'], plan['runtime'],
                           ' and kvm' if kvm else ''))
            section_guest(plan, all_setups, image, disk, samples, failures,
                          reference_failures, skipped, out)

    result['machine']['load_at_end'] = [round(x, 2) for x in
                                        os.getloadavg()]
    result.update({
        'samples': samples, 'summary': report.summarise(samples),
        'skipped': skipped, 'failures': failures + reference_failures,
        'elapsed_s': round(time.monotonic() - start),
        'runs_note': '%d boot(s) per setup (guest figures), %d launches, '
                     '%d proxy-rtt runs of %d rounds'
                     % (plan['boots'], plan['launches'], plan['rtt_runs'],
                        plan['rtt_rounds']),
        'setups_obj': [s for s in every
                       if s.name in samples or s.name in skipped],
    })
    table = report.markdown(result)
    with open(os.path.join(out, 'table.md'), 'w') as f:
        f.write(table)
    report.write_json(result, os.path.join(out, 'results.json'))
    why = report.write_chart(result, os.path.join(out, 'chart.png'))
    print()
    print(table)
    log('%s; %d s; outputs in %s%s' % (
        result['runs_note'], result['elapsed_s'], out,
        '' if not why else ' (no chart: %s)' % why))
    for f in failures:
        log('FAILED: ' + f)
    for f in reference_failures:
        log('FAILED (not ours, figures from its other boots): ' + f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
