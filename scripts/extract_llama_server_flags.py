#!/usr/bin/env python3
"""Writes tests/integration/data/llama_server_flags.json: for every option llama-server
accepts, its spellings, how many values follow it on the command line and its environment
variable. The facts are read from llama.cpp's common/arg.cpp (inside PyPI's
llama-cpp-python sdist, vendor/llama.cpp/), which test_llama_server_flags.py then uses as
an oracle independent of our own option table.

Usage: scripts/extract_llama_server_flags.py PATH/TO/llama.cpp/common/arg.cpp [OUT.json]

Only facts are kept (names, arity, variable, section); no help text or code.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# In ../shared/reference/llama-server-flags.txt (an older build) but no longer in arg.cpp:
# spellings, value count and variable as that build's --help gives them.
OLDER_BUILD = [
    {"names": ["--mmap"], "negatives": ["--no-mmap"], "values": 0, "env": "LLAMA_ARG_MMAP", "section": "common"},
    {"names": ["--mlock"], "negatives": [], "values": 0, "env": "LLAMA_ARG_MLOCK", "section": "common"},
    {"names": ["-dio", "--direct-io"], "negatives": ["-ndio", "--no-direct-io"], "values": 0,
     "env": "LLAMA_ARG_DIO", "section": "common"},
]


def option_blocks(src: str):
    """Yields the text of each add_opt(common_arg(...)...) call."""
    pos = 0
    while True:
        start = src.find("add_opt(common_arg(", pos)
        if start < 0:
            return
        i = start + len("add_opt(")
        depth, in_str = 1, False
        while depth > 0:
            c = src[i]
            if in_str:
                if c == "\\":
                    i += 1
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            i += 1
        yield src[start + len("add_opt("):i - 1]
        pos = i


def parse_block(block: str) -> dict | None:
    body = block[len("common_arg("):]
    body = re.sub(r"//[^\n]*", "", body)
    lists = []
    while True:
        m = re.match(r"\s*\{([^}]*)\}\s*,", body)
        if not m:
            break
        lists.append(re.findall(r'"([^"]*)"', m.group(1)))
        body = body[m.end():]
    if not lists:
        return None
    lam = re.search(r"\[\]\s*\(common_params\s*&\s*\w*\s*(?:/\*\w*\*/)?\s*(,[^)]*)?\)", block)
    sig = (lam.group(1) or "") if lam else ""
    if sig.count("std::string") == 2:
        values = 2
    elif "std::string" in sig or re.search(r"\bint\b", sig):
        values = 1
    else:
        values = 0  # void handler, or bool handler of an on/off pair
    env = re.search(r'set_env\("([^"]+)"\)', block)
    ex = re.search(r"set_examples\(\{([^}]*)\}\)", block)
    examples = [e.strip() for e in ex.group(1).split(",")] if ex else None
    if examples is None and "set_examples(mmproj_examples)" in block:
        examples = ["LLAMA_EXAMPLE_SERVER"]
    examples = examples or ["LLAMA_EXAMPLE_COMMON"]
    exc = re.search(r"set_excludes\(\{([^}]*)\}\)", block)
    excludes = [e.strip() for e in exc.group(1).split(",")] if exc else []
    if "LLAMA_EXAMPLE_SERVER" in excludes:
        return None
    if "LLAMA_EXAMPLE_SERVER" not in examples and "LLAMA_EXAMPLE_COMMON" not in examples:
        return None
    if ".set_sampling()" in block:
        section = "sampling"
    elif ".set_spec()" in block:
        section = "speculative"
    elif "LLAMA_EXAMPLE_SERVER" in examples:
        section = "server"
    else:
        section = "common"
    return {"names": lists[0], "negatives": lists[1] if len(lists) > 1 else [], "values": values,
            "env": env.group(1) if env else None, "section": section}


def main() -> None:
    arg_cpp = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "tests/integration/data/llama_server_flags.json"
    options, seen = [], set()
    for block in option_blocks(arg_cpp.read_text()):
        opt = parse_block(block)
        if opt is None or tuple(opt["names"]) in seen:
            continue
        seen.add(tuple(opt["names"]))
        options.append(opt)
    known = {n for o in options for n in o["names"] + o["negatives"]}
    for opt in OLDER_BUILD:
        if not known.intersection(opt["names"] + opt["negatives"]):
            options.append(opt)
    out.write_text(json.dumps({"source": "llama.cpp common/arg.cpp (llama-cpp-python 0.3.36 sdist)",
                               "options": options}, indent=1) + "\n")
    print(f"{out}: {len(options)} options")


if __name__ == "__main__":
    main()
