#!/usr/bin/env python3
"""Write the MoE bench model: Qwen3-30B-A3B's per-layer shapes with 12 blocks instead of 48.

n_embd 2048, 32 query / 4 KV heads of 128, 128 experts of feed-forward 768 with 8 used per
token, QK-norm, softmax router; the gpt-2 vocabulary (50257 tokens) of ../shared stands in
for Qwen's 151k one. Seeded random weights from scripts/make_moe_test_model.py's qwen3moe
writer, every matrix in --type (Q4_0 by default) but the F32 router.

    .venv/bin/python bench/make_moe_bench_model.py build/bench-models/moe-bench-q4_0.gguf
"""
import argparse
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import make_moe_test_model as gen  # noqa: E402

SHAPES = dict(N_EMBD=2048, N_HEAD=32, N_HEAD_KV=4, HEAD_DIM=128, N_EXPERT=128, N_EXPERT_USED=8,
              N_FF_EXP=768, QWEN3MOE_LAYERS=12)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--type", default="Q4_0", choices=sorted(gen.TYPES))
    a = p.parse_args()
    for key, value in SHAPES.items():
        setattr(gen, key, value)
    gen.EMBD_SD = 4.0 / math.sqrt(gen.N_EMBD)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    vocab = os.path.join(HERE, "..", "..", "shared", "models", "vocab", "ggml-vocab-gpt-2.gguf")
    gen.write_model("qwen3moe", a.type, a.out, seed=1, vocab=vocab)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
