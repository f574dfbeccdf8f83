"""Slots and continuous batching: 8 concurrent streaming clients on -np 8 get exactly the
output each gets alone (temperature 0); a client that disconnects mid-stream frees its
slot within about a second; a request beyond the slot count waits and then completes."""
from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from server_helpers import PROMPTS, STORIES, get, post, sse_events, start

N = 8
CONCURRENT_PROMPTS = [p + suffix for suffix in ("", " He") for p in PROMPTS]


@pytest.fixture(scope="module")
def server():
    s = start(STORIES, "-np", str(N), "-c", str(N * 256), "--slots", "--metrics")
    yield s
    s.stop()


def stream_text(server, prompt: str, n_predict: int) -> tuple[str, list[int], str]:
    body = {"prompt": prompt, "n_predict": n_predict, "temperature": 0, "stream": True, "return_tokens": True,
            "cache_prompt": False}
    with requests.post(server.base + "/completion", json=body, stream=True, timeout=120) as r:
        assert r.status_code == 200
        events = list(sse_events(r))
    final = events[-1]
    assert final["stop"] is True
    return "".join(e["content"] for e in events[:-1]), [t for e in events[:-1] for t in e["tokens"]], \
        final["stop_type"]


def test_concurrent_streams_match_solo(server):
    solo = [stream_text(server, p, 64) for p in CONCURRENT_PROMPTS]
    results: list = [None] * N
    errors: list = []

    def run(i):
        try:
            results[i] = stream_text(server, CONCURRENT_PROMPTS[i], 64)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    for i in range(N):
        assert results[i] == solo[i], i
    # All eight were decoded together at some point.
    metrics = {l.split(" ")[0]: float(l.split(" ")[1]) for l in get(server, "/metrics").text.splitlines()
               if not l.startswith("#")}
    assert metrics["llamacpp:n_busy_slots_per_decode"] > 1.0


def wait_all_idle(server, timeout: float) -> float:
    start_t = time.monotonic()
    while time.monotonic() - start_t < timeout:
        if not any(s["is_processing"] for s in get(server, "/slots").json()):
            return time.monotonic() - start_t
        time.sleep(0.05)
    raise AssertionError(f"slots still busy after {timeout}s: {get(server, '/slots').json()}")


def test_disconnect_frees_slot(server):
    # Raw socket so the close is immediate and under our control.
    body = (b'{"prompt": "Once upon a time", "n_predict": 100000, "stream": true, "ignore_eos": true, '
            b'"temperature": 0}')
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(b"POST /completion HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    received = b""
    while received.count(b"data: ") < 3:
        received += sock.recv(4096)
    assert any(s["is_processing"] for s in get(server, "/slots").json())
    sock.close()
    elapsed = wait_all_idle(server, 3.0)
    assert elapsed < 1.5, elapsed
    metrics = get(server, "/metrics").text
    assert "llamacpp:requests_processing 0" in metrics
    # The server is still healthy and serves new requests.
    assert post(server, "/completion", {"prompt": PROMPTS[0], "n_predict": 4}).status_code == 200


def test_more_requests_than_slots(server):
    results: list = []
    lock = threading.Lock()

    def run(i):
        r = post(server, "/completion", {"prompt": PROMPTS[i % 4], "n_predict": 16, "temperature": 0,
                                         "cache_prompt": False})
        with lock:
            results.append((i, r.status_code, r.json()["content"]))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(N + 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == N + 4 and all(code == 200 for _, code, _ in results)
    by_prompt = {}
    for i, _, text in results:
        by_prompt.setdefault(i % 4, set()).add(text)
    assert all(len(texts) == 1 for texts in by_prompt.values())
