"""llama-server native endpoints on stories260K, checked against llama.cpp's reference
outputs (../shared/reference): greedy text, token ids, top-k log-probabilities,
tokenization; plus streaming, stop strings, prompt forms, caching, /props, /slots,
/metrics."""
from __future__ import annotations

import math

import pytest
import requests

from conftest import linux_x86_cpu_features
from server_helpers import PROMPTS, STORIES, assert_api_error, get, post, reference, sse_events, start


@pytest.fixture(scope="module")
def server():
    # F32 K/V cache so logprobs are held to the tight kv_f32 reference tolerances.
    s = start(STORIES, "-np", "2", "-c", "1024", "-ctk", "f32", "-ctv", "f32", "--metrics", "--slots",
              "--alias", "stories")
    yield s
    s.stop()


def test_health_and_props(server):
    r = get(server, "/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    props = get(server, "/props").json()
    assert props["total_slots"] == 2
    assert props["model_path"] == str(STORIES)
    assert props["default_generation_settings"]["n_ctx"] == 512
    assert "temperature" in props["default_generation_settings"]["params"]
    assert isinstance(props["chat_template"], str) and "im_start" in props["chat_template"]
    assert props["build_info"]
    assert props["bos_token"] == "<s>" and props["eos_token"] == "</s>"
    expected = linux_x86_cpu_features()
    if expected is not None:
        assert set(props["cpu_features"]) == expected, props["cpu_features"]


def test_models_meta(server):
    import gguf  # independent reader of the file's metadata

    reader = gguf.GGUFReader(str(STORIES))
    fields = {k: v for k, v in reader.fields.items()}

    def field_str(key):
        f = fields.get(key)
        return None if f is None else bytes(f.parts[f.data[0]]).decode()

    for path in ("/v1/models", "/models"):
        body = get(server, path).json()
        assert body["object"] == "list"
        (model,) = body["data"]
        assert model["id"] == "stories" and model["object"] == "model"
        meta = model["meta"]
        assert meta["n_vocab"] == 512
        assert meta["n_ctx"] == 1024
        assert meta["n_embd"] == int(fields["llama.embedding_length"].parts[-1][0])
        assert meta["n_ctx_train"] == int(fields["llama.context_length"].parts[-1][0])
        n_params = sum(int(t.n_elements) for t in reader.tensors)
        assert meta["n_params"] == n_params
        assert meta["size"] == sum(int(t.n_bytes) for t in reader.tensors)
        assert meta["general.architecture"] == "llama"
        for key in ("name", "type", "version", "finetune", "basename", "size_label", "license"):
            assert meta["general." + key] == field_str("general." + key)


@pytest.mark.parametrize("index", range(4))
def test_greedy_matches_reference(server, index):
    ref = reference("stories260K.greedy.json")["prompts"][index]
    r = post(server, "/completion", {"prompt": ref["text"], "n_predict": 48, "temperature": 0,
                                     "return_tokens": True, "cache_prompt": False})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tokens"] == ref["tokens"]
    assert body["content"].encode() == bytes.fromhex(ref["bytes_hex"])
    assert body["tokens_predicted"] == 48
    assert body["tokens_evaluated"] == len(ref["prompt_tokens"])
    assert body["stop"] is True and body["stop_type"] == "limit"
    assert body["model"] == "stories"
    t = body["timings"]
    assert t["predicted_n"] == 48 and t["prompt_n"] == len(ref["prompt_tokens"])
    assert body["generation_settings"]["temperature"] == 0


def test_token_prompt_and_mixed_prompt(server):
    ref = reference("stories260K.greedy.json")["prompts"][1]
    ids = ref["prompt_tokens"]
    by_ids = post(server, "/completion", {"prompt": ids, "n_predict": 8, "temperature": 0, "return_tokens": True})
    assert by_ids.json()["tokens"] == ref["tokens"][:8]
    # Mixed: BOS id, then text (no second BOS is added to a non-first piece).
    mixed = post(server, "/completion", {"prompt": [1, ref["text"]], "n_predict": 8, "temperature": 0,
                                         "return_tokens": True})
    assert mixed.json()["tokens"] == ref["tokens"][:8]
    # Several prompts give a list of results, in order.
    multi = post(server, "/completion", {"prompt": [PROMPTS[0], PROMPTS[1]], "n_predict": 4, "temperature": 0,
                                         "return_tokens": True}).json()
    greedy = reference("stories260K.greedy.json")["prompts"]
    assert [m["index"] for m in multi] == [0, 1]
    assert multi[0]["tokens"] == greedy[0]["tokens"][:4]
    assert multi[1]["tokens"] == greedy[1]["tokens"][:4]


def test_stream_equals_non_stream(server):
    ref = reference("stories260K.greedy.json")["prompts"][0]
    body = {"prompt": ref["text"], "n_predict": 48, "temperature": 0, "stream": True, "return_tokens": True}
    with requests.post(server.base + "/completion", json=body, stream=True, timeout=60) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
        events = list(sse_events(r))
    assert "[DONE]" not in events  # the native API has no [DONE] marker
    *chunks, final = events
    assert all(c["stop"] is False for c in chunks)
    text = "".join(c["content"] for c in chunks)
    assert text.encode() == bytes.fromhex(ref["bytes_hex"])
    assert [t for c in chunks for t in c["tokens"]] == ref["tokens"]
    assert final["stop"] is True and final["stop_type"] == "limit"
    assert final["content"] == "" and final["timings"]["predicted_n"] == 48
    assert chunks[-1]["tokens_predicted"] == 48


def test_stop_strings(server):
    ref = reference("stories260K.greedy.json")["prompts"][0]
    full = bytes.fromhex(ref["bytes_hex"]).decode()
    stop = "red ball"
    expected = full[: full.index(stop)]
    r = post(server, "/completion", {"prompt": ref["text"], "n_predict": 48, "temperature": 0, "stop": [stop, "zzz"]})
    body = r.json()
    assert body["content"] == expected
    assert body["stop_type"] == "word" and body["stopping_word"] == stop
    # Streaming holds back a partial stop match, so the stop string never leaks.
    with requests.post(server.base + "/completion", json={"prompt": ref["text"], "n_predict": 48,
                                                          "temperature": 0, "stop": [stop], "stream": True},
                       stream=True, timeout=60) as s:
        events = list(sse_events(s))
    streamed = "".join(e["content"] for e in events)
    assert streamed == expected
    assert events[-1]["stop_type"] == "word"


def test_probs_match_reference_logprobs(server):
    topk = reference("stories260K.topk.json")["prompts"][1]
    n_prompt = topk["n_prompt"]
    n_gen = 6
    r = post(server, "/completion", {"prompt": topk["text"], "n_predict": n_gen, "n_probs": 10,
                                     "post_sampling_probs": False, "temperature": 0})
    probs = r.json()["completion_probabilities"]
    assert len(probs) == n_gen
    worst = 0.0
    for j, entry in enumerate(probs):
        pos = topk["positions"][n_prompt - 1 + j]
        assert entry["id"] == pos["top"][0][0]
        got = {c["id"]: c["logprob"] for c in entry["top_logprobs"]}
        assert len(entry["top_logprobs"]) == 10
        for tid, lp in pos["top"]:
            worst = max(worst, abs(got[tid] - lp))
        assert abs(entry["logprob"] - pos["top"][0][1]) < 1e-4
        assert bytes(entry["bytes"]) == entry["token"].encode()
    assert worst < 1e-4, worst


def test_post_sampling_probs(server):
    r = post(server, "/completion", {"prompt": PROMPTS[1], "n_predict": 3, "n_probs": 5,
                                     "post_sampling_probs": True, "temperature": 0})
    for entry in r.json()["completion_probabilities"]:
        assert "prob" in entry and "top_probs" in entry
        assert entry["prob"] == pytest.approx(1.0)  # greedy: the chain keeps one candidate
        assert 0 < len(entry["top_probs"]) <= 5


def test_cache_prompt_reuses_prefix(server):
    body = {"prompt": PROMPTS[2], "n_predict": 10, "temperature": 0, "id_slot": 1, "cache_prompt": True}
    first = post(server, "/completion", body).json()
    second = post(server, "/completion", body).json()
    assert second["content"] == first["content"]
    assert second["timings"]["cache_n"] == second["tokens_evaluated"] - 1
    assert second["timings"]["prompt_n"] == 1
    third = post(server, "/completion", {**body, "cache_prompt": False}).json()
    assert third["timings"]["cache_n"] == 0 and third["content"] == first["content"]


def test_n_predict_zero_and_progress(server):
    body = post(server, "/completion", {"prompt": PROMPTS[0], "n_predict": 0}).json()
    assert body["content"] == "" and body["tokens_predicted"] == 0 and body["stop_type"] == "limit"
    with requests.post(server.base + "/completion", json={"prompt": PROMPTS[3], "n_predict": 2, "stream": True,
                                                          "return_progress": True, "cache_prompt": False},
                       stream=True, timeout=60) as r:
        events = list(sse_events(r))
    progress = [e["prompt_progress"] for e in events if "prompt_progress" in e]
    assert progress and progress[-1]["processed"] == progress[-1]["total"]


def test_tokenize_detokenize_match_reference(server):
    ref = reference("tokenize.json")
    vocab = next(v for v in ref["vocabs"] if v["file"] == "stories260K.gguf")
    for i, text in enumerate(ref["strings"]):
        for mode, add_special, parse_special in (("default", True, True), ("no_bos", False, True),
                                                 ("no_parse_special", True, False)):
            r = post(server, "/tokenize", {"content": text, "add_special": add_special,
                                           "parse_special": parse_special})
            assert r.json()["tokens"] == vocab["results"][mode][i], (mode, text)
    ids = vocab["results"]["no_bos"][0]
    assert post(server, "/detokenize", {"tokens": ids}).json()["content"] == ref["strings"][0]
    pieces = post(server, "/tokenize", {"content": "Hello world", "with_pieces": True}).json()["tokens"]
    assert [p["id"] for p in pieces] == ids
    assert "".join(p["piece"] for p in pieces).replace("\u2581", " ").strip() == "Hello world"


def test_apply_template_chatml(server):
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    prompt = post(server, "/apply-template", {"messages": msgs}).json()["prompt"]
    assert prompt == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                      "<|im_start|>assistant\n")


