#!/usr/bin/env python3
"""Record llama.cpp's outputs on the MoE test models into tests/reference/moe/ (run by hand).

Needs llama-cpp-python (it holds a llama.cpp build) plus numpy and gguf, e.g.
    /work/llcpp-venv/bin/python scripts/record_moe_reference.py
It is never run by the tests or CI: they read the JSON it writes.

For every model of make_moe_test_model.TEST_MODELS (made afresh into a temporary folder)
and the 4 prompts of ../shared/reference/README.md, it writes the same two files as the
shared references, with the same procedure:
  <name>.greedy.json  the prompt decoded in one batch, then 48 greedy steps of one token
                      each (argmax of the raw logits, lowest id on a tie), with the margin
                      top-1 minus top-2 in log-probability at every step;
  <name>.topk.json    teacher forcing: prompt + the first 48 - n_prompt greedy tokens as one
                      batch asking for logits at every position; log-softmax in float64 and
                      the 10 best [id, logprob] (lower id first on a tie), plus `next`.
Context: n_ctx 256, n_batch = n_ubatch 256, 1 thread, K/V cache F32, flash attention off.
"noise" records llama.cpp's own batched-versus-one-token difference on the same tokens, in
total and per position (positions[i].noise, the largest difference over its top-10): a
position where llama.cpp's two paths disagree by more than a tolerance is a near-tie of
llama.cpp itself (a router whose two best experts nearly tie, say).

ablations.json: for every F16 model and every ablation of make_moe_test_model.ABLATIONS
(the same file with one feature switched off), llama.cpp's teacher-forced pass over the
same 4 x 48 tokens: the share of positions whose top-1 id changes and the largest change of
a reference top-10 log-probability. Every feature must move the output.
"""
import ctypes
import hashlib
import json
import os
import sys
import tempfile

import numpy as np
import llama_cpp as L

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_moe_test_model as gen  # noqa: E402

OUT = os.path.join(HERE, "..", "tests", "reference", "moe")
PROMPTS = [
    "Once upon a time, there was a little girl named Lily.",
    "The cat sat on the mat and",
    "One day, Tom went to the park with his mom.",
    "At 3:45 pm, Sam counted 12 apples, 7 pears (and 1 lemon)!",
]
N_SEQ = 48
SETTINGS = {"kv_cache_type": "f32", "flash_attn": "off", "threads": 1, "n_ctx": 256, "n_batch": 256}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Runner:
    def __init__(self, path):
        mp = L.llama_model_default_params()
        self.model = L.llama_model_load_from_file(path.encode(), mp)
        if not self.model:
            raise RuntimeError(f"llama.cpp refused {path}")
        self.vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = L.llama_vocab_n_tokens(self.vocab)
        cp = L.llama_context_default_params()
        cp.n_ctx, cp.n_batch, cp.n_ubatch = 256, 256, 256
        cp.n_threads = cp.n_threads_batch = 1
        cp.type_k = cp.type_v = L.GGML_TYPE_F32
        cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
        self.ctx = L.llama_init_from_model(self.model, cp)
        self.batch = L.llama_batch_init(256, 0, 1)

    def tokenize(self, text):
        buf = (L.llama_token * 512)()
        n = L.llama_tokenize(self.vocab, text.encode(), len(text.encode()), buf, 512, True, False)
        return list(buf[:n])

    def piece(self, token):
        buf = ctypes.create_string_buffer(64)
        n = L.llama_token_to_piece(self.vocab, token, buf, 64, 0, False)
        return buf.raw[:n]

    def clear(self):
        L.llama_memory_clear(L.llama_get_memory(self.ctx), True)

    def decode(self, tokens, start, all_logits):
        """Decodes tokens at positions start..; returns the logits rows asked for."""
        b = self.batch
        b.n_tokens = len(tokens)
        for i, t in enumerate(tokens):
            b.token[i], b.pos[i], b.n_seq_id[i] = t, start + i, 1
            b.seq_id[i][0] = 0
            b.logits[i] = all_logits or i + 1 == len(tokens)
        if L.llama_decode(self.ctx, b) != 0:
            raise RuntimeError("llama_decode failed")
        rows = range(len(tokens)) if all_logits else [len(tokens) - 1]
        return [np.ctypeslib.as_array(L.llama_get_logits_ith(self.ctx, i), shape=(self.n_vocab,)).astype(np.float64)
                for i in rows]


def log_softmax(logits):
    m = logits.max()
    return logits - (m + np.log(np.exp(logits - m).sum()))


def top10(lp):
    order = sorted(range(len(lp)), key=lambda i: (-lp[i], i))[:10]
    return [[int(i), round(float(lp[i]), 6)] for i in order]


