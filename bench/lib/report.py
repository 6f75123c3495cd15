"""Figures, their statistics and ratios, and the three outputs of a run:
the text table, results.json and chart.png (gnuplot).

Samples are kept as {setup name: {figure id: [value per run]}}; every
figure is reported as the median of its runs with min and max, and each
group's table adds ours/theirs and ratios to the in-process device.
"""

import json
import os
import statistics
import subprocess

import setups as setups_mod

HIGHER, LOWER = 'higher', 'lower'

# Group prefixes of the ratio chart's labels.
GROUP_SHORT = {'mpqemu': 'mpq', 'mpqemu-kvm': 'mpq/kvm', 'vhost-user': 'vu'}


class Figure:
    def __init__(self, fid, label, unit, better, source, short):
        self.id = fid
        self.label = label
        self.unit = unit
        self.better = better
        self.source = source    # 'guest', 'launch' or 'rtt'
        self.short = short      # chart label


FIGURES = [
    Figure('randread-4k-qd1.iops', '4k randread QD1', 'IOPS', HIGHER, 'guest',
           'rr QD1'),
    Figure('randread-4k-qd1.lat', '4k randread QD1 mean latency', 'us', LOWER,
           'guest', 'rr QD1 lat'),
    Figure('randread-4k-qd32.iops', '4k randread QD32', 'IOPS', HIGHER,
           'guest', 'rr QD32'),
    Figure('randread-4k-qd32.lat', '4k randread QD32 mean latency', 'us',
           LOWER, 'guest', 'rr QD32 lat'),
    Figure('randwrite-4k-qd1.iops', '4k randwrite QD1', 'IOPS', HIGHER,
           'guest', 'rw QD1'),
    Figure('randwrite-4k-qd1.lat', '4k randwrite QD1 mean latency', 'us',
           LOWER, 'guest', 'rw QD1 lat'),
    Figure('read-128k-qd1.mibs', '128k seq read QD1', 'MiB/s', HIGHER,
           'guest', 'seq 128k'),
    Figure('cpu_per_gib', 'device process CPU per GiB moved', 's/GiB', LOWER,
           'guest', 'CPU/GiB'),
    Figure('peak_rss', 'device process RSS at peak', 'MiB', LOWER, 'guest', 'RSS peak'),
    Figure('start_rss', 'device process RSS after startup', 'MiB', LOWER,
           'launch', 'RSS start'),
    Figure('launch', 'launch to first answered request', 'ms', LOWER,
           'launch', 'launch'),
    Figure('rtt.config_read', 'config read via proxy, added', 'us', LOWER,
           'rtt', 'cfg rd'),
    Figure('rtt.bar_read', 'BAR read via proxy, added', 'us', LOWER, 'rtt', 'BAR rd'),
    Figure('rtt.bar_write', 'BAR write via proxy, added', 'us', LOWER, 'rtt', 'BAR wr'),
]
BY_ID = {f.id: f for f in FIGURES}
THROUGHPUT = [f.id for f in FIGURES if f.unit in ('IOPS', 'MiB/s')]

# The targets (goals for the code, reported, never asserted):
# group -> figure -> [(compared with, '>=' or '<=', ratio)].
TARGETS = {'mpqemu': {}, 'vhost-user': {}}
for _fid in THROUGHPUT:
    TARGETS['mpqemu'][_fid] = [(setups_mod.THEIRS, '>=', 1.5)]
    TARGETS['vhost-user'][_fid] = [(setups_mod.THEIRS, '>=', 1.0)]
    if 'read' in _fid and 'write' not in _fid:
        TARGETS['vhost-user'][_fid].append((setups_mod.IN_PROCESS, '>=', 1.0))
for _fid in ('randread-4k-qd1.lat', 'randread-4k-qd32.lat',
             'randwrite-4k-qd1.lat'):
    TARGETS['vhost-user'][_fid] = [(setups_mod.THEIRS, '<=', 1.0)]
for _fid in ('rtt.config_read', 'rtt.bar_read', 'rtt.bar_write'):
    TARGETS['mpqemu'][_fid] = [(setups_mod.THEIRS, '<=', 0.5)]
TARGETS['mpqemu']['start_rss'] = [(setups_mod.THEIRS, '<=', 0.1)]
TARGETS['mpqemu']['launch'] = [(setups_mod.THEIRS, '<=', 0.1)]
TARGETS['vhost-user']['start_rss'] = [(setups_mod.THEIRS, '<=', 0.5)]


