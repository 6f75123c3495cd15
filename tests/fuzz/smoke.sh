#!/bin/sh
# Runs one libFuzzer target for a few seconds over its seed corpus, as one
# TAP test: ok unless libFuzzer found a crash, leak or timeout (its report
# is then in the test log).  New corpus units go to a temporary directory
# that is removed afterwards.
#   smoke.sh TARGET SECONDS [SEED_DIR]
set -u

target=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
seconds=$2
seeds=${3:-}
name=$(basename "$target")
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-smoke-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

mkdir "$work/corpus"
# As in scripts/run-fuzz.sh: GSlice's magazines read as leaks to LSan.
export G_SLICE=always-malloc
echo "1..1"
# -close_fd_mask=2: the targets' own error messages stay out of the log
# (libFuzzer keeps its report); crash inputs land in $work.
if (cd "$work" && "$target" -max_total_time="$seconds" -timeout=10 \
        -close_fd_mask=2 -print_final_stats=1 corpus $seeds) \
        > "$work/log" 2>&1; then
    echo "ok 1 $name ran ${seconds}s: $(grep -m1 'number_of_executed_units' "$work/log" | sed 's/.*: *//') executions"
else
    sed 's/^/# /' "$work/log" | tail -60
    echo "not ok 1 $name found a problem (its input is in the log above)"
fi
