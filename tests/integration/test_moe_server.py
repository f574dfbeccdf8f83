"""The server on a mixture-of-experts model: the gpt-oss test model made by
scripts/make_moe_test_model.py, served with gpt-oss's own chat template
(../shared/chat-templates/templates/openai-gpt-oss-120b.jinja, --chat-template-file).
- /apply-template gives what Python Jinja2 renders from that template (the oracle
  environment of ../shared/chat-templates/render.py, with today's date for strftime_now);
- /v1/chat/completions through the official `openai` client evaluates exactly that prompt
  and returns the same greedy text as /completion on it."""
from __future__ import annotations

import datetime
import importlib.util
import sys

import openai
import pytest

from conftest import ROOT, SHARED
from server_helpers import post, start

sys.path.insert(0, str(ROOT / "scripts"))
import make_moe_test_model as gen  # noqa: E402

TEMPLATE = SHARED / "chat-templates" / "templates" / "openai-gpt-oss-120b.jinja"
MESSAGES = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Write one short sentence about the sea."}]

_spec = importlib.util.spec_from_file_location("oracle_render", SHARED / "chat-templates" / "render.py")
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("moe") / "moe-gpt-oss-f16.gguf"
    gen.write_model("gpt-oss", "F16", str(path))
    s = start(path, "-c", "1024", "-np", "1", "--chat-template-file", str(TEMPLATE), "--alias", "gpt-oss")
    yield s
    s.stop()


def test_template_renders_like_jinja2(server):
    env = oracle.make_environment()
    env.globals["strftime_now"] = lambda fmt: datetime.datetime.now().strftime(fmt)
    expected = env.from_string(TEMPLATE.read_text()).render(
        messages=MESSAGES, bos_token="<s>", eos_token="</s>", add_generation_prompt=True)
    assert "<|start|>assistant" in expected
    applied = post(server, "/apply-template", {"messages": MESSAGES})
    assert applied.status_code == 200, applied.text
    assert applied.json()["prompt"] == expected


def test_chat_completion_evaluates_the_rendered_prompt(server):
    client = openai.OpenAI(base_url=server.base + "/v1", api_key="unused", max_retries=0, timeout=60)
    res = client.chat.completions.create(model="gpt-oss", messages=MESSAGES, max_tokens=12, temperature=0,
                                         extra_body={"cache_prompt": False})
    choice = res.choices[0]
    assert choice.message.role == "assistant"
    assert res.usage.completion_tokens >= 1
    rendered = post(server, "/apply-template", {"messages": MESSAGES}).json()["prompt"]
    tokens = post(server, "/tokenize", {"content": rendered, "add_special": True,
                                        "parse_special": True}).json()["tokens"]
    assert res.usage.prompt_tokens == len(tokens)
    native = post(server, "/completion", {"prompt": rendered, "n_predict": 12, "temperature": 0,
                                          "cache_prompt": False})
    assert native.status_code == 200, native.text
    assert native.json()["content"] == (choice.message.content or "")