def record(path, name, out=OUT):
    r = Runner(path)
    head = {"model": name + ".gguf", "sha256": sha256(path), "llama_cpp_commit": "llama-cpp-python " + L.__version__,
            "settings": SETTINGS}
    greedy = dict(head, n_gen=N_SEQ, prompts=[])
    topk = dict(head, n_vocab=r.n_vocab, add_bos=bool(L.llama_vocab_get_add_bos(r.vocab)), prompts=[])
    max_noise, sum_noise, n_noise = 0.0, 0.0, 0
    for text in PROMPTS:
        prompt = r.tokenize(text)
        r.clear()
        logits = r.decode(prompt, 0, False)[0]
        gen_tokens, margins = [], []
        for step in range(N_SEQ):
            lp = log_softmax(logits)
            best = int(np.argmax(lp))   # first maximum: the lowest id on a tie
            srt = np.sort(lp)
            margins.append(round(float(srt[-1] - srt[-2]), 6))
            gen_tokens.append(best)
            logits = r.decode([best], len(prompt) + step, False)[0]
        pieces = [r.piece(t) for t in gen_tokens]
        raw = b"".join(pieces)
        greedy["prompts"].append({
            "text": text, "prompt_tokens": prompt, "tokens": gen_tokens,
            "text_out": raw.decode("utf-8", "replace"), "text_out_lossy": raw.decode("utf-8", "replace").encode() != raw,
            "bytes_hex": raw.hex(), "pieces_hex": [p.hex() for p in pieces], "margins": margins,
            "eog_steps": [i for i, t in enumerate(gen_tokens) if L.llama_vocab_is_eog(r.vocab, t)]})

        seq = (prompt + gen_tokens)[:N_SEQ]
        r.clear()
        rows = r.decode(seq, 0, True)
        positions = []
        for i, row in enumerate(rows):
            lp = log_softmax(row)
            entry = {"pos": i, "top": top10(lp)}
            if i + 1 < len(seq):
                entry["next"] = [seq[i + 1], round(float(lp[seq[i + 1]]), 6)]
            positions.append(entry)
        # llama.cpp's own noise: the same sequence one token at a time
        r.clear()
        for i, t in enumerate(seq):
            one = log_softmax(r.decode([t], i, False)[0])
            here = 0.0
            for tid, v in positions[i]["top"]:
                d = abs(one[tid] - v)
                here = max(here, d)
                max_noise, sum_noise, n_noise = max(max_noise, d), sum_noise + d, n_noise + 1
            positions[i]["noise"] = round(float(here), 6)   # this position, batched vs one by one
        topk["prompts"].append({"text": text, "n_prompt": len(prompt), "tokens": seq, "positions": positions})
    topk["noise"] = {"batch_vs_sequential_max_abs": round(max_noise, 6),
                     "batch_vs_sequential_mean_abs": round(sum_noise / n_noise, 8)}
    for kind, data in (("topk", topk), ("greedy", greedy)):
        with open(os.path.join(out, f"{name}.{kind}.json"), "w") as f:
            json.dump(data, f, separators=(",", ":"))
            f.write("\n")
    L.llama_batch_free(r.batch)
    L.llama_free(r.ctx)
    L.llama_model_free(r.model)
    print(f"{name}: noise max {max_noise:.3g}, min greedy margin "
          f"{min(min(p['margins']) for p in greedy['prompts']):.4f}")
    return topk


def ablation(path, topk):
    """Top-1 changes and the largest top-10 logprob change of `path` against `topk`."""
    r = Runner(path)
    changed, positions, max_diff = 0, 0, 0.0
    for prompt in topk["prompts"]:
        r.clear()
        rows = r.decode(prompt["tokens"], 0, True)
        for entry, row in zip(prompt["positions"], rows):
            lp = log_softmax(row)
            changed += int(np.argmax(lp)) != entry["top"][0][0]
            positions += 1
            max_diff = max(max_diff, max(abs(lp[i] - v) for i, v in entry["top"]))
    L.llama_batch_free(r.batch)
    L.llama_free(r.ctx)
    L.llama_model_free(r.model)
    return {"top1_changed": changed, "positions": positions, "max_abs_logprob_change": round(float(max_diff), 4)}


def main():
    L.llama_backend_init()
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[1:])
    ablations = {}
    with tempfile.TemporaryDirectory() as tmp:
        for arch, type_name in gen.TEST_MODELS:
            name = gen.model_name(arch, type_name)
            if only and name not in only:
                continue
            path = os.path.join(tmp, name + ".gguf")
            gen.write_model(arch, type_name, path)
            topk = record(path, name)
            if type_name != "F16":
                continue
            for feature in gen.ABLATIONS[arch]:
                ablated = os.path.join(tmp, f"{name}-{feature}.gguf")
                gen.write_model(arch, type_name, ablated, ablate=[feature])
                ablations.setdefault(name, {})[feature] = ablation(ablated, topk)
                print(f"  {feature}: {ablations[name][feature]}")
    if not only:
        with open(os.path.join(OUT, "ablations.json"), "w") as f:
            json.dump(ablations, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
