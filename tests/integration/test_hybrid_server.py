"""The prompt cache on a hybrid model (recurrent Gated DeltaNet layers between attention
layers): the qwen35 test model of scripts/make_hybrid_test_model.py, served with Qwen 3.5's
own chat template (../shared/chat-templates/templates/Qwen3.5-4B.jinja). A recurrent state
cannot be cut back to an arbitrary length, only to a checkpoint (docs/server.md, "Prompt
cache and recurrent models"):
- a two-turn chat: the second turn reuses the first turn's state (timings.cache_n covers at
  least the first turn's history, where the chat route asked for a checkpoint, although the
  first prompt ended in a generation prompt that the second one does not repeat), and its
  answer is the one the same request gives with the cache off and on a fresh server;
- /completion with token prompts: a continuation of prompt + answer resumes from the live
  state, and a request that shares only the first prompt returns to its end-of-prompt
  checkpoint (tokens_cached and timings.cache_n as llama-server reports them), each giving
  the answer of a fresh evaluation."""
from __future__ import annotations

import sys

import pytest

from conftest import ROOT, SHARED
from server_helpers import post, start

sys.path.insert(0, str(ROOT / "scripts"))
import make_hybrid_test_model as gen  # noqa: E402

TEMPLATE = SHARED / "chat-templates" / "templates" / "Qwen3.5-4B.jinja"
TURN1 = [{"role": "user", "content": "Tell me a story about a little girl named Lily and her red ball."}]
FOLLOW_UP = "What did Lily do next, when the ball flew over the fence?"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("hybrid") / "hybrid-qwen35-f16.gguf"
    gen.write_model("qwen35", "F16", str(path))
    return path


def serve(model):
    return start(model, "-c", "2048", "-np", "1", "--chat-template-file", str(TEMPLATE), "--alias", "qwen35")


@pytest.fixture(scope="module")
def server(model):
    s = serve(model)
    yield s
    s.stop()


def chat(server, messages, **extra):
    r = post(server, "/v1/chat/completions", {"model": "qwen35", "messages": messages, "max_tokens": 16,
                                              "temperature": 0, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def n_tokens(server, messages, add_generation_prompt):
    text = post(server, "/apply-template", {"messages": messages,
                                            "add_generation_prompt": add_generation_prompt}).json()["prompt"]
    return len(post(server, "/tokenize", {"content": text, "add_special": True, "parse_special": True}).json()["tokens"])


def test_second_chat_turn_resumes_from_the_first_turns_state(server, model):
    first = chat(server, TURN1)
    answer = first["choices"][0]["message"]["content"]
    assert first["usage"]["completion_tokens"] > 0
    turn2 = TURN1 + [{"role": "assistant", "content": answer}, {"role": "user", "content": FOLLOW_UP}]

    cached = chat(server, turn2)
    history = n_tokens(server, TURN1, False)   # turn 1 without its generation prompt
    assert history > 0
    assert cached["timings"]["cache_n"] >= history, cached["timings"]
    assert cached["timings"]["prompt_n"] == cached["usage"]["prompt_tokens"] - cached["timings"]["cache_n"]
    assert cached["timings"]["prompt_n"] < cached["usage"]["prompt_tokens"]

    uncached = chat(server, turn2, cache_prompt=False)
    assert uncached["timings"]["cache_n"] == 0
    assert cached["choices"][0]["message"]["content"] == uncached["choices"][0]["message"]["content"]

    fresh = serve(model)
    try:
        assert chat(fresh, turn2)["choices"][0]["message"]["content"] == cached["choices"][0]["message"]["content"]
    finally:
        fresh.stop()


def completion(server, prompt, **extra):
    r = post(server, "/completion", {"prompt": prompt, "n_predict": 12, "temperature": 0, "return_tokens": True,
                                     **extra})
    assert r.status_code == 200, r.text
    return r.json()


def test_completion_resumes_from_the_live_state_or_the_prompt_checkpoint(server):
    prompt = post(server, "/tokenize", {"content": "Once upon a time, there was a little girl named Lily. "
                                                   "She loved to play outside in the sun.",
                                        "add_special": True}).json()["tokens"]
    extra = post(server, "/tokenize", {"content": " The end.", "add_special": False}).json()["tokens"]
    first_tokens = completion(server, prompt, cache_prompt=False)["tokens"]
    longer = prompt + first_tokens + extra   # prompt + answer + more
    other = prompt + extra                   # only the prompt in common
    # Fresh evaluations first: cache_prompt=false clears the slot, checkpoints included.
    expect_longer = completion(server, longer, cache_prompt=False)["content"]
    expect_other = completion(server, other, cache_prompt=False)["content"]

    first = completion(server, prompt)
    assert first["tokens"] == first_tokens
    # Every evaluated position is reused from the live state (the last answer token was
    # sampled but not evaluated, so it is evaluated now).
    cont = completion(server, longer)
    assert cont["timings"]["cache_n"] == len(prompt) + len(first_tokens) - 1
    assert cont["tokens_cached"] == len(longer) + cont["tokens_predicted"]
    assert cont["content"] == expect_longer
    # Back to the first request's end-of-prompt checkpoint.
    back = completion(server, other)
    assert back["timings"]["cache_n"] == len(prompt), back["timings"]
    assert back["content"] == expect_other
