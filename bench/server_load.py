#!/usr/bin/env python3
"""Server throughput: requests/s and generated tokens/s with N concurrent clients.

    .venv/bin/python bench/server_load.py -m MODEL [-m MODEL2] [--clients 1,4] [--seconds 20]

Starts build/release/mmojo-server (or --server PATH) on a free port with -np equal to the
largest client count, then for each client count runs that many threads, each sending
POST /completion requests back to back for --seconds (prompt "Once upon a time",
n_predict --tokens, temperature 0, ignore_eos so every request generates the same number
of tokens). Prints one row per (model, clients): completed requests, requests/s and
generated tokens/s (from each response's "tokens_predicted"). Run nothing else meanwhile.
"""
import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}")
        try:
            if requests.get(base + "/health", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    sys.exit("server did not become ready")


def run_clients(base: str, clients: int, seconds: float, tokens: int) -> tuple[int, int, float]:
    body = {"prompt": "Once upon a time", "n_predict": tokens, "temperature": 0,
            "ignore_eos": True, "cache_prompt": False}
    done = [0] * clients
    generated = [0] * clients
    stop_at = time.monotonic() + seconds

    def client(i: int) -> None:
        with requests.Session() as session:
            while time.monotonic() < stop_at:
                r = session.post(base + "/completion", json=body, timeout=120)
                r.raise_for_status()
                done[i] += 1
                generated[i] += r.json()["tokens_predicted"]

    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done), sum(generated), time.monotonic() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-m", "--model", action="append", required=True)
    ap.add_argument("--clients", default="1,4")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--server", default=str(ROOT / "build" / "release" / "mmojo-server"))
    ap.add_argument("--threads", type=int, default=0, help="-t for the server (0: its default)")
    args = ap.parse_args()
    counts = [int(c) for c in args.clients.split(",")]

    print(f"| model | clients | requests | req/s | tok/s |")
    print(f"|---|---|---|---|---|")
    for model in args.model:
        port = free_port()
        cmd = [args.server, "-m", model, "--port", str(port), "-np", str(max(counts)), "--no-webui"]
        if args.threads > 0:
            cmd += ["-t", str(args.threads)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, proc)
            run_clients(base, 1, 2.0, args.tokens)   # warm-up
            for n in counts:
                requests_done, tokens, elapsed = run_clients(base, n, args.seconds, args.tokens)
                print(f"| {os.path.basename(model)} | {n} | {requests_done} | "
                      f"{requests_done / elapsed:.2f} | {tokens / elapsed:.0f} |", flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
