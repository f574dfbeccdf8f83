#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs dependencies, builds the release and
# the AddressSanitizer+UndefinedBehaviorSanitizer configurations, runs the unit tests in
# both, the fuzz-corpus replays, the threaded server tests under ThreadSanitizer, the six cross builds, the integration suites (pytest) and
# the browser tests, prints how long each stage took, and ends with one line
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/test-output
rm -rf "$OUT" && mkdir -p "$OUT"
JOBS=${JOBS:-$(nproc)}
STAGES=$OUT/stage-times.txt
T0=$(date +%s)
STAGE=""
STAGE_START=$T0

# Each stage's wall time goes to $STAGES; the table is printed before the summary line.
end_stage() {
    if [ -n "$STAGE" ]; then
        printf '%-34s %6d s\n' "$STAGE" $(( $(date +%s) - STAGE_START )) >>"$STAGES"
    fi
}
step() {
    end_stage
    STAGE=$*
    STAGE_START=$(date +%s)
    printf '\n=== %s\n' "$*"
}
print_stages() {
    end_stage
    STAGE=""
    printf '\n=== stage times\n'
    cat "$STAGES"
    printf '%-34s %6d s\n' "total" $(( $(date +%s) - T0 ))
}
fail_setup() { echo "test: $*" >&2; print_stages; echo "0 passed, 1 failed"; exit 1; }

step "setup"
scripts/setup.sh --test || fail_setup "dependency setup failed"

step "release build"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMMOJO_WERROR=ON >/dev/null \
    && cmake --build build/release -j "$JOBS" || fail_setup "release build failed"

step "sanitizer build (ASan + UBSan)"
# No -Werror here: gcc 12 instrumentation gives false maybe-uninitialized warnings in library
# headers; the release build above enforces warning-free code.
cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMOJO_SANITIZE=ON \
    >/dev/null \
    && cmake --build build/sanitize -j "$JOBS" || fail_setup "sanitizer build failed"

step "unit tests (release)"
ctest --test-dir build/release -j "$JOBS" --output-on-failure \
    --output-junit "$OUT/ctest-release.xml" | tail -n 25

step "unit tests (sanitizers)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/sanitize -j "$JOBS" --output-on-failure \
    --output-junit "$OUT/ctest-sanitize.xml" | tail -n 25

# ThreadSanitizer: only what runs threads against each other. The thread pool's unit tests,
# and the real server (HTTP connection threads, the scheduler thread, the loader thread)
# under the concurrency, streaming-cancel, stalled-connection and shutdown tests. A race
# makes the server exit (halt_on_error), so the test that hit it fails; reports are kept
# in test-output/tsan.*. TLS is off here (Mbed TLS is not ours; it would double the build).
step "ThreadSanitizer (thread pool, server, scheduler)"
if cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMOJO_TSAN=ON -DMMOJO_TLS=OFF \
        >/dev/null && cmake --build build/tsan -j "$JOBS" --target mmojo-server ops_test; then
    export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:log_path=$OUT/tsan"
    build/tsan/ops_test --gtest_filter='ThreadPool.*' --gtest_output="xml:$OUT/tsan-unit.xml" | tail -n 3
    MMOJO_BUILD_DIR=$ROOT/build/tsan TEST_OUTPUT_DIR=$OUT/tsan-servers .venv/bin/python -m pytest -q \
        -p no:cacheprovider --junitxml="$OUT/pytest-tsan.xml" \
        tests/integration/test_server_concurrency.py \
        "tests/integration/test_server_hardening.py::test_half_open_connections_do_not_lock_others_out" \
        "tests/integration/test_server_hardening.py::test_model_that_fails_to_load_exits_1_with_clients_connected" \
        "tests/integration/test_server_errors.py::test_sigterm_exits_cleanly" | tail -n 15
    unset TSAN_OPTIONS
    if compgen -G "$OUT/tsan.*" >/dev/null; then
        echo "ThreadSanitizer reports:"; head -n 60 "$OUT"/tsan.*
    fi
else
    echo "ThreadSanitizer build failed"
fi

# The six targets of the portable file, each built once per run; the integration tests
# (test_polyglot, test_simd_neon) use these builds. A failure here shows again there.
step "cross builds (zig, six targets)"
if MMOJO_HOST_BUILD=$ROOT/build/release scripts/cross-build.sh >"$OUT/cross-build.log" 2>&1; then
    grep -E '^[a-z0-9_]+-[a-z]+(-[a-z]+)?: [0-9]+ s,' "$OUT/cross-build.log"
else
    tail -n 60 "$OUT/cross-build.log"
fi

if compgen -G "tests/integration/test_*.py" >/dev/null; then
    step "integration tests (pytest)"
    MMOJO_BUILD_DIR=$ROOT/build/release .venv/bin/python -m pytest tests/integration -q \
        --durations=15 --junitxml="$OUT/pytest.xml" -p no:cacheprovider | tail -n 45
fi

if compgen -G "tests/browser/*.test.mjs" >/dev/null; then
    step "browser tests (Playwright + Chromium)"
    MMOJO_BUILD_DIR=$ROOT/build/release TEST_OUTPUT_DIR=$OUT/browser \
        node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=junit --test-reporter-destination="$OUT/browser.xml" \
        tests/browser/ 2>&1 | tail -n 40
fi

print_stages
step "summary"
STAGE=""
.venv/bin/python scripts/summarize_tests.py "$OUT"
