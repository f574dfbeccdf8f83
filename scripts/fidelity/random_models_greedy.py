"""Greedy continuations of our engine on the random llama test models against llama.cpp's
(shared/reference/<model>.greedy.json, K/V cache F32), set beside llama.cpp's own noise:
how many of the 48 steps its F32-cache and default-settings (F16 cache, flash attention)
runs agree on. A prompt counts as "early" when our continuation leaves llama.cpp's F32 one
sooner than llama.cpp's two runs leave each other.

    python scripts/fidelity/random_models_greedy.py BUILD_DIR [--cpu LEVEL] [--cache f32]
"""
from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared"
MODELS = ["stories260K", "llama-2-tiny-random", "test-f32", "test-f16", "test-bf16", "test-q8_0",
          "test-q4_0", "test-q4_1", "test-q5_0", "test-q5_1", "test-q2_k", "test-q3_k_m",
          "test-q4_k_m", "test-q5_k_m", "test-q6_k", "test-iq4_nl", "test-iq4_xs"]


def agree(a: list[int], b: list[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--cpu", default="")
    ap.add_argument("--cache", default="f32")
    ap.add_argument("--shared", default=str(SHARED))
    args = ap.parse_args()
    shared = Path(args.shared)
    driver = Path(args.build_dir) / "forward_driver"
    early = 0
    total = 0
    for name in MODELS:
        ref = json.loads((shared / "reference" / f"{name}.greedy.json").read_text())
        dflt = json.loads((shared / "reference" / f"{name}.greedy-default.json").read_text())
        row = []
        for p, q in zip(ref["prompts"], dflt["prompts"]):
            cmd = [str(driver), str(shared / "models" / ref["model"]), "--cache", args.cache,
                   "--greedy", "48"] + (["--cpu", args.cpu] if args.cpu else []) + [str(t) for t in p["prompt_tokens"]]
            ours = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)["greedy"]
            a = agree(ours, p["tokens"])
            noise = agree(p["tokens"], q["tokens"])
            total += 1
            flag = a < noise
            early += flag
            row.append(f"{a:2d}/{noise:2d}{'*' if flag else ' '}")
        print(f"{name:20s} " + "  ".join(row))
    print(f"early: {early} of {total} prompts (ours/llama.cpp-self agreement, * = ours leaves sooner)")


if __name__ == "__main__":
    main()
