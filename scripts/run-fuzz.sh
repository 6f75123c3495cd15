#!/bin/sh
# Builds every libFuzzer target (tests/fuzz) in build-fuzz with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs each for
# SECONDS (default 60).  Corpora grow in build-fuzz/corpus/TARGET; a crash
# leaves its input in build-fuzz/ and makes the script fail.
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

status=0
for target in "$build"/tests/fuzz/fuzz-*; do
    [ -x "$target" ] && [ -f "$target" ] || continue
    name=$(basename "$target")
    corpus="$build/corpus/$name"
    mkdir -p "$corpus"
    echo "run-fuzz: $name for ${seconds}s"
    (cd "$build" && "$target" -max_total_time="$seconds" -print_final_stats=1 \
        "$corpus") || status=1
done
exit $status
