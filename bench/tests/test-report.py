#!/usr/bin/python3
"""Unit tests of the benchmark's arithmetic and parsing (bench/lib): fio's
terse lines, the figures of one boot, medians and ranges, ratio
directions, target verdicts and the Markdown table.  Synthetic samples
only: nothing here runs or times anything."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'functional',
                                'lib'))
import guestio  # noqa: E402
import report  # noqa: E402
import setups  # noqa: E402
import tap  # noqa: E402

KIB_PER_GIB = 1 << 20


def mpqemu_setups():
    return [s for s in setups.all_setups(False) if s.group == 'mpqemu']


def result_with(samples, skipped=None):
    return {'summary': report.summarise(samples),
            'setups_obj': setups.all_setups(False),
            'skipped': skipped or {}, 'failures': [], 'runs_note': 'test'}


def test_terse_result_line_is_parsed():
    out = guestio.parse_results(
        'noise\nresult randread-4k-qd1 4000 1000 250 95.5 0 0 0 0.000000\n')

    assert out == {'randread-4k-qd1': {
        'read_kib': 4000, 'read_bw_kib': 1000, 'read_iops': 250,
        'read_lat_us': 95.5, 'write_kib': 0, 'write_bw_kib': 0,
        'write_iops': 0, 'write_lat_us': 0}}, out


def test_failed_and_short_result_lines_are_ignored():
    out = guestio.parse_results(
        'result read-128k-qd1 failed fio: no such file\n'
        'result randread-4k-qd1 1 2 3\n')

    assert out == {}, out


def test_guest_script_brackets_each_workload_with_markers():
    script = guestio.guest_script(['randread-4k-qd1', 'read-128k-qd1'], 3,
                                  polled=True)
    lines = script.splitlines()

    assert lines[0] == 'echo "@bench begin randread-4k-qd1"', lines
    assert lines[2] == 'echo "@bench end randread-4k-qd1"', lines
    assert '--hipri' in lines[1] and '--runtime=3' in lines[1], lines[1]
    assert lines[5] == 'echo "@bench end read-128k-qd1"', lines


def test_boot_figures_take_iops_latency_bandwidth_and_cpu_per_gib():
    boot = {
        'randwrite-4k-qd1': dict(read_kib=0, read_bw_kib=0, read_iops=0,
                                 read_lat_us=0, write_kib=KIB_PER_GIB / 2,
                                 write_bw_kib=8000, write_iops=2000,
                                 write_lat_us=120.0, cpu_s=1.0),
        'read-128k-qd1': dict(read_kib=KIB_PER_GIB * 1.5,
                              read_bw_kib=512 * 1024, read_iops=4096,
                              read_lat_us=200.0, write_kib=0, write_bw_kib=0,
                              write_iops=0, write_lat_us=0, cpu_s=1.0),
        'peak_rss_kib': 6144,
    }

    figs = report.guest_figures(boot)

    assert figs['randwrite-4k-qd1.iops'] == 2000, figs
    assert figs['randwrite-4k-qd1.lat'] == 120.0, figs
    assert figs['read-128k-qd1.mibs'] == 512, figs
    # 2 CPU seconds over 2 GiB.
    assert figs['cpu_per_gib'] == 1.0, figs
    assert figs['peak_rss'] == 6.0, figs


def test_in_process_boot_has_no_device_process_figures():
    boot = {'randread-4k-qd1': dict(read_kib=4, read_bw_kib=4, read_iops=1,
                                    read_lat_us=1, write_kib=0,
                                    write_bw_kib=0, write_iops=0,
                                    write_lat_us=0)}

    figs = report.guest_figures(boot)

    assert 'cpu_per_gib' not in figs and 'peak_rss' not in figs, figs


def test_stats_are_median_min_max_of_runs():
    st = report.stats([30.0, 10.0, 20.0, 40.0])

    assert st == {'median': 25.0, 'min': 10.0, 'max': 40.0, 'n': 4}, st
    assert report.stats([]) is None


def test_ratios_are_ours_over_theirs_and_over_in_process():
    summary = report.summarise({
        'qemu-remote': {'randread-4k-qd1.iops': [300.0]},
        'x-remote': {'randread-4k-qd1.iops': [200.0]},
        'in-process': {'randread-4k-qd1.iops': [100.0]},
        'in-process-intx': {'randread-4k-qd1.iops': [50.0]},
    })

    rat = report.ratios(summary, mpqemu_setups(), 'randread-4k-qd1.iops')

    # The baseline is the group's first in-process setup (MSI-X).
    assert rat == (1.5, 3.0, 2.0), rat


def test_missing_side_gives_no_ratio():
    summary = report.summarise({'qemu-remote': {'launch': [2.0]}})

    assert report.ratios(summary, mpqemu_setups(), 'launch') == \
        (None, None, None)


def test_throughput_target_met_at_its_bound():
    verdicts = report.target_verdicts('mpqemu', 'randread-4k-qd32.iops',
                                      (1.5, 2.0, 1.3))

    assert verdicts == ['>=1.5x theirs: met'], verdicts


def test_lower_is_better_target_missed_above_its_bound():
    verdicts = report.target_verdicts('mpqemu', 'rtt.bar_write',
                                      (0.51, None, None))

    assert verdicts == ['<=0.5x theirs: MISSED'], verdicts


def test_vhost_user_reads_also_target_in_process():
    verdicts = report.target_verdicts('vhost-user', 'read-128k-qd1.mibs',
                                      (1.1, None, 0.9))

    assert verdicts == ['>=1x theirs: met', '>=1x in-proc: n/a'], verdicts


def test_markdown_table_has_cells_ratios_and_skip_reasons():
    res = result_with({'qemu-remote': {'launch': [2.0, 4.0, 3.0]},
                       'x-remote': {'launch': [30.0]}},
                      skipped={'qsd': 'qemu-storage-daemon not installed'})

    md = report.markdown(res)

    assert '| launch to first answered request | ms | 3.00 [2.00-4.00] | '\
        '30.00 [30.00-30.00] |' in md, md
    assert '0.10x' in md and '<=0.1x theirs: met' in md, md
    assert 'qsd (qemu-storage-daemon not installed)' in md, md


if __name__ == '__main__':
    tap.main([
        test_terse_result_line_is_parsed,
        test_failed_and_short_result_lines_are_ignored,
        test_guest_script_brackets_each_workload_with_markers,
        test_boot_figures_take_iops_latency_bandwidth_and_cpu_per_gib,
        test_in_process_boot_has_no_device_process_figures,
        test_stats_are_median_min_max_of_runs,
        test_ratios_are_ours_over_theirs_and_over_in_process,
        test_missing_side_gives_no_ratio,
        test_throughput_target_met_at_its_bound,
        test_lower_is_better_target_missed_above_its_bound,
        test_vhost_user_reads_also_target_in_process,
        test_markdown_table_has_cells_ratios_and_skip_reasons,
    ])
