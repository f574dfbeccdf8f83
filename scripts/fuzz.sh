#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/*_fuzz.cpp) for a given time each, one after the other.
#   scripts/fuzz.sh SECONDS [TARGET...]     e.g. scripts/fuzz.sh 600 gguf_fuzz zip_fuzz
# Builds build/fuzz with clang: every library is coverage-instrumented (-fsanitize=
# fuzzer-no-link) and checked by AddressSanitizer + UndefinedBehaviorSanitizer. Each target
# starts from its committed seeds in fuzz/corpus/<name>/ and writes what it finds to
# build/fuzz/corpus/<name>/ (merge the interesting, small ones into fuzz/corpus with
# `-merge=1` before committing). Crashes land in build/fuzz/crashes/<name>/. The last line
# per target gives executions and crashes; the script exits 1 when any target crashed.
# CI does not run this: it replays fuzz/corpus under the sanitizer build (scripts/test.sh).
# Run it under `nice -n 19` on a shared machine.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/fuzz.sh SECONDS [TARGET...]" >&2
    exit 2
fi
SECONDS_EACH=$1
shift
BUILD=$ROOT/build/fuzz
command -v clang++ >/dev/null || { echo "fuzz: clang++ missing (scripts/setup.sh --test)" >&2; exit 2; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMMOJO_FUZZ=ON -DMMOJO_SANITIZE=ON -DMMOJO_TLS=OFF >/dev/null || exit 1
cmake --build "$BUILD" --target "${targets[@]}" || exit 1

failed=0
for t in "${targets[@]}"; do
    name=${t%_fuzz}
    mkdir -p "$BUILD/corpus/$name" "$BUILD/crashes/$name"
    log=$BUILD/$t.log
    # -rss_limit_mb: a parser that grows without bound is a finding, as is a 10 s input.
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "$BUILD/$t" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$BUILD/crashes/$name/" \
        "$BUILD/corpus/$name" "fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
    crashes=$(find "$BUILD/crashes/$name" -type f | wc -l)
    printf '%-22s %12s executions, %d crash files, exit %d\n' "$t" "${runs:-?}" "$crashes" "$rc"
    [ "$rc" -ne 0 ] && failed=1
done
exit $failed
