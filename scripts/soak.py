#!/usr/bin/env python3
"""Soak test of the HTTP server (not part of CI; issue 19). Starts build/<dir>/mmojo-server
on a small model and runs, for --seconds (default 600):

  * --clients (default 64) streaming clients, each in a loop: a /completion or
    /v1/chat/completions request with stream=true and a random n_predict; about one in five
    hangs up in the middle of the stream (a random disconnect);
  * one more client mixing in malformed requests: bad JSON, 60,000-level nesting, wrong
    field types, impossible Content-Length, garbage bytes, a request head that stalls, a
    body shorter than announced, an oversized body.

Every well-formed request must stream to its end ([DONE] or the final stop event) unless its
client hung up on purpose; every malformed one must get a 4xx or a closed connection, never
a 5xx. The server must stay up. Resident memory (VmRSS) is sampled every --sample seconds.

Prints one line per sample (time, RSS, requests so far, errors so far) and a summary:
errors by kind, requests by outcome, and the largest RSS of the first minute after warm-up
(--warmup, default 60 s) against the largest of the last minute. Exit status 1 when there was any error or the RSS after
warm-up grew by more than 10 %.

    nice -n 19 .venv/bin/python scripts/soak.py --seconds 600
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ["Once upon a time", "The little dog", "One day, Lily went to the park", "Tom had a red ball"]


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.examples: dict[str, str] = {}

    def ok(self, kind: str) -> None:
        with self.lock:
            self.outcomes[kind] += 1

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            self.examples.setdefault(kind, detail[:300])

    def n_requests(self) -> int:
        with self.lock:
            return sum(self.outcomes.values()) + sum(self.errors.values())

    def n_errors(self) -> int:
        with self.lock:
            return sum(self.errors.values())


def streaming_client(base: str, stop: threading.Event, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    session = requests.Session()
    while not stop.is_set():
        chat = rng.random() < 0.5
        n_predict = rng.randint(8, 96)
        hang_up_after = rng.randint(1, 6) if rng.random() < 0.2 else None
        if chat:
            url = base + "/v1/chat/completions"
            body = {"messages": [{"role": "user", "content": rng.choice(PROMPTS)}], "max_tokens": n_predict,
                    "stream": True, "temperature": 0.8, "seed": rng.randint(0, 1 << 30)}
        else:
            url = base + "/completion"
            body = {"prompt": rng.choice(PROMPTS), "n_predict": n_predict, "stream": True,
                    "temperature": 0.8, "seed": rng.randint(0, 1 << 30)}
        try:
            # Long read timeout: with 64 clients on a few slots a request may wait minutes.
            with session.post(url, json=body, stream=True, timeout=(10, 600)) as r:
                if r.status_code != 200:
                    tally.error(f"http {r.status_code} on a valid request", r.text)
                    continue
                events, finished = 0, False
                for line in r.iter_lines():
                    if not line:
                        continue
                    if not line.startswith(b"data: "):
                        tally.error("not an SSE line", repr(line))
                        break
                    payload = line[6:]
                    events += 1
                    if payload == b"[DONE]":
                        finished = True
                        break
                    event = json.loads(payload)
                    if "error" in event:
                        tally.error("error event", payload.decode(errors="replace"))
                        break
                    if not chat and event.get("stop"):
                        finished = True
                        break
                    if hang_up_after is not None and events >= hang_up_after:
                        break
                    if stop.is_set():   # the run is over: leave like a disconnect
                        hang_up_after = events
                        break
                if hang_up_after is not None and not finished:
                    tally.ok("hung up mid-stream")
                    session.close()
                    session = requests.Session()
                elif finished:
                    tally.ok("streamed to the end")
                else:
                    tally.error("stream ended early", f"{events} events")
        except requests.RequestException as e:
            if not stop.is_set():
                tally.error("connection error on a valid request", repr(e))
            session = requests.Session()


def raw(port: int, data: bytes, half_close: bool = False, wait: float = 30.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as c:
        c.sendall(data)
        if half_close:
            c.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and b"Connection: close" not in out:
                    break   # a keep-alive answer: the status line is all we need
        except (ConnectionResetError, socket.timeout):
            pass
    return out


def malformed_client(base: str, port: int, stop: threading.Event, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    deep = "[" * 60000 + "]" * 60000
    cases = [
        ("bad json", lambda: requests.post(base + "/completion", data=b"{not json", timeout=30)),
        ("deep nesting", lambda: requests.post(base + "/v1/chat/completions", timeout=30,
                                               data=('{"messages": [{"role": "user", "content": %s}]}' % deep).encode())),
        ("wrong types", lambda: requests.post(base + "/completion", json={"prompt": {"a": 1}, "n_predict": "x"},
                                              timeout=30)),
        ("kwargs messages", lambda: requests.post(base + "/v1/chat/completions", timeout=30, json={
            "messages": [{"role": "user", "content": "hi"}], "chat_template_kwargs": {"messages": 5}})),
        ("huge prompt", lambda: requests.post(base + "/completion", json={"prompt": "word " * 2_000_000},
                                              timeout=60)),
        ("unknown path", lambda: requests.get(base + "/nope", timeout=30)),
    ]
    raw_cases = [
        ("negative length", b"POST /completion HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", False),
        ("overflowing length", b"POST /completion HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", False),
        ("garbage bytes", bytes(rng.randrange(256) for _ in range(300)) + b"\r\n\r\n", False),
        ("short body", b"POST /completion HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}", True),
    ]
    while not stop.is_set():
        pick = rng.random()
        try:
            if pick < 0.5:
                name, call = rng.choice(cases)
                r = call()
                if r.status_code >= 500:
                    tally.error(f"5xx on malformed ({name})", r.text)
                elif 400 <= r.status_code < 500:
                    tally.ok(f"4xx for {name}")
                else:
                    tally.error(f"{r.status_code} on malformed ({name})", r.text)
            elif pick < 0.9:
                name, data, half = rng.choice(raw_cases)
                out = raw(port, data, half_close=half)
                if out.startswith(b"HTTP/1.1 5"):
                    tally.error(f"5xx on malformed ({name})", out.decode(errors="replace"))
                else:
                    tally.ok(f"refused {name}")
            else:
                # A head that stalls: the server must cut it off (408) within seconds.
                t0 = time.monotonic()
                out = raw(port, b"POST /completion HTTP/1.1\r\nHost: x\r\n", wait=60)
                took = time.monotonic() - t0
                if took > 20:
                    tally.error("stalled head held > 20 s", f"{took:.1f} s")
                else:
                    tally.ok("stalled head cut off")
        except (requests.RequestException, OSError) as e:
            tally.error("connection error on a malformed request", repr(e))
        time.sleep(rng.random() * 0.2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "build" / "release"))
    ap.add_argument("--model", default=str(ROOT.parent / "shared" / "models" / "stories260K.gguf"))
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--slots", type=int, default=8)
    ap.add_argument("--warmup", type=float, default=60)
    ap.add_argument("--sample", type=float, default=10)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()

    port = args.port
    if port == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    log = open(ROOT / "test-output" / "soak-server.log", "wb") if (ROOT / "test-output").is_dir() else subprocess.DEVNULL
    server = subprocess.Popen([str(Path(args.build) / "mmojo-server"), "-m", args.model, "--port", str(port),
                               "-np", str(args.slots), "-c", str(512 * args.slots)],
                              stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            print("soak: the server did not start", file=sys.stderr)
            return 1
        time.sleep(0.1)

    tally = Tally()
    stop = threading.Event()
    threads = [threading.Thread(target=streaming_client, args=(base, stop, tally, i), daemon=True)
               for i in range(args.clients)]
    threads.append(threading.Thread(target=malformed_client, args=(base, port, stop, tally, 12345), daemon=True))
    t0 = time.monotonic()
    for t in threads:
        t.start()
    samples: list[tuple[float, int]] = []
    print(f"soak: {args.clients} streaming clients + 1 malformed-request client, {args.seconds:.0f} s, "
          f"server pid {server.pid}, {args.slots} slots")
    print(f"{'time s':>7} {'RSS MB':>8} {'requests':>9} {'errors':>7}")
    crashed = False
    while time.monotonic() - t0 < args.seconds:
        time.sleep(min(args.sample, max(0.0, args.seconds - (time.monotonic() - t0))))
        if server.poll() is not None:
            crashed = True
            print(f"soak: the server exited with {server.returncode}")
            break
        now = time.monotonic() - t0
        rss = rss_kb(server.pid)
        samples.append((now, rss))
        print(f"{now:7.0f} {rss / 1024:8.1f} {tally.n_requests():9d} {tally.n_errors():7d}", flush=True)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    if server.poll() is None:
        server.terminate()
        server.wait(timeout=30)

    print("\noutcomes:")
    for kind, n in sorted(tally.outcomes.items()):
        print(f"  {n:7d}  {kind}")
    print("errors:" + (" none" if not tally.errors else ""))
    for kind, n in sorted(tally.errors.items()):
        print(f"  {n:7d}  {kind}   e.g. {tally.examples[kind]}")
    # Flat memory: the largest RSS of the first minute after warm-up against the largest of
    # the last minute (maxima, because a 10 MB malformed body in flight is a transient).
    after = [(t, rss) for t, rss in samples if t >= args.warmup]
    growth = 0.0
    if after:
        first = max(rss for t, rss in after if t <= after[0][0] + 60)
        last = max(rss for t, rss in after if t >= after[-1][0] - 60)
        growth = (last - first) / first
        print(f"RSS after warm-up ({args.warmup:.0f} s): max of its first minute {first / 1024:.1f} MB, "
              f"max of the last minute {last / 1024:.1f} MB, overall max {max(r for _, r in after) / 1024:.1f} MB, "
              f"growth {100 * growth:.1f} %")
    ok = not crashed and tally.n_errors() == 0 and growth <= 0.10
    print("soak: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