def guest_figures(boot):
    """{figure id: value} from one boot's guestio.run_boot() figures."""
    out = {}
    gib_moved = cpu = 0.0
    for name, f in boot.items():
        if not isinstance(f, dict):
            continue
        rw = 'write' if 'write' in name else 'read'
        if name.startswith('rand'):
            out[name + '.iops'] = f[rw + '_iops']
            out[name + '.lat'] = f[rw + '_lat_us']
        else:
            out[name + '.mibs'] = f[rw + '_bw_kib'] / 1024
        if 'cpu_s' in f:
            cpu += f['cpu_s']
            gib_moved += (f['read_kib'] + f['write_kib']) / (1 << 20)
    if gib_moved and cpu:
        out['cpu_per_gib'] = cpu / gib_moved
    if boot.get('peak_rss_kib'):
        out['peak_rss'] = boot['peak_rss_kib'] / 1024
    return out


def stats(values):
    if not values:
        return None
    return {'median': statistics.median(values), 'min': min(values),
            'max': max(values), 'n': len(values)}


def summarise(samples):
    """{setup: {figure: stats}} from {setup: {figure: [values]}}."""
    return {s: {f: stats(v) for f, v in figs.items() if v}
            for s, figs in samples.items()}


def _role(group_setups, role):
    """The first setup of GROUP_SETUPS with ROLE, or None."""
    return next((s for s in group_setups if s.role == role), None)


def ratios(summary, group_setups, fid):
    """(ours/theirs, ours/in-process, theirs/in-process) medians' ratios,
    None where a side is missing."""
    def med(setup):
        st = summary.get(setup.name, {}).get(fid) if setup else None
        return st['median'] if st else None
    ours, theirs, base = (med(_role(group_setups, r)) for r in
                          (setups_mod.OURS, setups_mod.THEIRS,
                           setups_mod.IN_PROCESS))

    def r(a, b):
        return a / b if a is not None and b else None
    return r(ours, theirs), r(ours, base), r(theirs, base)


def target_verdicts(group, fid, rat):
    """['>=1.5x theirs: met', ...] for the figure's targets in GROUP."""
    out = []
    for vs, op, value in TARGETS.get(group, {}).get(fid, []):
        got = rat[0] if vs == setups_mod.THEIRS else rat[1]
        if got is None:
            verdict = 'n/a'
        else:
            ok = got >= value if op == '>=' else got <= value
            verdict = 'met' if ok else 'MISSED'
        out.append('%s%gx %s: %s' % (op, value,
                                     'theirs' if vs == setups_mod.THEIRS
                                     else 'in-proc', verdict))
    return out


def _fmt(v):
    if v is None:
        return '-'
    if abs(v) >= 1000:
        return '%.0f' % v
    if abs(v) >= 100:
        return '%.1f' % v
    return '%.2f' % v


def _cell(st):
    if not st:
        return '-'
    return '%s [%s-%s]' % (_fmt(st['median']), _fmt(st['min']),
                           _fmt(st['max']))


def _ratio(r):
    return '%.2fx' % r if r is not None else '-'


def group_rows(summary, group_setups):
    """Rows (figure label, unit, cells per setup, 3 ratios, targets) of
    the figures any setup of the group has."""
    rows = []
    for fig in FIGURES:
        cells = [summary.get(s.name, {}).get(fig.id) for s in group_setups]
        if not any(cells):
            continue
        rat = ratios(summary, group_setups, fig.id)
        rows.append((fig, cells, rat,
                     target_verdicts(group_setups[0].group, fig.id, rat)))
    return rows


def markdown(result):
    """The tables as Markdown (docs/performance.md keeps this)."""
    summary = result['summary']
    out = []
    for group, title in setups_mod.GROUPS.items():
        gs = [s for s in result['setups_obj'] if s.group == group]
        if not gs:
            continue
        rows = group_rows(summary, gs)
        out += ['### ' + title, '']
        if not rows:
            out += ['No figures (see skipped setups below).', '']
            continue
        head = (['figure', 'unit'] + [s.label for s in gs]
                + ['ours/theirs', 'ours/in-proc', 'theirs/in-proc', 'target'])
        out.append('| ' + ' | '.join(head) + ' |')
        out.append('|' + '---|' * len(head))
        for fig, cells, rat, verdicts in rows:
            out.append('| ' + ' | '.join(
                [fig.label, fig.unit] + [_cell(c) for c in cells]
                + [_ratio(r) for r in rat] + ['; '.join(verdicts)]) + ' |')
        out.append('')
    if result['skipped']:
        out.append('Skipped: ' + '; '.join('%s (%s)' % kv for kv in
                                           result['skipped'].items()))
        out.append('')
    if result['failures']:
        out.append('Failed runs: ' + '; '.join(result['failures']))
        out.append('')
    out.append('Cells: median [min-max] of %s; higher is better for IOPS and '
               'MiB/s, lower for the rest.' % result['runs_note'])
    return '\n'.join(out) + '\n'


