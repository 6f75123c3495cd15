#!/bin/sh
# Runs every test suite and prints one summary line over all of them.
#   run-checks.sh BUILD [SAN_BUILD "SUITES" [FUZZ_BUILD]]
# BUILD runs all suites; SAN_BUILD (the --enable-sanitizers build), if given,
# runs SUITES again under ASan+UBSan; FUZZ_BUILD (--enable-fuzzing), if
# given, runs its fuzz suite: each libFuzzer target for a few seconds.
# Exits non-zero on any failure.
set -u

build=$1
san_build=${2:-}
san_suites=${3:-}
fuzz_build=${4:-}
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

if [ -n "$fuzz_build" ]; then
    # Only the fuzz targets: the rest of that build is not tested there.
    targets=$(ninja -C "$fuzz_build" -t targets all |
              sed -n 's|^\(tests/fuzz/fuzz-[a-z-]*\): .*|\1|p')
    # shellcheck disable=SC2086
    if ninja -C "$fuzz_build" $targets >/dev/null; then
        meson test -C "$fuzz_build" --no-rebuild --print-errorlogs \
            --num-processes 2 --logbase testlog-fuzz --suite fuzz || status=1
    else
        echo "run-checks: cannot build the fuzz targets in $fuzz_build"
        status=1
    fi
    logs="$logs $fuzz_build/meson-logs/testlog-fuzz.json"
fi

# shellcheck disable=SC2086
python3 "$here/test-summary.py" $logs || status=1
exit $status
