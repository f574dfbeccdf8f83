"""The official `openai` Python client, unchanged, against the server: models, chat
(non-streaming and streaming, usage, logprobs), legacy completions and embeddings."""
from __future__ import annotations

import math

import openai
import pytest
import requests

from server_helpers import PROMPTS, STORIES, assert_api_error, post, reference, start


@pytest.fixture(scope="module")
def server():
    s = start(STORIES, "-np", "2", "-ctk", "f32", "-ctv", "f32", "--alias", "stories")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def embed_server():
    # --embeddings: the context returns hidden states, only the embedding endpoints work.
    s = start(STORIES, "-np", "2", "--embeddings", "--alias", "stories")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def embed_client(embed_server):
    return openai.OpenAI(base_url=embed_server.base + "/v1", api_key="unused", max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base + "/v1", api_key="unused", max_retries=0, timeout=60)


MESSAGES = [{"role": "system", "content": "You tell stories."}, {"role": "user", "content": "Once upon a time"}]


def test_models(client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["stories"]


def test_chat_matches_completion_of_rendered_template(server, client):
    res = client.chat.completions.create(model="stories", messages=MESSAGES, max_tokens=24, temperature=0)
    assert res.object == "chat.completion"
    choice = res.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "length"
    assert res.usage.completion_tokens == 24
    # The same prompt rendered by /apply-template and completed natively gives the same text.
    prompt = post(server, "/apply-template", {"messages": MESSAGES}).json()["prompt"]
    native = post(server, "/completion", {"prompt": prompt, "n_predict": 24, "temperature": 0}).json()
    assert choice.message.content == native["content"]
    assert res.usage.prompt_tokens == native["tokens_evaluated"]


def test_chat_stream(client):
    full = client.chat.completions.create(model="stories", messages=MESSAGES, max_tokens=30, temperature=0)
    stream = client.chat.completions.create(model="stories", messages=MESSAGES, max_tokens=30, temperature=0,
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == full.choices[0].message.content
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0].choices[0].finish_reason == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 30
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1


def test_chat_stop_and_seed(client):
    full = client.chat.completions.create(model="stories", messages=MESSAGES, max_tokens=30, temperature=0)
    text = full.choices[0].message.content
    word = text.split()[3]
    stopped = client.chat.completions.create(model="stories", messages=MESSAGES, max_tokens=30, temperature=0,
                                             stop=[word])
    assert stopped.choices[0].message.content == text[: text.index(word)]
    assert stopped.choices[0].finish_reason == "stop"
    a = client.chat.completions.create(model="stories", messages=MESSAGES, max_tokens=20, temperature=1.0, seed=7)
    b = client.chat.completions.create(model="stories", messages=MESSAGES, max_tokens=20, temperature=1.0, seed=7)
    assert a.choices[0].message.content == b.choices[0].message.content


def test_chat_logprobs(client):
    res = client.chat.completions.create(model="stories", messages=MESSAGES, max_tokens=5, temperature=0,
                                         logprobs=True, top_logprobs=3)
    content = res.choices[0].logprobs.content
    assert len(content) == 5
    for item in content:
        assert len(item.top_logprobs) == 3
        assert item.logprob == pytest.approx(item.top_logprobs[0].logprob)
        assert item.top_logprobs[0].logprob >= item.top_logprobs[1].logprob >= item.top_logprobs[2].logprob
        assert sum(math.exp(t.logprob) for t in item.top_logprobs) <= 1.0 + 1e-5


def test_completions_greedy_reference(client):
    greedy = reference("stories260K.greedy.json")["prompts"]
    for ref in greedy[:2]:
        res = client.completions.create(model="stories", prompt=ref["text"], max_tokens=48, temperature=0)
        assert res.object == "text_completion"
        assert res.choices[0].text.encode() == bytes.fromhex(ref["bytes_hex"])
        assert res.choices[0].finish_reason == "length"
        assert res.usage.prompt_tokens == len(ref["prompt_tokens"]) and res.usage.completion_tokens == 48


def test_completions_stream_and_logprobs(client):
    ref = reference("stories260K.greedy.json")["prompts"][2]
    chunks = list(client.completions.create(model="stories", prompt=ref["text"], max_tokens=48, temperature=0,
                                            stream=True))
    assert "".join(c.choices[0].text for c in chunks).encode() == bytes.fromhex(ref["bytes_hex"])
    assert chunks[-1].choices[0].finish_reason == "length"
    res = client.completions.create(model="stories", prompt=ref["text"], max_tokens=4, temperature=0, logprobs=2)
    lp = res.choices[0].logprobs
    assert len(lp.tokens) == 4 and len(lp.token_logprobs) == 4 and len(lp.top_logprobs) == 4
    assert "".join(lp.tokens) == res.choices[0].text


def test_embeddings(embed_server, embed_client):
    client = embed_client
    n_embd = requests.get(embed_server.base + "/v1/models", timeout=10).json()["data"][0]["meta"]["n_embd"]
    res = client.embeddings.create(model="stories", input=[PROMPTS[0], PROMPTS[1]])
    assert len(res.data) == 2 and [d.index for d in res.data] == [0, 1]
    assert all(len(d.embedding) == n_embd for d in res.data)
    for d in res.data:
        norm = math.sqrt(sum(v * v for v in d.embedding))
        assert norm == pytest.approx(1.0, abs=1e-4)
    assert res.data[0].embedding != res.data[1].embedding
    again = client.embeddings.create(model="stories", input=PROMPTS[0])
    assert again.data[0].embedding == pytest.approx(res.data[0].embedding, abs=1e-6)
    assert res.usage.prompt_tokens > 0
    # base64 is the client's default wire format when numpy is present; ask for it explicitly.
    b64 = client.embeddings.create(model="stories", input=PROMPTS[0], encoding_format="base64")
    import base64
    import struct
    raw = b64.data[0].embedding
    if isinstance(raw, str):
        data = base64.b64decode(raw)
        values = struct.unpack(f"<{len(data) // 4}f", data)
    else:
        values = raw
    assert list(values) == pytest.approx(res.data[0].embedding, abs=1e-6)


def test_native_embedding(embed_server, embed_client):
    native = post(embed_server, "/embedding", {"content": PROMPTS[0]}).json()
    assert native[0]["index"] == 0 and len(native[0]["embedding"]) == 1
    oai = embed_client.embeddings.create(model="stories", input=PROMPTS[0]).data[0].embedding
    assert native[0]["embedding"][0] == pytest.approx(oai, abs=1e-6)
    # Without normalization the same direction comes back with its own length.
    raw = post(embed_server, "/embedding", {"content": PROMPTS[0], "embd_normalize": -1}).json()[0]["embedding"][0]
    norm = math.sqrt(sum(v * v for v in raw))
    assert [v / norm for v in raw] == pytest.approx(oai, abs=1e-5)


def test_generation_disabled_in_embeddings_mode(embed_server, embed_client):
    for path, body in (("/completion", {"prompt": "x"}), ("/v1/completions", {"prompt": "x"}),
                       ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}]})):
        assert_api_error(post(embed_server, path, body), 501, "not_supported_error")
    with pytest.raises(openai.APIStatusError) as e:
        embed_client.chat.completions.create(model="stories", messages=MESSAGES, max_tokens=2)
    assert e.value.status_code == 501


def test_errors_surface_as_openai_exceptions(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="stories", messages=[], max_tokens=5)
    assert e.value.status_code == 400
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model="stories", prompt="x", max_tokens=5, temperature="hot")  # type: ignore
