#!/usr/bin/env python3
"""Sums the TAP results of every test in meson test logs.

Usage: test-summary.py TESTLOG.json...

Each test program prints TAP ("ok N name", "not ok N name", "ok N # SKIP
reason").  A program that failed without reporting a failing TAP line (a
crash, a sanitizer report at exit, a timeout) counts as one more failure.
Prints the skip reasons, then one line: "N passed, N failed, N skipped".
Exits 1 when anything failed.
"""
import json
import re
import sys

TAP_LINE = re.compile(r'^(not ok|ok)\b[^#]*(#\s*(SKIP|TODO)\b(.*))?', re.I)


def count(log_path):
    passed = failed = skipped = 0
    skips = []
    try:
        with open(log_path, encoding='utf-8', errors='replace') as f:
            lines = f.readlines()
    except OSError as e:
        print(f'test-summary: cannot read {log_path}: {e}', file=sys.stderr)
        return 0, 1, 0, []
    for line in lines:
        entry = json.loads(line)
        name = entry.get('name', '?')
        result = entry.get('result', 'ERROR')
        t_pass = t_fail = t_skip = 0
        for out in (entry.get('stdout') or entry.get('stdo') or '').splitlines():
            m = TAP_LINE.match(out.strip())
            if not m:
                continue
            if m.group(1).lower() == 'not ok':
                if m.group(3) and m.group(3).upper() == 'TODO':
                    continue
                t_fail += 1
            elif m.group(3) and m.group(3).upper() == 'SKIP':
                t_skip += 1
                skips.append(f'{name}: {m.group(4).strip()}')
            else:
                t_pass += 1
        if result == 'SKIP' and t_pass + t_fail + t_skip == 0:
            t_skip = 1
            skips.append(f'{name}: skipped by meson')
        elif result not in ('OK', 'EXPECTEDFAIL', 'SKIP') and t_fail == 0:
            print(f'test-summary: {name}: {result} without a failing TAP '
                  'result (crash, sanitizer report or timeout)')
            t_fail = 1
        passed += t_pass
        failed += t_fail
        skipped += t_skip
    return passed, failed, skipped, skips


def main():
    total_p = total_f = total_s = 0
    all_skips = []
    for path in sys.argv[1:]:
        p, f, s, skips = count(path)
        total_p += p
        total_f += f
        total_s += s
        all_skips += skips
    for s in all_skips:
        print(f'skipped: {s}')
    print(f'{total_p} passed, {total_f} failed, {total_s} skipped')
    return 1 if total_f else 0


if __name__ == '__main__':
    sys.exit(main())