def test_slots_and_metrics(server):
    slots = get(server, "/slots").json()
    assert len(slots) == 2
    assert {s["id"] for s in slots} == {0, 1}
    assert all(s["is_processing"] is False and s["n_ctx"] == 512 for s in slots)
    post(server, "/completion", {"prompt": PROMPTS[0], "n_predict": 5, "cache_prompt": False})
    r = get(server, "/metrics")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    values = {}
    for line in r.text.splitlines():
        if line.startswith("#"):
            assert line.startswith("# HELP llamacpp:") or line.startswith("# TYPE llamacpp:")
            continue
        name, value = line.split(" ")
        values[name] = float(value)
    assert values["llamacpp:tokens_predicted_total"] >= 5
    assert values["llamacpp:prompt_tokens_total"] >= 16
    assert values["llamacpp:requests_processing"] == 0
    assert values["llamacpp:n_decode_total"] >= 5
    assert not math.isnan(values["llamacpp:kv_cache_usage_ratio"])


def test_logit_bias(server):
    ref = reference("stories260K.greedy.json")["prompts"][0]
    body = {"prompt": ref["text"], "n_predict": 4, "temperature": 0, "return_tokens": True, "cache_prompt": False}
    first = ref["tokens"][0]
    # The runner-up of the first step, as the engine ranks it (n_probs is checked against
    # llama.cpp's log-probabilities in test_probs_match_reference_logprobs).
    ranked = post(server, "/completion", {**body, "n_predict": 1, "n_probs": 2}).json()
    runner_up = ranked["completion_probabilities"][0]["top_logprobs"][1]["id"]
    assert ranked["tokens"] == [first] and runner_up != first

    banned = post(server, "/completion", {**body, "logit_bias": [[first, False]]}).json()
    assert banned["tokens"][0] == runner_up
    # OpenAI's object form with a large negative bias does the same.
    assert post(server, "/completion", {**body, "logit_bias": {str(first): -100}}).json()["tokens"][0] == runner_up
    # A large positive bias makes one token win every step.
    forced = post(server, "/completion", {**body, "logit_bias": [[runner_up, 1000]]}).json()
    assert forced["tokens"] == [runner_up] * 4
    # A text entry biases the tokens of that text.
    piece = post(server, "/detokenize", {"tokens": [runner_up]}).json()["content"]
    by_text = post(server, "/completion", {**body, "logit_bias": [[piece, 1000]]}).json()
    assert by_text["tokens"] == [runner_up] * 4
    for bad in ([[100000, 1]], [[first, True]], "x", [[first]]):
        assert_api_error(post(server, "/completion", {**body, "logit_bias": bad}), 400)
