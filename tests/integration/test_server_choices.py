"""OpenAI's `n` (issue 17): /v1/chat/completions and /v1/completions return n choices per
prompt, indexed as llama-server indexes them (choice j of prompt i is index i * n + j),
streamed with each choice's own role and finish chunks and one [DONE] at the end."""
from __future__ import annotations

import pytest

from server_helpers import STORIES, post, sse_events, start

CHAT = [{"role": "user", "content": "Tell me a story about a dog."}]


@pytest.fixture(scope="module")
def server():
    s = start(STORIES, "-np", "2")
    yield s
    s.stop()


def test_chat_n_choices(server):
    greedy = post(server, "/v1/chat/completions", {"messages": CHAT, "max_tokens": 12, "temperature": 0,
                                                   "n": 3}).json()
    assert [c["index"] for c in greedy["choices"]] == [0, 1, 2]
    texts = [c["message"]["content"] for c in greedy["choices"]]
    single = post(server, "/v1/chat/completions", {"messages": CHAT, "max_tokens": 12, "temperature": 0}).json()
    assert texts == [single["choices"][0]["message"]["content"]] * 3
    assert greedy["usage"]["completion_tokens"] == 3 * single["usage"]["completion_tokens"]
    assert greedy["usage"]["prompt_tokens"] == single["usage"]["prompt_tokens"]

    # Without a seed each choice draws its own random seed: at temperature 1.5 the three
    # 24-token samples are not all the same.
    sampled = post(server, "/v1/chat/completions", {"messages": CHAT, "max_tokens": 24, "temperature": 1.5,
                                                    "n": 3}).json()
    assert len({c["message"]["content"] for c in sampled["choices"]}) > 1
    # A fixed seed gives n equal choices (llama-server copies the seed into each task).
    seeded = post(server, "/v1/chat/completions", {"messages": CHAT, "max_tokens": 24, "temperature": 1.5,
                                                   "seed": 7, "n": 2}).json()
    assert seeded["choices"][0]["message"] == seeded["choices"][1]["message"]


def test_chat_n_choices_streamed(server):
    body = {"messages": CHAT, "max_tokens": 10, "temperature": 0, "n": 2, "stream": True,
            "stream_options": {"include_usage": True}}
    with post(server, "/v1/chat/completions", body, stream=True) as r:
        events = list(sse_events(r))
    assert events[-1] == "[DONE]" and events.count("[DONE]") == 1
    text, roles, finishes = {0: "", 1: ""}, [], []
    usage = None
    for e in events[:-1]:
        if e.get("usage"):
            usage = e["usage"]
            continue
        for c in e["choices"]:
            delta = c["delta"]
            if delta.get("role"):
                roles.append(c["index"])
            if delta.get("content"):
                text[c["index"]] += delta["content"]
            if c["finish_reason"]:
                finishes.append(c["index"])
    assert sorted(roles) == [0, 1] and sorted(finishes) == [0, 1]
    whole = post(server, "/v1/chat/completions", {"messages": CHAT, "max_tokens": 10, "temperature": 0}).json()
    assert text[0] == text[1] == whole["choices"][0]["message"]["content"]
    assert usage["completion_tokens"] == 2 * whole["usage"]["completion_tokens"]


def test_completions_n_choices_per_prompt(server):
    prompts = ["Once upon a time", "The little girl"]
    out = post(server, "/v1/completions", {"prompt": prompts, "max_tokens": 8, "temperature": 0, "n": 2}).json()
    assert [c["index"] for c in out["choices"]] == [0, 1, 2, 3]
    texts = [c["text"] for c in out["choices"]]
    one = [post(server, "/v1/completions", {"prompt": p, "max_tokens": 8, "temperature": 0}).json()
           for p in prompts]
    assert texts == [one[0]["choices"][0]["text"]] * 2 + [one[1]["choices"][0]["text"]] * 2
    assert out["usage"]["prompt_tokens"] == sum(o["usage"]["prompt_tokens"] for o in one)
    assert out["usage"]["completion_tokens"] == 2 * sum(o["usage"]["completion_tokens"] for o in one)

    with post(server, "/v1/completions", {"prompt": prompts[0], "max_tokens": 6, "temperature": 0, "n": 3,
                                          "stream": True}, stream=True) as r:
        events = list(sse_events(r))
    assert events[-1] == "[DONE]" and events.count("[DONE]") == 1
    finished = sorted(c["index"] for e in events[:-1] for c in e["choices"] if c["finish_reason"])
    assert finished == [0, 1, 2]
