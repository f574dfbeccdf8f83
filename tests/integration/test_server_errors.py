"""Robustness and security: malformed requests get the right 4xx OpenAI-style error and
the server stays up; --api-key; CORS; body size limit; static UI serving and path
traversal; the loading state (/health 503 with progress, loading page); clean exit on
SIGTERM."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

from conftest import ServerProcess
from server_helpers import PROMPTS, STORIES, assert_api_error, get, post, start


@pytest.fixture(scope="module")
def server():
    s = start(STORIES, "-np", "2", "-c", "512")
    yield s
    s.stop()


BAD_POSTS = [
    # (path, raw body or json, status, type)
    ("/completion", b"{not json", 400, "invalid_request_error"),
    ("/completion", b"", 400, "invalid_request_error"),
    ("/completion", b"[1, 2, 3]", 400, "invalid_request_error"),
    ("/completion", b'"just a string"', 400, "invalid_request_error"),
    ("/completion", {}, 400, "invalid_request_error"),
    ("/completion", {"prompt": 42}, 400, "invalid_request_error"),
    ("/completion", {"prompt": {"a": 1}}, 400, "invalid_request_error"),
    ("/completion", {"prompt": [1, {"x": 2}]}, 400, "invalid_request_error"),
    ("/completion", {"prompt": [999999]}, 400, "invalid_request_error"),
    ("/completion", {"prompt": [-1]}, 400, "invalid_request_error"),
    ("/completion", {"prompt": []}, 400, "invalid_request_error"),
    ("/completion", {"prompt": "x", "n_predict": "ten"}, 400, "invalid_request_error"),
    ("/completion", {"prompt": "x", "n_predict": 1.5}, 400, "invalid_request_error"),
    ("/completion", {"prompt": "x", "temperature": "hot"}, 400, "invalid_request_error"),
    ("/completion", {"prompt": "x", "top_p": 3}, 400, "invalid_request_error"),
    ("/completion", {"prompt": "x", "top_k": [1]}, 400, "invalid_request_error"),
    ("/completion", {"prompt": "x", "stop": 3}, 400, "invalid_request_error"),
    ("/completion", {"prompt": "x", "stop": [None]}, 400, "invalid_request_error"),
    ("/completion", {"prompt": "x", "stream": "yes"}, 400, "invalid_request_error"),
    ("/completion", {"prompt": "x", "n_probs": -3}, 400, "invalid_request_error"),
    ("/completion", {"prompt": "x", "seed": "abc"}, 400, "invalid_request_error"),
    ("/completion", {"prompt": "x", "n_predict": 2 ** 40}, 400, "invalid_request_error"),
    ("/completion", {"prompt": "word " * 600}, 400, "exceed_context_size_error"),
    ("/v1/completions", {"prompt": "x", "max_tokens": "many"}, 400, "invalid_request_error"),
    ("/v1/completions", {"prompt": "x", "n": 0}, 400, "invalid_request_error"),
    ("/v1/completions", {"prompt": "x", "n": 129}, 400, "invalid_request_error"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "n": "two"}, 400,
     "invalid_request_error"),
    ("/v1/completions", {"prompt": "x", "logprobs": "yes"}, 400, "invalid_request_error"),
    ("/v1/chat/completions", {}, 400, "invalid_request_error"),
    ("/v1/chat/completions", {"messages": "hi"}, 400, "invalid_request_error"),
    ("/v1/chat/completions", {"messages": []}, 400, "invalid_request_error"),
    ("/v1/chat/completions", {"messages": [1, 2]}, 400, "invalid_request_error"),
    ("/v1/chat/completions", {"messages": [{"content": "no role"}]}, 400, "invalid_request_error"),
    ("/v1/chat/completions", {"messages": [{"role": "user"}]}, 400, "invalid_request_error"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": 5}]}, 400, "invalid_request_error"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, 400,
     "invalid_request_error"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "stream_options": 3}, 400,
     "invalid_request_error"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "top_logprobs": 500,
                              "logprobs": True}, 400, "invalid_request_error"),
    ("/tokenize", {}, 400, "invalid_request_error"),
    ("/tokenize", {"content": ["a"]}, 400, "invalid_request_error"),
    ("/tokenize", {"content": "a", "with_pieces": "yes"}, 400, "invalid_request_error"),
    ("/detokenize", {"tokens": "abc"}, 400, "invalid_request_error"),
    ("/detokenize", {"tokens": [1, 100000]}, 400, "invalid_request_error"),
    ("/apply-template", {"messages": None}, 400, "invalid_request_error"),
    ("/v1/embeddings", {"input": "x"}, 501, "not_supported_error"),
    ("/embedding", {"content": "x"}, 501, "not_supported_error"),
    ("/no/such/endpoint", {}, 404, "not_found_error"),
]


@pytest.mark.parametrize("path,body,status,type_", BAD_POSTS)
def test_malformed_requests(server, path, body, status, type_):
    if isinstance(body, bytes):
        r = requests.post(server.base + path, data=body, headers={"Content-Type": "application/json"}, timeout=30)
    else:
        r = post(server, path, body)
    assert_api_error(r, status, type_)
    assert get(server, "/health").json() == {"status": "ok"}


def test_wrong_methods_and_disabled_endpoints(server):
    assert_api_error(requests.get(server.base + "/completion", timeout=10), 405)
    assert_api_error(requests.delete(server.base + "/health", timeout=10), 405)
    assert_api_error(requests.put(server.base + "/v1/chat/completions", timeout=10), 405)
    assert_api_error(get(server, "/metrics"), 501, "not_supported_error")  # no --metrics
    assert_api_error(requests.get(server.base + "/v1/nothing", timeout=10), 404, "not_found_error")


def test_garbage_on_the_socket_keeps_server_up(server):
    for payload in (b"\x00\x01\x02garbage\r\n\r\n", b"GET\r\n\r\n", b"POST /completion HTTP/1.1\r\n" * 3):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            try:
                sock.recv(4096)
            except OSError:
                pass
    assert get(server, "/health").status_code == 200


def test_body_too_large(server):
    # The limit is 64 MiB; a body just over it is refused with a JSON 413.
    big = b'{"prompt": "' + b"a" * ((64 << 20) + 16) + b'"}'
    r = requests.post(server.base + "/completion", data=big, headers={"Content-Type": "application/json"},
                      timeout=60)
    assert_api_error(r, 413, "invalid_request_error")
    assert get(server, "/health").status_code == 200


def test_cors(server):
    r = requests.options(server.base + "/v1/chat/completions", timeout=10, headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "authorization" in r.headers["Access-Control-Allow-Headers"]
    r = post(server, "/tokenize", {"content": "hi"}, headers={"Origin": "http://a.test"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://a.test"
    assert get(server, "/health").headers["Access-Control-Allow-Origin"] == "*"


def test_api_key():
    with start(STORIES, "--api-key", "sekrit", "--metrics", "--slots") as s:
        assert get(s, "/health").status_code == 200
        for method, path, body in (("GET", "/props", None), ("GET", "/v1/models", None), ("GET", "/slots", None),
                                   ("GET", "/metrics", None), ("POST", "/completion", {"prompt": "x"}),
                                   ("POST", "/v1/chat/completions", {"messages": []}),
                                   ("POST", "/tokenize", {"content": "x"})):
            r = requests.request(method, s.base + path, json=body, timeout=10)
            assert_api_error(r, 401, "authentication_error")
            r = requests.request(method, s.base + path, json=body, timeout=10,
                                 headers={"Authorization": "Bearer wrong"})
            assert_api_error(r, 401, "authentication_error")
        ok = post(s, "/completion", {"prompt": PROMPTS[0], "n_predict": 2},
                  headers={"Authorization": "Bearer sekrit"})
        assert ok.status_code == 200
        import openai
        client = openai.OpenAI(base_url=s.base + "/v1", api_key="sekrit", max_retries=0)
        assert client.models.list().data
        bad = openai.OpenAI(base_url=s.base + "/v1", api_key="nope", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()


def test_static_files_and_traversal(tmp_path):
    ui = tmp_path / "ui"
    (ui / "js").mkdir(parents=True)
    (ui / "index.html").write_text("<h1>hello ui</h1>")
    (ui / "js" / "app.js").write_text("console.log(1)")
    (ui / "style.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("do not serve")
    with start(STORIES, "--path", str(ui), "--api-key", "k") as s:
        r = get(s, "/")
        assert r.status_code == 200 and r.text == "<h1>hello ui</h1>"
        assert r.headers["Content-Type"].startswith("text/html")
        assert get(s, "/js/app.js").headers["Content-Type"].startswith("text/javascript")
        assert get(s, "/style.css").headers["Content-Type"].startswith("text/css")
        assert_api_error(get(s, "/missing.html"), 404, "not_found_error")
        for evil in ("/../secret.txt", "/%2e%2e/secret.txt", "/js/..%2f..%2fsecret.txt", "/%252e%252e/secret.txt",
                     "/..%5csecret.txt", "//" + str(tmp_path / "secret.txt"), "/js/../../secret.txt"):
            with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
                sock.sendall(f"GET {evil} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            assert b"do not serve" not in data, evil
            assert data.startswith(b"HTTP/1.1 404") or data.startswith(b"HTTP/1.1 400"), (evil, data[:80])
    with start(STORIES, "--path", str(ui), "--no-webui") as s:
        assert_api_error(get(s, "/"), 404)
        assert_api_error(get(s, "/index.html"), 404)


def test_loading_state_and_clean_exit(tmp_path):
    # A FIFO as the model file keeps the loader blocked in open(): the server must already
    # listen, report 503 with progress, and serve the loading page.
    fifo = tmp_path / "model.gguf"
    os.mkfifo(fifo)
    s = ServerProcess(["-m", str(fifo)], wait_ready=False)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                r = get(s, "/health", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        err = assert_api_error(r, 503, "unavailable_error")
        assert err["message"] == "Loading model" and 0.0 <= err["progress"] <= 1.0
        assert_api_error(post(s, "/completion", {"prompt": "x"}), 503, "unavailable_error")
        assert_api_error(get(s, "/v1/models"), 503, "unavailable_error")
        page = get(s, "/")
        assert page.status_code == 503 and "text/html" in page.headers["Content-Type"]
        assert "health" in page.text
        # Unblock the loader with bytes that are not a GGUF file: the server exits with 1.
        fd = os.open(fifo, os.O_WRONLY)
        try:
            os.write(fd, b"not a gguf file at all")
        except BrokenPipeError:
            pass  # the loader may already have given up on the empty file
        os.close(fd)
        assert s.proc.wait(timeout=20) == 1
        assert "error" in s.log()
    finally:
        s.stop()


def test_sigterm_exits_cleanly():
    s = start(STORIES, "-np", "2")
    # A streaming request in flight does not block shutdown.
    body = {"prompt": "Once", "n_predict": 100000, "stream": True, "ignore_eos": True}
    t = threading.Thread(target=lambda: requests.post(s.base + "/completion", json=body, timeout=30).content)
    t.start()
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(timeout=10) == 0
    t.join(timeout=10)
    s.stop()
    s2 = start(STORIES)
    s2.proc.send_signal(signal.SIGINT)
    assert s2.proc.wait(timeout=10) == 0
    s2.stop()
