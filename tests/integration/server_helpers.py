"""Helpers for the server suites: start the real binary on a model from ../shared, read
SSE streams, load reference files."""
from __future__ import annotations

import json
from pathlib import Path

import requests

from conftest import MODELS, REFERENCE, ServerProcess

STORIES = MODELS / "stories260K.gguf"
Q4_0 = MODELS / "gen" / "test-q4_0.gguf"

PROMPTS = [
    "Once upon a time, there was a little girl named Lily.",
    "The cat sat on the mat and",
    "One day, Tom went to the park with his mom.",
    "At 3:45 pm, Sam counted 12 apples, 7 pears (and 1 lemon)!",
]


def start(model: Path = STORIES, *args: str, **kw) -> ServerProcess:
    return ServerProcess(["-m", str(model), *args], **kw)


def reference(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text())


def sse_events(response: requests.Response):
    """Yields each `data:` payload of an SSE response: a dict, or the string "[DONE]"."""
    for line in response.iter_lines(decode_unicode=False):
        if not line:
            continue
        assert line.startswith(b"data: "), line
        payload = line[len(b"data: "):]
        if payload == b"[DONE]":
            yield "[DONE]"
        else:
            yield json.loads(payload)


def post(server: ServerProcess, path: str, body, **kw) -> requests.Response:
    return requests.post(server.base + path, json=body, timeout=kw.pop("timeout", 60), **kw)


def get(server: ServerProcess, path: str, **kw) -> requests.Response:
    return requests.get(server.base + path, timeout=kw.pop("timeout", 30), **kw)


def assert_api_error(response: requests.Response, status: int, type_: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["code"] == status
    assert isinstance(err["message"], str) and err["message"]
    if type_ is not None:
        assert err["type"] == type_, err
    return err
