#!/bin/sh
# make bench: bench/run.sh BUILD [--quick] [bench.py options...]
# Builds what the benchmark drives, then runs bench/bench.py; the table,
# results.json and chart.png land in BUILD/bench/.
set -e

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD [--quick] [bench.py options]" >&2
    exit 2
fi
build=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)

ninja -C "$build" remote/qemu-remote bench/proxy-rtt bench/launch >/dev/null
QEMU_REMOTE=$(cd "$build" && pwd)/remote/qemu-remote
export QEMU_REMOTE
exec /usr/bin/python3 "$top/bench/bench.py" --build "$build" "$@"
