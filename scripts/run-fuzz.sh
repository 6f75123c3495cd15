#!/bin/sh
# Builds every libFuzzer target (tests/fuzz) in build-fuzz with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs each for
# SECONDS (default 60), starting from its seed corpus in tests/fuzz/corpus.
# Corpora grow in build-fuzz/corpus/TARGET; a crash, leak or timeout leaves
# its input in build-fuzz/ and makes the script fail.  Ends with the
# executions of every target and their total.
#   run-fuzz.sh [SECONDS]
set -eu

seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${FUZZ_BUILD:-$src/build-fuzz}

if [ ! -f "$build/build.ninja" ]; then
    "$src/configure" --builddir="$build" --enable-fuzzing --enable-sanitizers
fi
ninja -C "$build"

# GSlice's per-thread magazines read as leaks to LeakSanitizer's per-input
# check (docs/devel/fuzzing.md); plain malloc() is what GLib advises for
# memory checkers.
export G_SLICE=always-malloc

status=0
summary=""
total=0
for target in "$build"/tests/fuzz/fuzz-*; do
    [ -x "$target" ] && [ -f "$target" ] || continue
    name=$(basename "$target")
    corpus="$build/corpus/$name"
    seeds="$src/tests/fuzz/corpus/$name"
    [ -d "$seeds" ] || seeds=""
    mkdir -p "$corpus"
    echo "run-fuzz: $name for ${seconds}s"
    # The targets' own error messages (-close_fd_mask=2) would drown
    # libFuzzer's; its report still goes to stderr.
    (cd "$build" && "$target" -max_total_time="$seconds" -timeout=10 \
        -close_fd_mask=2 -print_final_stats=1 "$corpus" $seeds) \
        > "$build/fuzz-$name.log" 2>&1 || true
    grep -v '^#' "$build/fuzz-$name.log" | tail -8
    # libFuzzer ends a clean run with "Done N runs"; a finding stops it.
    grep -q '^Done ' "$build/fuzz-$name.log" || status=1
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
           "$build/fuzz-$name.log")
    total=$((total + ${runs:-0}))
    summary="$summary$name: ${runs:-0} executions\n"
done
printf "%b" "$summary"
echo "run-fuzz: $total executions in total; $([ $status = 0 ] && echo "no crash" || echo "FAILED: see the logs in $build")"
exit $status
