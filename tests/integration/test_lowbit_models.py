"""Whole models whose matrices are in a low-bit type, through the real server.

For the types the Python `gguf` package can quantize (TQ1_0, TQ2_0), test-f32.gguf's 2-D
block weights are quantized with gguf.quants.quantize into one file, and the same quantized
weights, dequantized by gguf.quants.dequantize, are written as F32 into a second file. Our
engine then runs both: the F32 file goes through the float path (checked against llama.cpp by
the fidelity tests), the low-bit file through the new type's loader, Q8_K activations and dot
kernels. The top-10 log-probabilities of the next token after each reference prompt must
agree within what 8-bit activations cost (the weights are identical). Calibration, measured
with this same test on established types (2026-12-07): Q8_0 and Q4_0 copies (Q8_0
activations, a scale per 32) differ from their F32 dequantizations by at most 0.26 (mean per
prompt <= 0.09); the ternary copies (Q8_K activations, one scale per 256, so coarser) by at
most 0.63 (mean <= 0.25), identically for TQ1_0 and TQ2_0, which hold the same trits. Hence
max < 1.0 and mean < 0.35, the bounds the Q4_0 server test uses against llama.cpp, widened
for the coarser activations.

The other new types (i-quants, NVFP4, Q1_0, Q2_0) have no quantizer in gguf; their
model-level check against llama.cpp (llama-cpp-python's quantize) is still to be made.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
from gguf import GGMLQuantizationType as T  # noqa: E402
from gguf.quants import dequantize, quantize  # noqa: E402

from conftest import MODELS  # noqa: E402
from server_helpers import PROMPTS, post, start  # noqa: E402

SOURCE = MODELS / "gen" / "test-f32.gguf"
QUANTIZED = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


def write_copy(path: Path, qtype: T, as_f32: bool) -> None:
    reader = gguf.GGUFReader(SOURCE)
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(str(path), arch)
    for field in reader.fields.values():
        if field.name == "general.architecture" or field.name.startswith("GGUF."):
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), vtype, sub_type=sub)
    for t in reader.tensors:
        data = np.asarray(t.data)
        if any(f".{name}." in t.name for name in QUANTIZED):
            q = quantize(np.ascontiguousarray(data, dtype=np.float32), qtype)
            if as_f32:
                writer.add_tensor(t.name, np.asarray(dequantize(q, qtype), dtype=np.float32).reshape(data.shape))
            else:
                writer.add_tensor(t.name, q, raw_dtype=qtype)
        else:
            writer.add_tensor(t.name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def next_token_logprobs(model: Path) -> list[dict[int, float]]:
    out = []
    with start(model, "-ctk", "f32", "-ctv", "f32") as s:
        for prompt in PROMPTS:
            r = post(s, "/completion", {"prompt": prompt, "n_predict": 1, "n_probs": 10, "temperature": 0})
            top = r.json()["completion_probabilities"][0]["top_logprobs"]
            out.append({c["id"]: c["logprob"] for c in top})
    return out


@pytest.mark.parametrize("qtype", [T.TQ1_0, T.TQ2_0], ids=lambda t: t.name)
def test_model_in_type_matches_its_f32_dequantization(qtype: T, tmp_path: Path) -> None:
    low, ref = tmp_path / f"test-{qtype.name}.gguf", tmp_path / f"test-{qtype.name}-as-f32.gguf"
    write_copy(low, qtype, as_f32=False)
    write_copy(ref, qtype, as_f32=True)
    assert T(gguf.GGUFReader(low).get_tensor(2).tensor_type) == qtype
    got, want = next_token_logprobs(low), next_token_logprobs(ref)
    for g, w in zip(got, want):
        shared = [tid for tid in w if tid in g]
        assert len(shared) >= 8, (g, w)
        diffs = [abs(g[tid] - w[tid]) for tid in shared]
        assert max(diffs) < 1.0 and sum(diffs) / len(diffs) < 0.35, diffs
