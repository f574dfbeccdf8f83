"""JSON bodies are read whatever their Content-Type, as llama-server reads them (issue 17).
`curl -d '{...}'` sends application/x-www-form-urlencoded; httplib used to cap such bodies
at 8 KiB, so a 12 KB prompt sent that way got 413 "Request body too large"."""
from __future__ import annotations

import json

import pytest
import requests

from server_helpers import STORIES, start


@pytest.fixture(scope="module")
def server():
    s = start(STORIES, "-c", "16384")
    yield s
    s.stop()


# About 12 KB of prompt text: well past httplib's 8 KiB form limit.
LONG_PROMPT = "Once upon a time there was a little cat. " * 300


@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded",   # what curl -d sends
    "text/plain",
    None,                                  # no Content-Type header at all
    "application/json",
])
def test_json_body_with_any_content_type(server, content_type):
    body = json.dumps({"prompt": LONG_PROMPT, "n_predict": 4, "temperature": 0}).encode()
    assert len(body) > 12000
    headers = {"Content-Type": content_type} if content_type else {}
    r = requests.post(server.base + "/completion", data=body, headers=headers, timeout=120)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    out = r.json()
    assert out["tokens_predicted"] == 4
    assert out["tokens_evaluated"] > 2000   # the whole prompt arrived


def test_form_typed_chat_request(server):
    body = json.dumps({"messages": [{"role": "user", "content": LONG_PROMPT}], "max_tokens": 3,
                       "temperature": 0})
    r = requests.post(server.base + "/v1/chat/completions", data=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=120)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["usage"]["completion_tokens"] == 3


def test_payload_limit_still_applies(server):
    # The overall body limit (64 MiB) still answers 413 with a JSON error, form-typed or not.
    body = b"{" + b" " * (65 << 20) + b"}"
    r = requests.post(server.base + "/completion", data=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=120)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == 413
