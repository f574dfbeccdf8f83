#!/usr/bin/env bash
# Builds the portable single file build/mmojo-server (docs/build.md): the host build (for
# `pack`), the six cross builds (scripts/cross-build.sh), then `pack --native ...` with the
# web UI (ui/, when present), the default args (scripts/portable-args) and, optionally, a
# model. Extra arguments go to `pack`, e.g.
#   scripts/build-portable.sh --model ~/models/qwen.gguf -o build/chat
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}
HOST=${MMOJO_HOST_BUILD:-$ROOT/build/release}
export MMOJO_HOST_BUILD=$HOST

scripts/setup.sh
cmake -S . -B "$HOST" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMMOJO_WERROR=ON >/dev/null
cmake --build "$HOST" --target mmojo-server macho_sign -j "$JOBS"
scripts/cross-build.sh

out=build/mmojo-server
for ((i = 1; i <= $#; i++)); do
    if [ "${!i}" = -o ]; then j=$((i + 1)); out=${!j}; fi
done
args=(
    --native x86_64-windows=build/cross/x86_64-windows-gnu/mmojo-server.exe
    --native x86_64-linux=build/cross/x86_64-linux-musl/mmojo-server
    --native aarch64-linux=build/cross/aarch64-linux-musl/mmojo-server
    --native aarch64-macos=build/cross/aarch64-macos/mmojo-server
    --native x86_64-macos=build/cross/x86_64-macos/mmojo-server
    --native aarch64-windows=build/cross/aarch64-windows-gnu/mmojo-server.exe
    --args scripts/portable-args
)
if [ -f "$HOST/ui/index.html" ]; then args+=(--ui "$HOST/ui"); fi  # bundled by the host build
case " $* " in *" -o "*) ;; *) args+=(-o "$out");; esac
"$HOST/mmojo-server" pack "${args[@]}" "$@"
echo "portable file: $out ($(wc -c <"$out") bytes)"
