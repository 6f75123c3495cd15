#!/bin/sh
# Runs every test suite and prints one summary line over all of them.
#   run-checks.sh BUILD [SAN_BUILD "SUITES"]
# BUILD runs all suites; SAN_BUILD (the --enable-sanitizers build), if given,
# runs SUITES again under ASan+UBSan.  Exits non-zero on any failure.
set -u

build=$1
san_build=${2:-}
san_suites=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
logs=""
status=0

# Sanitizer reports must fail the test that triggers them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

meson test -C "$build" --print-errorlogs --num-processes 2 \
    --logbase testlog-all || status=1
logs="$build/meson-logs/testlog-all.json"

if [ -n "$san_build" ]; then
    suite_args=""
    for s in $san_suites; do
        if meson test -C "$san_build" --list --suite "$s" >/dev/null 2>&1; then
            suite_args="$suite_args --suite $s"
        fi
    done
    meson test -C "$san_build" --print-errorlogs --num-processes 2 \
        --logbase testlog-san $suite_args || status=1
    logs="$logs $san_build/meson-logs/testlog-san.json"
fi

# shellcheck disable=SC2086
python3 "$here/test-summary.py" $logs || status=1
exit $status
