#!/usr/bin/env bash
# Checks the C++ layout against .clang-format (Debian's clang-format) without changing
# anything: lists every file that clang-format would rewrite and exits 1 if there is one.
#   scripts/check-format.sh            every tracked .h/.cpp under src tests tools bench fuzz
#   scripts/check-format.sh FILE...    only these
#   scripts/check-format.sh --fix ...  rewrite the files instead of listing them
set -euo pipefail
cd "$(dirname "$0")/.."
FORMAT=${CLANG_FORMAT:-clang-format}
if ! command -v "$FORMAT" >/dev/null; then
    echo "check-format: $FORMAT not found (sudo apt-get install clang-format)" >&2
    exit 2
fi
fix=0
if [[ "${1:-}" == "--fix" ]]; then
    fix=1
    shift
fi
if [[ $# -gt 0 ]]; then
    files=("$@")
else
    mapfile -t files < <(git ls-files 'src/*.h' 'src/*.cpp' 'tests/*.h' 'tests/*.cpp' 'tools/*.h' \
                                      'tools/*.cpp' 'bench/*.cpp' 'fuzz/*.cpp' | grep -v 'unicode_tables.cpp')
fi
if [[ $fix -eq 1 ]]; then
    "$FORMAT" -i "${files[@]}"
    exit 0
fi
bad=0
for f in "${files[@]}"; do
    if ! "$FORMAT" --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "$f"
        bad=$((bad + 1))
    fi
done
echo "check-format: $bad of ${#files[@]} files differ from .clang-format" >&2
[[ $bad -eq 0 ]]
