"""The server on the non-llama test architectures (shared/models/gen/arch-*):
- phi3: /v1/chat/completions through the official `openai` client uses the model's own
  tokenizer.chat_template (checked against Jinja2 rendering it) and returns text;
- bert with --embeddings: the `openai` client's embeddings.create and the native
  /embedding return llama-server's reference vectors (cosine > 0.9999 per sentence)."""
from __future__ import annotations

import math

import jinja2
import openai
import pytest
from gguf import GGUFReader

from conftest import MODELS
from server_helpers import post, reference, start

PHI3 = MODELS / "gen" / "arch-phi3-f16.gguf"
BERT = MODELS / "gen" / "arch-bert-f16.gguf"

MESSAGES = [{"role": "user", "content": "Write one short sentence about the sea."}]


def gguf_string(path, key: str) -> str:
    field = GGUFReader(path).fields[key]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def cosine(a, b) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


@pytest.fixture(scope="module")
def phi3_server():
    s = start(PHI3, "-c", "4096", "-np", "1", "-ctk", "f32", "-ctv", "f32", "--alias", "phi3")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def bert_server():
    s = start(BERT, "--embeddings", "-c", "512", "-np", "1", "--alias", "bert")
    yield s
    s.stop()


def test_phi3_chat_uses_its_own_template(phi3_server):
    # Jinja2 (the oracle) renders the file's template as llama.cpp does: BOS text "<s>",
    # generation prompt on.
    template = gguf_string(PHI3, "tokenizer.chat_template")
    assert "<|user|>" in template
    expected = jinja2.Environment().from_string(template).render(
        messages=MESSAGES, bos_token="<s>", eos_token="<|endoftext|>", add_generation_prompt=True)
    assert expected.endswith("<|assistant|>\n")
    applied = post(phi3_server, "/apply-template", {"messages": MESSAGES})
    assert applied.status_code == 200, applied.text
    assert applied.json()["prompt"] == expected


def test_phi3_chat_completion_returns_text(phi3_server):
    client = openai.OpenAI(base_url=phi3_server.base + "/v1", api_key="unused", max_retries=0, timeout=60)
    res = client.chat.completions.create(model="phi3", messages=MESSAGES, max_tokens=12, temperature=0,
                                         extra_body={"cache_prompt": False})
    choice = res.choices[0]
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content.strip()
    assert choice.finish_reason in ("length", "stop")
    assert res.usage.completion_tokens >= 1
    # The prompt the server evaluated is the template's: the same greedy text comes from
    # /completion on the Jinja2-rendered prompt (special tokens parsed, as chat does). The
    # chat route does not add a second BOS to a template that starts with one, so the
    # rendered "<s>" is left to /completion's own BOS.
    rendered = post(phi3_server, "/apply-template", {"messages": MESSAGES}).json()["prompt"]
    assert rendered.startswith("<s>")
    tokens = post(phi3_server, "/tokenize", {"content": rendered[len("<s>"):], "add_special": True,
                                             "parse_special": True}).json()["tokens"]
    assert res.usage.prompt_tokens == len(tokens)
    native = post(phi3_server, "/completion", {"prompt": rendered[len("<s>"):], "n_predict": 12,
                                               "temperature": 0, "cache_prompt": False})
    assert native.status_code == 200, native.text
    assert native.json()["content"] == choice.message.content


def test_bert_openai_embeddings_match_reference(bert_server):
    ref = reference("arch-bert-f16.embeddings.json")
    sentences = ref["sentences"]
    client = openai.OpenAI(base_url=bert_server.base + "/v1", api_key="unused", max_retries=0, timeout=60)
    res = client.embeddings.create(model="bert", input=[s["text"] for s in sentences])
    assert len(res.data) == len(sentences)
    assert res.usage.prompt_tokens == ref["usage"]["prompt_tokens"]
    for item, sentence in zip(sorted(res.data, key=lambda d: d.index), sentences):
        got = item.embedding
        assert len(got) == ref["n_embd"]
        assert cosine(got, sentence["embedding"]) > 0.9999, sentence["text"]
        assert max(abs(a - b) for a, b in zip(got, sentence["embedding"])) < 1e-3
        assert abs(math.sqrt(sum(x * x for x in got)) - 1.0) < 1e-4


def test_bert_native_embedding_matches_reference(bert_server):
    sentence = reference("arch-bert-f16.embeddings.json")["sentences"][1]
    res = post(bert_server, "/embedding", {"content": sentence["text"]})
    assert res.status_code == 200, res.text
    body = res.json()
    item = body[0] if isinstance(body, list) else body
    vector = item["embedding"]
    if vector and isinstance(vector[0], list):   # llama-server nests the pooled vector
        vector = vector[0]
    assert cosine(vector, sentence["embedding"]) > 0.9999
