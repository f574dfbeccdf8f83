"""The server on other reference models: UTF-8 characters that span two tokens are never
split across SSE chunks (test-f32, whose greedy output has such characters), and a
quantized model (test-q4_0) agrees with llama.cpp's top-k log-probabilities within the
reference README's tolerance for quantized weights."""
from __future__ import annotations

import pytest
import requests

from server_helpers import MODELS, Q4_0, post, reference, sse_events, start


def split_characters(pieces: list[bytes]) -> list[str]:
    """Valid multi-byte UTF-8 characters whose bytes come from more than one token."""
    full = b"".join(pieces)
    bounds, off = set(), 0
    for p in pieces:
        off += len(p)
        bounds.add(off)
    out, i = [], 0
    while i < len(full):
        c = full[i]
        n = 1 if c < 0x80 else 2 if c >> 5 == 6 else 3 if c >> 4 == 14 else 4 if c >> 3 == 30 else 1
        try:
            ch = full[i:i + n].decode("utf-8")
        except UnicodeDecodeError:
            i += 1
            continue
        if n > 1 and any(i < b < i + n for b in bounds):
            out.append(ch)
        i += n
    return out


def test_utf8_never_split_across_chunks():
    ref = reference("test-f32.greedy.json")["prompts"][2]
    pieces = [bytes.fromhex(h) for h in ref["pieces_hex"]]
    chars = split_characters(pieces)
    assert chars, "the reference output should contain characters spanning two tokens"
    with start(MODELS / "gen" / "test-f32.gguf", "-ctk", "f32", "-ctv", "f32") as s:
        body = {"prompt": ref["text"], "n_predict": 48, "temperature": 0, "stream": True, "return_tokens": True}
        with requests.post(s.base + "/completion", json=body, stream=True, timeout=60) as r:
            events = list(sse_events(r))
        chunks = events[:-1]
        assert [t for c in chunks for t in c["tokens"]] == ref["tokens"]
        streamed = "".join(c["content"] for c in chunks)
        for ch in chars:
            assert ch in streamed, (ch, streamed)
        # Non-streaming gives the same text.
        whole = post(s, "/completion", {**body, "stream": False}).json()["content"]
        assert whole == streamed


def test_q4_0_logprobs_within_quantized_tolerance():
    topk = reference("test-q4_0.topk.json")["prompts"][1]
    n_prompt = topk["n_prompt"]
    with start(Q4_0, "-ctk", "f32", "-ctv", "f32") as s:
        r = post(s, "/completion", {"prompt": topk["tokens"][:n_prompt], "n_predict": 1, "n_probs": 10,
                                    "temperature": 0})
        probs = r.json()["completion_probabilities"]
    got = {c["id"]: c["logprob"] for c in probs[0]["top_logprobs"]}
    pos = topk["positions"][n_prompt - 1]
    diffs = [abs(got[tid] - lp) for tid, lp in pos["top"] if tid in got]
    assert len(diffs) >= 8
    assert max(diffs) < 1.0 and sum(diffs) / len(diffs) < 0.15


@pytest.mark.parametrize("name", ["gen/test-q4_0.gguf", "gen/test-q2_k.gguf", "gen/test-bf16.gguf", "stories260K.gguf"])
def test_models_endpoint_names_the_file_type(name):
    """/v1/models gives general.file_type as the file records it and names it in
    quantization_level, checked against the gguf package's reader and its LlamaFileType enum."""
    import gguf

    path = MODELS / name
    reader = gguf.GGUFReader(str(path))
    field = reader.get_field("general.file_type")
    with start(path) as s:
        body = requests.get(s.base + "/v1/models", timeout=10).json()
    meta = body["data"][0]["meta"]
    level = body["models"][0]["details"]["quantization_level"]
    if field is None:
        # stories260K has no general.file_type: null, and the label is the dominant tensor type.
        assert meta["general.file_type"] is None
        assert level == "F32"
        return
    number = int(field.parts[field.data[0]][0])
    assert meta["general.file_type"] == number
    assert level == gguf.LlamaFileType(number).name.removeprefix("MOSTLY_").removeprefix("ALL_")
