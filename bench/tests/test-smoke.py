#!/usr/bin/python3
"""Smoke test of `make bench` without a guest: bench/bench.py runs its
proxy round-trip and launch sections in quick mode against the built
qemu-remote, QEMU's remote and qemu-storage-daemon, and writes the table,
the JSON and the chart.  It checks that every figure was measured and
reported, never what the figures are."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, 'tests', 'functional', 'lib'))
import tap  # noqa: E402

# Each section is a few seconds; this is a bound for a loaded host.
TIMEOUT = 600


def build_dir():
    remote = os.environ.get('QEMU_REMOTE')
    if not remote:
        raise tap.Skip('QEMU_REMOTE is not set (run through meson test)')
    return os.path.dirname(os.path.dirname(remote))


def run_bench(out):
    p = subprocess.run([sys.executable, os.path.join(TOP, 'bench', 'bench.py'),
                        '--build', build_dir(), '--quick',
                        '--sections', 'rtt,launch', '--out', out],
                       capture_output=True, text=True, timeout=TIMEOUT,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def test_rtt_and_launch_sections_report_every_figure():
    if not shutil.which('qemu-system-x86_64'):
        raise tap.Skip('qemu-system-x86_64 not installed')
    out = tempfile.mkdtemp(prefix='qr-bench-smoke-')
    try:
        stdout = run_bench(out)

        with open(os.path.join(out, 'results.json')) as f:
            res = json.load(f)
        ours = res['samples']['qemu-remote']
        for fid in ('launch', 'start_rss', 'rtt.config_read', 'rtt.bar_read',
                    'rtt.bar_write'):
            assert len(ours.get(fid, [])) >= 3, (fid, ours)
        assert 'x-remote' in res['samples'], res['samples'].keys()
        assert res['ratios']['mpqemu']['launch']['ours_theirs'] > 0, \
            res['ratios']
        with open(os.path.join(out, 'table.md')) as f:
            table = f.read()
        assert '| launch to first answered request | ms |' in table, table
        assert table in stdout, stdout
        assert os.path.getsize(os.path.join(out, 'chart.png')) > 0
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == '__main__':
    tap.main([test_rtt_and_launch_sections_report_every_figure])
