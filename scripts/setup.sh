#!/usr/bin/env bash
# Installs everything the build and the tests need, from package registries only:
# Debian packages (apt), PyPI (pip, into .venv) and npm (node_modules). Idempotent: a second
# run on a prepared machine only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

APT_PACKAGES=(
    build-essential cmake ninja-build pkg-config git ca-certificates
    clang lld libclang-rt-14-dev          # fuzzing (libFuzzer) and the sanitizer runtime
    googletest libgtest-dev                # unit tests
    nlohmann-json3-dev                     # JSON
    dpkg-dev                               # apt-get source (cpp-httplib's single header)
    python3-venv unzip zip file
    chromium                               # browser tests
    qemu-user-static                       # ARM64 Linux tests
    wine64                                 # Windows tests
    osslsigncode                           # signing docs/tests
)

need_sudo() { if [ "$(id -u)" -ne 0 ]; then echo sudo; fi; }
SUDO=$(need_sudo)

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# An ARM64 shell for the emulated tests: Debian's busybox-static built for arm64.
if ! dpkg-query -W -f='${Status}' busybox-static:arm64 2>/dev/null | grep -q "install ok installed"; then
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
if [ ! -e "$DEPS/include/httplib.h" ]; then
    rm -rf "$DEPS/src" && mkdir -p "$DEPS/src"
    (cd "$DEPS/src" && apt-get source -qq --download-only cpp-httplib >/dev/null 2>&1 \
        || { $SUDO apt-get update -qq && apt-get source -qq --download-only cpp-httplib >/dev/null; })
    tar -xf "$DEPS"/src/cpp-httplib_*.orig.tar.* -C "$DEPS/src"
    cp "$DEPS"/src/*cpp-httplib*/httplib.h "$DEPS/include/httplib.h"
fi

# Python tools for tests (oracles: gguf, jinja2, openai) and the zig cross compiler.
if [ ! -x .venv/bin/python ] || ! cmp -s scripts/requirements.txt .venv/requirements.installed; then
    echo "setup: installing Python packages into .venv"
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements.txt
    cp scripts/requirements.txt .venv/requirements.installed
fi

# Browser test driver.
if [ ! -d node_modules/playwright-core ] || ! cmp -s package-lock.json node_modules/.package-lock.installed; then
    echo "setup: installing npm packages"
    npm ci --silent --no-audit --no-fund >/dev/null
    cp package-lock.json node_modules/.package-lock.installed
fi
echo "setup: ready"
