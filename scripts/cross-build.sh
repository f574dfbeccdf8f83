#!/usr/bin/env bash
# Cross-builds mmojo-server with zig's clang (PyPI's ziglang, installed by scripts/setup.sh --test)
# for the six targets of the portable file, into build/cross/<target>/mmojo-server[.exe]:
#   x86_64-linux-musl aarch64-linux-musl x86_64-windows-gnu aarch64-windows-gnu
#   aarch64-macos x86_64-macos
# Usage: scripts/cross-build.sh [TARGET ...]      (default: all six)
# Environment: JOBS (parallel compile jobs, default: the number of cores), MMOJO_WERROR (ON),
# MMOJO_HOST_BUILD (a host build folder with tools/macho_sign, default build/release; built if
# missing).
# Each target's build time is printed and written to build/cross/times.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-$(nproc)}
WERROR=${MMOJO_WERROR:-ON}
ALL=(x86_64-linux-musl aarch64-linux-musl x86_64-windows-gnu aarch64-windows-gnu aarch64-macos x86_64-macos)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")

ZIG=$ROOT/build/deps/zig
if ! "$ZIG" version >/dev/null 2>&1; then
    echo "cross-build: $ZIG does not run; run scripts/setup.sh --test first" >&2
    exit 1
fi
if [ ! -e build/deps/include/httplib.h ]; then
    echo "cross-build: build/deps/include/httplib.h missing; run scripts/setup.sh first" >&2
    exit 1
fi

# x86_64 macOS output is signed ad hoc by our own signer (zig signs only arm64).
HOST=${MMOJO_HOST_BUILD:-$ROOT/build/release}
signer() {
    if [ ! -x "$HOST/macho_sign" ]; then
        if [ ! -e "$HOST/build.ninja" ]; then
            cmake -S . -B "$HOST" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMMOJO_WERROR=ON >/dev/null
        fi
        cmake --build "$HOST" --target macho_sign -j "$JOBS" >/dev/null
    fi
    echo "$HOST/macho_sign"
}

mkdir -p build/cross
for t in "${TARGETS[@]}"; do
    case " ${ALL[*]} " in *" $t "*) ;; *) echo "cross-build: unknown target '$t' (one of: ${ALL[*]})" >&2; exit 2;; esac
done
for t in "${TARGETS[@]}"; do
    dir=build/cross/$t
    start=$(date +%s)
    echo "=== $t"
    cmake -S . -B "$dir/cmake" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/zig-toolchain.cmake" -DMMOJO_ZIG_TARGET="$t" \
        -DMMOJO_TESTS=OFF -DMMOJO_WERROR="$WERROR" >/dev/null
    cmake --build "$dir/cmake" --target mmojo-server -j "$JOBS"
    exe=mmojo-server
    case $t in *windows*) exe=mmojo-server.exe;; esac
    cp "$dir/cmake/$exe" "$dir/$exe.tmp"
    if [ "$t" = x86_64-macos ]; then
        "$(signer)" "$dir/$exe.tmp" mmojo-server
    fi
    mv -f "$dir/$exe.tmp" "$dir/$exe"
    rm -f "$dir"/cmake/*.pdb
    secs=$(( $(date +%s) - start ))
    size=$(wc -c <"$dir/$exe")
    echo "$t: $secs s, $size bytes -> $dir/$exe"
    sed -i "/^$t /d" build/cross/times.txt 2>/dev/null || true
    echo "$t $secs s $size bytes" >>build/cross/times.txt
done
