#!/usr/bin/env bash
# Installs what building needs (scripts/setup.sh) and builds the release binary:
# build/release/mmojo-server (the tests, tools and benchmarks are built by scripts/test.sh or
# `cmake --build build/release`). Extra arguments are passed to CMake.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMMOJO_WERROR=ON "$@" >/dev/null
cmake --build build/release --target mmojo-server
