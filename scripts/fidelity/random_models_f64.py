"""Which side drifts on the random llama test models: ours and llama.cpp's teacher-forced
log-probabilities (shared/reference/<model>.topk.json, K/V cache F32) against the float64
forward pass with activation rounding (f64_forward.py). For each prompt, the first
position where each side is more than 1e-3 away from float64 on a reference top-10 entry
(48 = never); a smaller number means that side's arithmetic flipped a rounding first.

    python scripts/fidelity/random_models_f64.py BUILD_DIR [--cpu LEVEL]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import f64_forward as F  # noqa: E402
from random_models_greedy import MODELS, SHARED  # noqa: E402


def first_off(lp: np.ndarray, f64: np.ndarray, positions: list, tol: float) -> int:
    for i, pos in enumerate(positions):
        ids = [e[0] for e in pos["top"]]
        if np.abs(lp[i, ids] - f64[i, ids]).max() > tol:
            return i
    return len(positions)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--cpu", default="")
    ap.add_argument("--shared", default=str(SHARED))
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("models", nargs="*", default=MODELS)
    args = ap.parse_args()
    shared = Path(args.shared)
    driver = Path(args.build_dir) / "forward_driver"
    tot_ours = tot_llama = 0
    ours_first = llama_first = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "logits.bin"
        for name in args.models:
            ref = json.loads((shared / "reference" / f"{name}.topk.json").read_text())
            model = F.Model(str(shared / "models" / ref["model"]))
            row = []
            for p in ref["prompts"]:
                toks = p["tokens"]
                cmd = [str(driver), str(shared / "models" / ref["model"]), "--logits", str(out)]
                cmd += (["--cpu", args.cpu] if args.cpu else []) + [str(t) for t in toks]
                subprocess.run(cmd, check=True, capture_output=True)
                ours = F.log_softmax(np.fromfile(out, dtype=np.float32).reshape(len(toks), -1).astype(np.float64))
                f64 = F.log_softmax(model.forward(toks))
                llama = np.full_like(f64, np.nan)
                for i, pos in enumerate(p["positions"]):
                    for tid, lp in pos["top"]:
                        llama[i, tid] = lp
                a = first_off(ours, f64, p["positions"], args.tol)
                b = first_off(llama, f64, p["positions"], args.tol)
                tot_ours += a
                tot_llama += b
                ours_first += a < b
                llama_first += b < a
                row.append(f"{a:2d}/{b:2d}")
            print(f"{name:20s} " + "  ".join(row), flush=True)
    print(f"first position off float64 by > {args.tol:g} (ours/llama.cpp): sums {tot_ours} / {tot_llama}; "
          f"ours first on {ours_first} prompts, llama.cpp first on {llama_first}")


if __name__ == "__main__":
    main()