def write_json(result, path):
    data = {k: v for k, v in result.items() if k != 'setups_obj'}
    data['setups'] = [dict(name=s.name, label=s.label, group=s.group,
                           role=s.role, polled=s.polled, accel=s.accel)
                      for s in result['setups_obj']]
    data['ratios'] = {}
    data['targets'] = {}
    for group in setups_mod.GROUPS:
        gs = [s for s in result['setups_obj'] if s.group == group]
        if not gs:
            continue
        for fig, _, rat, verdicts in group_rows(result['summary'], gs):
            data['ratios'].setdefault(group, {})[fig.id] = dict(
                zip(('ours_theirs', 'ours_in_process', 'theirs_in_process'),
                    rat))
            if verdicts:
                data['targets'].setdefault(group, {})[fig.id] = verdicts
    with open(path, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=True)


# --------------------------------------------------------------- the chart

def _chart_data(result, path_prefix):
    """Writes the gnuplot data files; returns the plot commands."""
    summary = result['summary']
    plots = []
    for group, title in setups_mod.GROUPS.items():
        gs = [s for s in result['setups_obj'] if s.group == group]
        base = _role(gs, setups_mod.IN_PROCESS)
        if not gs or not base:
            continue
        path = '%s-%s.dat' % (path_prefix, group)
        lines = []
        for fid in THROUGHPUT:
            b = summary.get(base.name, {}).get(fid)
            if not b:
                continue
            cols = ['"%s"' % BY_ID[fid].label]
            for s in gs:
                st = summary.get(s.name, {}).get(fid)
                cols += (['%.4f' % (st[k] / b['median'])
                          for k in ('median', 'min', 'max')]
                         if st else ['NaN'] * 3)
            lines.append(' '.join(cols))
        if not lines:
            continue
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        series = ', '.join(
            "'%s' using %d:%d:%d%s title '%s'"
            % (path, 2 + 3 * i, 3 + 3 * i, 4 + 3 * i,
               ':xtic(1)' if i == 0 else '', s.label)
            for i, s in enumerate(gs))
        plots.append(('relative', '%s\\n(relative to %s; bars: min-max)'
                      % (title, base.label), series))
    # ours/theirs for every figure of every group, log scale.
    path = '%s-ratios.dat' % path_prefix
    lines = []
    for group in setups_mod.GROUPS:
        gs = [s for s in result['setups_obj'] if s.group == group]
        for fig in FIGURES:
            r = ratios(summary, gs, fig.id)[0] if gs else None
            if r:
                better = r if fig.better == HIGHER else 1 / r
                lines.append('"%s %s" %.4f' % (GROUP_SHORT.get(group, group),
                                               fig.short, better))
    if lines:
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        plots.append(('ratios', 'qemu-remote vs QEMU x-remote (mpq) and '
                      'qemu-storage-daemon (vu): >1 = ours better '
                      '(theirs/ours for lower-is-better figures)',
                      "'%s' using 2:xtic(1) notitle" % path))
    return plots


def write_chart(result, png):
    """chart.png with gnuplot; returns None or why it was not drawn."""
    prefix = os.path.splitext(png)[0]
    plots = _chart_data(result, prefix)
    if not plots:
        return 'no figures to draw'
    script = [
        "set terminal pngcairo size 1400,%d font 'sans,9'" % (420 * len(plots)),
        "set output '%s'" % png,
        'set multiplot layout %d,1' % len(plots),
        'set style data histogram',
        'set style fill solid 0.8 border -1',
        'set grid ytics',
        'set key outside right top',
        'set xtics rotate by -30',
        'set yrange [0:*]',
    ]
    for kind, title, series in plots:
        script += ['set title "%s"' % title]
        if kind == 'ratios':
            script += ['set style histogram clustered gap 1',
                       'set logscale y', 'set yrange [*:*]',
                       'set ylabel "ours/theirs (better = higher)"']
        else:
            script += ['set style histogram errorbars gap 1 lw 1',
                       'set ylabel "relative to in-process"']
        script += ['plot %s, 1 with lines lc rgb "black" dt 2 notitle'
                   % series]
    script.append('unset multiplot')
    gp = prefix + '.gp'
    with open(gp, 'w') as f:
        f.write('\n'.join(script) + '\n')
    try:
        p = subprocess.run(['gnuplot', gp], capture_output=True, text=True,
                           timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 'gnuplot: %s' % e
    if p.returncode != 0:
        return 'gnuplot: %s' % p.stderr.strip()
    return None
