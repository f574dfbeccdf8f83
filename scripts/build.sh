#!/usr/bin/env bash
# Installs dependencies (scripts/setup.sh) and builds the release binary:
# build/release/mmojo-server. Extra arguments are passed to CMake.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMMOJO_WERROR=ON "$@" >/dev/null
cmake --build build/release
