#!/usr/bin/env python3
"""Writes src/tokenizer/unicode_tables.cpp: the Unicode data the tokenizers need.

Everything comes from Python's `unicodedata` module (its Unicode version is recorded in the
output), except the White_Space list, which `unicodedata` does not expose; it is the
<White_Space> property of PropList.txt, unchanged since Unicode 6.3.

Tables (all sorted by code point, looked up by binary search in unicode.cpp):
  kCategoryRuns   {first code point, category}: a new run starts wherever the general
                  category family (L, M, N, P, S, Z, C-but-not-Cn, Cn) changes.
  kWhitespace     the White_Space code points.
  kLowercase      {code point, lowercase} where they differ; the lowercase is the first code
                  point of str.lower(), i.e. the simple lowercase mapping.
  kNfdFirst       {first, last, value}: code points whose canonical decomposition (NFD)
                  starts with a different code point map to that first code point; runs of
                  consecutive code points with the same value are merged. WordPiece uses it
                  to drop accents ("é" -> "e").

Usage: scripts/gen_unicode_tables.py [OUTPUT]   (default: src/tokenizer/unicode_tables.cpp;
"-" writes to stdout, which tests use to check the committed file is up to date).
"""

import os
import sys
import unicodedata

MAX_CP = 0x110000

# Category codes shared with unicode.h (enum class Category).
CATEGORY_CODE = {
    "Cn": 0,  # kUndefined
    "N": 1,   # kNumber
    "L": 2,   # kLetter
    "Z": 3,   # kSeparator
    "M": 4,   # kMark
    "P": 5,   # kPunctuation
    "S": 6,   # kSymbol
    "C": 7,   # kControl (Cc, Cf, Co, Cs)
}
CATEGORY_NAME = ["kUndefined", "kNumber", "kLetter", "kSeparator", "kMark", "kPunctuation",
                 "kSymbol", "kControl"]

WHITE_SPACE = (list(range(0x09, 0x0D + 1)) + [0x20, 0x85, 0xA0, 0x1680] +
               list(range(0x2000, 0x200A + 1)) + [0x2028, 0x2029, 0x202F, 0x205F, 0x3000])


def category_code(cp):
    cat = unicodedata.category(chr(cp))
    if cat == "Cn":
        return CATEGORY_CODE["Cn"]
    return CATEGORY_CODE[cat[0]]


def build():
    runs = []
    prev = None
    lower = []
    nfd = []
    for cp in range(MAX_CP):
        code = category_code(cp)
        if code != prev:
            runs.append((cp, code))
            prev = code
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue  # lone surrogates: no case mapping, no decomposition
        low = ord(ch.lower()[0])
        if low != cp:
            lower.append((cp, low))
        first = ord(unicodedata.normalize("NFD", ch)[0])
        if first != cp:
            if nfd and nfd[-1][1] == cp - 1 and nfd[-1][2] == first:
                nfd[-1][1] = cp
            else:
                nfd.append([cp, cp, first])
    return runs, lower, nfd


def emit(out):
    runs, lower, nfd = build()
    w = out.write
    w("// GENERATED FILE, do not edit. Regenerate with: scripts/gen_unicode_tables.py\n")
    w(f"// Source: Python {sys.version_info.major}.{sys.version_info.minor} unicodedata, "
      f"Unicode {unicodedata.unidata_version}; White_Space from PropList.txt.\n")
    w("// Unicode data for the tokenizers: general category families, White_Space, simple\n")
    w("// lowercase mapping and the first code point of each canonical decomposition (NFD).\n")
    w('#include "tokenizer/unicode.h"\n\n')
    w("namespace mmojo::unicode::tables {\n\n")
    w(f'const char* const kUnicodeVersion = "{unicodedata.unidata_version}";\n\n')

    for name in CATEGORY_NAME:
        w(f"constexpr Category {name} = Category::{name};\n")
    w("\n")
    w(f"const CategoryRun kCategoryRuns[] = {{\n")
    for i in range(0, len(runs), 4):
        w("    " + " ".join(f"{{0x{cp:06X}, {CATEGORY_NAME[code]}}},"
                            for cp, code in runs[i:i + 4]) + "\n")
    w("};\n")
    w(f"const size_t kCategoryRunCount = {len(runs)};\n\n")

    w("const uint32_t kWhitespace[] = {\n")
    for i in range(0, len(WHITE_SPACE), 8):
        w("    " + " ".join(f"0x{cp:04X}," for cp in WHITE_SPACE[i:i + 8]) + "\n")
    w("};\n")
    w(f"const size_t kWhitespaceCount = {len(WHITE_SPACE)};\n\n")

    w("const CodepointPair kLowercase[] = {\n")
    for i in range(0, len(lower), 4):
        w("    " + " ".join(f"{{0x{a:05X}, 0x{b:05X}}}," for a, b in lower[i:i + 4]) + "\n")
    w("};\n")
    w(f"const size_t kLowercaseCount = {len(lower)};\n\n")

    w("const CodepointRange kNfdFirst[] = {\n")
    for i in range(0, len(nfd), 3):
        w("    " + " ".join(f"{{0x{a:05X}, 0x{b:05X}, 0x{c:05X}}},"
                            for a, b, c in nfd[i:i + 3]) + "\n")
    w("};\n")
    w(f"const size_t kNfdFirstCount = {len(nfd)};\n\n")
    w("}  // namespace mmojo::unicode::tables\n")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        root, "src", "tokenizer", "unicode_tables.cpp")
    if target == "-":
        emit(sys.stdout)
        return
    with open(target, "w", encoding="utf-8", newline="\n") as f:
        emit(f)


if __name__ == "__main__":
    main()
