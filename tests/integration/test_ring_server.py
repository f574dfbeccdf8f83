"""Prompt caching and parallel slots when sliding-window layers keep only their window.

The server runs the gemma3 test model (window 16 in 5 of 6 blocks) with -ub 8, so each
sliding layer keeps a ring of 24 cells per slot. A follow-up turn that extends the cached
text (prompt and reply) reuses all of it (cache_n) and gives the text of an uncached run;
a prompt that needs the cache rewound to a position whose window the ring has overwritten
(before a reply of more than 8 tokens, or to an early parting point) starts the slot again
(cache_n 0) and still gives the uncached text; two slots generating at once each give
their uncached text."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import MODELS
from server_helpers import post, start

GEMMA3 = MODELS / "gen" / "arch-gemma3-f16.gguf"

LONG = ("Once upon a time, there was a little girl named Lily. She liked to play in the park "
        "with her big red ball and her small brown dog.")
PARTING = "Once upon a time, a cat sat on the mat and looked at the sky for a long time."
OTHER = "One day, Tom went to the park with his mom. They saw a big tree and"


@pytest.fixture(scope="module")
def server():
    s = start(GEMMA3, "-c", "1024", "-np", "2", "-ub", "8", "-ctk", "f32", "-ctv", "f32")
    yield s
    s.stop()


def complete(server, prompt, slot: int, cache: bool) -> dict:
    body = {"prompt": prompt, "n_predict": 12, "temperature": 0, "id_slot": slot, "cache_prompt": cache,
            "return_tokens": True}
    r = post(server, "/completion", body)
    assert r.status_code == 200, r.text
    return r.json()


def tokenize(server, text: str) -> list[int]:
    r = post(server, "/tokenize", {"content": text, "add_special": True})
    assert r.status_code == 200, r.text
    return r.json()["tokens"]


def test_ring_cache_reuse_and_restart(server):
    first = complete(server, LONG, 0, True)
    assert first["tokens_evaluated"] > 30   # longer than the window, so the rings wrap
    assert first["content"] == complete(server, LONG, 1, False)["content"]

    # The next chat turn: the cached prompt, the reply, more text. Everything cached is
    # kept (nothing is rewound) and only the new tokens are evaluated.
    turn = tokenize(server, LONG) + first["tokens"] + tokenize(server, " The dog ran")[1:]
    second = complete(server, turn, 0, True)
    assert second["timings"]["cache_n"] == first["tokens_evaluated"] + len(first["tokens"]) - 1
    assert second["content"] == complete(server, turn, 1, False)["content"]

    # The same prompt again would rewind to before the reply, but the reply has moved the
    # rings past the window that position needs: the slot starts again.
    again = complete(server, LONG, 0, True)
    assert again["timings"]["cache_n"] == 0
    assert again["content"] == first["content"]
    # Right after it, with no reply to step over (n_predict 1 leaves the rings at the
    # prompt's end), the same prompt is reused.
    one = {"prompt": LONG, "n_predict": 1, "temperature": 0, "id_slot": 0, "cache_prompt": True}
    post(server, "/completion", one)
    reused = post(server, "/completion", one).json()
    assert reused["timings"]["cache_n"] == reused["tokens_evaluated"] - 1

    # Shares only its first few tokens with the cached text: the window before them is gone.
    parting = complete(server, PARTING, 0, True)
    assert parting["timings"]["cache_n"] == 0
    assert parting["content"] == complete(server, PARTING, 1, False)["content"]


def test_two_slots_at_once(server):
    alone = {p: complete(server, p, 0, False)["content"] for p in (LONG, OTHER)}
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(complete, server, LONG, 0, True)
        b = pool.submit(complete, server, OTHER, 1, True)
        assert a.result()["content"] == alone[LONG]
        assert b.result()["content"] == alone[OTHER]
