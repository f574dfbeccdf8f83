#!/usr/bin/env python3
"""Writes tests/unit/tokenizer_pretokenizer_splits.json: how each BPE pre-tokenizer splits a
set of strings, computed with the third-party `regex` module (an independent engine with
native \\p{..} support) following llama.cpp's rule for pattern lists: the first pattern splits
the text into matches and the gaps between them, each next pattern splits every piece again.

The C++ pre-tokenizer (src/tokenizer/regex.cpp, pretokenizers.cpp) is tested against this.
Needs `pip install regex` (not a project dependency; only this generator uses it):
    python -m venv /tmp/rx && /tmp/rx/bin/pip install regex
    /tmp/rx/bin/python scripts/gen_pretokenizer_fixture.py
"""

import json
import os
import sys
import unicodedata

import regex

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
# Hugging Face's original spellings (case-insensitive group) for Llama 3 and Qwen 2.
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
         r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
TEKKEN = (r"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|"
          r"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
BLOOM = " ?[^(\\s|.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c)]+"

PRE = {
    "default": [r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"],
    "gpt-2": [GPT2],
    "llama3": [LLAMA3],
    "qwen2": [QWEN2],
    "falcon": [r"[\p{P}\$\+<=>\^~\|`]+", GPT2, r"[0-9][0-9][0-9]"],
    "starcoder": [r"\p{N}", GPT2],
    "deepseek-coder": ["[\r\n]", r"\s?\p{L}+", r"\s?\p{P}+",
                       "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+", r"\p{N}"],
    "tekken": [TEKKEN],
    "bloom": [BLOOM],
    "viking": [BLOOM, r"\p{N}"],
}

EXTRA = [
    "Hello world", " Hello  world ", "I'M, YOU'RE, HE'S, we'LL, THEY'D", "it's   \n\n  done",
    "x\r\n\r\n  y\n", "12345678 9.87 1,234", "tab\tafter\t\ttabs", "   \u00a0\u3000 mixed",
    "camelCaseWordsAndMORE_words", "\u00c9t\u00e9 \u00e0 Paris\u2026 na\u00efve",
    "\u65e5\u672c\u8a9e\u3068English\u6df7\u5728", "\U0001f999\U0001f525 emoji!!",
    "a/b/c //comment\n", "\u0661\u0662\u0663 \u0967\u0968 \u2160\u2161",
]


def split(patterns, text):
    pieces = [text] if text else []
    for pat in patterns:
        rx = regex.compile(pat)
        out = []
        for piece in pieces:
            last = 0
            for m in rx.finditer(piece):
                if m.end() == m.start():
                    continue
                if m.start() > last:
                    out.append(piece[last:m.start()])
                out.append(m.group())
                last = m.end()
            if last < len(piece):
                out.append(piece[last:])
        pieces = out
    return pieces


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shared = os.path.join(os.path.dirname(root), "shared")
    with open(os.path.join(shared, "reference", "tokenize.json"), encoding="utf-8") as f:
        texts = list(json.load(f)["strings"])
    with open(os.path.join(shared, "models", "vocab", "ggml-vocab-gpt-2.gguf.inp"),
              encoding="utf-8") as f:
        texts += f.read().split("\n__ggml_vocab_test__\n")[:-1]
    texts += EXTRA
    cases = []
    for name, patterns in PRE.items():
        for text in texts:
            cases.append({"pre": name, "text": text, "pieces": split(patterns, text)})
    fixture = {
        "generator": "scripts/gen_pretokenizer_fixture.py",
        "regex_module": regex.__version__,
        "python_unicode": unicodedata.unidata_version,
        "cases": cases,
    }
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        root, "tests", "unit", "tokenizer_pretokenizer_splits.json")
    with open(target, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=True, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
