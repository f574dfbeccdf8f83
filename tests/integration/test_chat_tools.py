"""Tool calls and reasoning through the real server.

- Tool turns sent in the OpenAI wire format (arguments as a JSON string, content null)
  are rendered by the server exactly as Python Jinja2 renders the same conversation in the
  form the template can print (object arguments when it prints them, else the string;
  content "" when null fails), for real templates of ../shared/chat-templates.
- Request checks: tools, tool_choice, reasoning_format give 400s with a message.
- With a random-weight model (it writes no tool-call syntax) the answer is content only,
  streamed deltas add up to the non-streamed message, and the official `openai` client
  runs a tool-calling loop (the tool result goes back through the Hermes template).
The parsing of each family's output is tested in tests/unit/chat_output_test.cpp.
"""
from __future__ import annotations

import copy
import importlib.util
import json

import openai
import pytest

from conftest import SHARED
from server_helpers import STORIES, assert_api_error, post, sse_events, start

CORPUS = SHARED / "chat-templates"
_spec = importlib.util.spec_from_file_location("oracle_render", CORPUS / "render.py")
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)
ENV = oracle.make_environment()
CASES = {c["id"]: c for c in json.loads((CORPUS / "cases.json").read_text())}

# Templates that print tool calls and do not print the current date (the server renders
# strftime_now with the real clock, the oracle with a fixed one).
TEMPLATES = [
    "Qwen-Qwen3-0.6B.jinja",
    "Qwen3.5-4B.jinja",
    "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja",
    "GLM-4.6.jinja",
    "mistralai-Mistral-Nemo-Instruct-2407.jinja",
    "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja",
    "moonshotai-Kimi-K2.jinja",
]


def jinja_render(source: str, messages, tools):
    return ENV.from_string(source).render(messages=messages, tools=tools, add_generation_prompt=True,
                                          bos_token="<s>", eos_token="</s>")


def oracle_prompt(source: str, case: dict) -> str:
    """The conversation in the first form the template prints a call in (Jinja2 decides)."""
    for object_args in (True, False):
        for content in ("", None):
            messages = copy.deepcopy(case["messages"])
            for m in messages:
                if m.get("tool_calls"):
                    if m.get("content") is None:
                        m["content"] = content
                    for call in m["tool_calls"]:
                        args = call["function"]["arguments"]
                        call["function"]["arguments"] = json.loads(args) if object_args else args
            try:
                text = jinja_render(source, messages, case["tools"])
            except Exception:
                continue
            if "Paris" in text.split(case["messages"][0]["content"])[-1]:
                return text
    raise AssertionError("the template prints no tool call in any form")


@pytest.fixture(scope="module", params=TEMPLATES)
def templated(request):
    path = CORPUS / "templates" / request.param
    server = start(STORIES, "--chat-template-file", str(path))
    yield server, path.read_text(encoding="utf-8")
    server.stop()


@pytest.mark.parametrize("case_id", ["tool_call_string_args", "parallel_tool_calls"])
def test_tool_turns_render_like_jinja2(templated, case_id):
    server, source = templated
    case = copy.deepcopy(CASES[case_id])
    for m in case["messages"]:  # the wire format: arguments as JSON strings
        for call in m.get("tool_calls") or []:
            if not isinstance(call["function"]["arguments"], str):
                call["function"]["arguments"] = json.dumps(call["function"]["arguments"])
    r = post(server, "/apply-template", {"messages": case["messages"], "tools": case["tools"]})
    assert r.status_code == 200, r.text
    assert r.json()["prompt"] == oracle_prompt(source, case)


@pytest.fixture(scope="module")
def hermes():
    server = start(STORIES, "--chat-template-file",
                   str(CORPUS / "templates" / "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja"))
    yield server
    server.stop()


TOOLS = CASES["tools_available"]["tools"]
USER = [{"role": "user", "content": "Weather in Paris?"}]


@pytest.mark.parametrize("body,needle", [
    ({"tools": {"a": 1}}, "'tools' must be a list"),
    ({"tools": [{"type": "function", "function": {}}]}, "each tool must be"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": 3}}]}, "parameters"),
    ({"tools": TOOLS, "tool_choice": "sometimes"}, "'tool_choice' must be"),
    ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "unknown tool 'nope'"),
    ({"tool_choice": "required"}, "no 'tools'"),
    ({"reasoning_format": "verbose"}, "unknown reasoning format"),
    ({"messages": USER + [{"role": "assistant", "content": None, "tool_calls": [{"function": {}}]}]},
     "string 'name'"),
    ({"messages": USER + [{"role": "assistant", "content": None,
                           "tool_calls": [{"function": {"name": "f", "arguments": "{not json"}}]}]},
     "not valid JSON"),
])
def test_bad_tool_requests_are_400(hermes, body, needle):
    err = assert_api_error(post(hermes, "/v1/chat/completions", {"messages": USER, "max_tokens": 4, **body}),
                           400, "invalid_request_error")
    assert needle in err["message"], err


def test_stream_adds_up_to_the_message(hermes):
    body = {"messages": USER, "tools": TOOLS, "max_tokens": 24, "temperature": 0, "seed": 1}
    whole = post(hermes, "/v1/chat/completions", body).json()
    msg = whole["choices"][0]["message"]
    r = post(hermes, "/v1/chat/completions", {**body, "stream": True}, stream=True)
    content, reasoning, finish = "", "", None
    for ev in sse_events(r):
        if ev == "[DONE]":
            break
        for choice in ev["choices"]:
            delta = choice["delta"]
            assert set(delta) <= {"role", "content", "reasoning_content", "tool_calls"}, delta
            content += delta.get("content") or ""
            reasoning += delta.get("reasoning_content") or ""
            finish = choice["finish_reason"] or finish
    assert content == msg["content"]
    assert reasoning == msg.get("reasoning_content", "")
    assert finish == whole["choices"][0]["finish_reason"]
    assert finish in ("stop", "length")  # a random model writes no <tool_call>


def test_tool_choice_none_hides_the_tools(hermes):
    with_tools = post(hermes, "/apply-template", {"messages": USER, "tools": TOOLS}).json()["prompt"]
    none = post(hermes, "/apply-template", {"messages": USER, "tools": TOOLS, "tool_choice": "none"}).json()["prompt"]
    assert "get_weather" in with_tools and "get_weather" not in none


def test_openai_client_tool_loop(hermes):
    client = openai.OpenAI(base_url=hermes.base + "/v1", api_key="unused", max_retries=0, timeout=60)
    messages = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = client.chat.completions.create(model="x", messages=messages, tools=TOOLS, max_tokens=16, temperature=0)
    assert first.choices[0].finish_reason in ("stop", "length", "tool_calls")
    # The loop's second leg: the assistant's call and the tool's result go back to the model.
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": json.dumps({"location": "Paris"})}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": json.dumps({"temperature": 22})},
    ]
    second = client.chat.completions.create(model="x", messages=messages, tools=TOOLS, max_tokens=16, temperature=0)
    assert isinstance(second.choices[0].message.content, str)
    prompt = post(hermes, "/apply-template", {"messages": messages, "tools": TOOLS}).json()["prompt"]
    assert '<tool_call>\n{"name": "get_weather", "arguments": {"location": "Paris"}}\n</tool_call>' in prompt
    assert '<tool_response>\n{"temperature": 22}\n</tool_response>' in prompt


# Forced calls: the grammar of the family's call syntax around each tool's parameters, so
# even a random-weight model answers with a call whose arguments validate (Python jsonschema
# is the oracle).
FORCE_TOOLS = TOOLS + [{"type": "function", "function": {
    "name": "book_table",
    "description": "Book a table",
    "parameters": {"type": "object", "properties": {
        "people": {"type": "integer", "minimum": 1, "maximum": 12},
        "time": {"type": "string", "enum": ["18:00", "19:30", "21:00"]},
        "names": {"type": "array", "items": {"type": "string", "maxLength": 12}, "minItems": 1, "maxItems": 3},
    }, "required": ["people", "time", "names"]}}}]


def check_calls(choice, allowed, finished=True):
    import jsonschema
    if finished:
        assert choice["finish_reason"] == "tool_calls", choice
    calls = choice["message"]["tool_calls"]
    assert calls, choice
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in FORCE_TOOLS}
    for call in calls:
        assert call["type"] == "function" and call["id"]
        name = call["function"]["name"]
        assert name in allowed, call
        jsonschema.validate(json.loads(call["function"]["arguments"]), schemas[name])
    return calls


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_required_tool_choice_forces_one_valid_call(hermes, seed):
    # One call: once it is complete the grammar allows only the end of generation.
    body = {"messages": USER, "tools": FORCE_TOOLS, "tool_choice": "required", "max_tokens": 300,
            "temperature": 1.0, "seed": seed, "parallel_tool_calls": False}
    r = post(hermes, "/v1/chat/completions", body)
    assert r.status_code == 200, r.text
    assert len(check_calls(r.json()["choices"][0], {"get_weather", "book_table"})) == 1


def test_parallel_forced_calls_all_validate(hermes):
    # Parallel calls: a random model rarely ends the list, so the answer may stop at the
    # token limit; every complete call is still valid.
    body = {"messages": USER, "tools": FORCE_TOOLS, "tool_choice": "required", "max_tokens": 300,
            "temperature": 1.0, "seed": 4}
    r = post(hermes, "/v1/chat/completions", body)
    assert r.status_code == 200, r.text
    check_calls(r.json()["choices"][0], {"get_weather", "book_table"}, finished=False)


def test_named_tool_choice_forces_that_function(hermes):
    body = {"messages": USER, "tools": FORCE_TOOLS, "max_tokens": 300, "temperature": 1.0, "seed": 7,
            "tool_choice": {"type": "function", "function": {"name": "book_table"}},
            "parallel_tool_calls": False}
    r = post(hermes, "/v1/chat/completions", body)
    assert r.status_code == 200, r.text
    calls = check_calls(r.json()["choices"][0], {"book_table"})
    assert len(calls) == 1


def test_forced_call_with_a_grammar_is_400(hermes):
    err = assert_api_error(post(hermes, "/v1/chat/completions", {
        "messages": USER, "tools": FORCE_TOOLS, "tool_choice": "required", "max_tokens": 8,
        "grammar": 'root ::= "x"'}), 400, "invalid_request_error")
    assert "forced tool call" in err["message"], err


def test_openai_client_loop_receives_a_forced_call(hermes):
    client = openai.OpenAI(base_url=hermes.base + "/v1", api_key="unused", max_retries=0, timeout=120)
    messages = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = client.chat.completions.create(model="x", messages=messages, tools=TOOLS, tool_choice="required",
                                           parallel_tool_calls=False, max_tokens=300, temperature=0.7, seed=5)
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temperature": 22})}]
    second = client.chat.completions.create(model="x", messages=messages, tools=TOOLS, max_tokens=16, temperature=0)
    assert isinstance(second.choices[0].message.content, str)
    prompt = post(hermes, "/apply-template", {"messages": messages, "tools": TOOLS}).json()["prompt"]
    assert json.dumps(args) in prompt or call.function.arguments in prompt, prompt[-400:]


R1 = CORPUS / "templates" / "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja"       # always opens <think>
R1_QWEN = CORPUS / "templates" / "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"  # opens it if enable_thinking


def chat(server, **kw):
    body = {"messages": USER, "max_tokens": 40, "temperature": 0, "seed": 1, **kw}
    r = post(server, "/v1/chat/completions", body)
    assert r.status_code == 200, r.text
    return r.json()["choices"][0]


def test_reasoning_budget_ends_thinking():
    # DeepSeek R1's prompt opens <think>: a random model never closes it, so its whole
    # answer is reasoning. With --reasoning-budget 5 the server writes </think> after 5
    # tokens: the reasoning is the start of the unlimited one, the rest is content.
    free = start(STORIES, "--chat-template-file", str(R1))
    try:
        unlimited = chat(free)
        none = chat(free, reasoning_format="none")
    finally:
        free.stop()
    assert unlimited["message"]["content"] == "" and unlimited["message"]["reasoning_content"]
    assert "reasoning_content" not in none["message"]  # reasoning_format none: all in content
    assert none["message"]["content"].strip() == unlimited["message"]["reasoning_content"]
    budget = start(STORIES, "--chat-template-file", str(R1), "--reasoning-budget", "5")
    try:
        cut = chat(budget)
        streamed = post(budget, "/v1/chat/completions",
                        {"messages": USER, "max_tokens": 40, "temperature": 0, "seed": 1, "stream": True}, stream=True)
        parts = {"content": "", "reasoning_content": ""}
        for ev in sse_events(streamed):
            if ev == "[DONE]":
                break
            for choice in ev["choices"]:
                for key in parts:
                    parts[key] += choice["delta"].get(key) or ""
        off = post(budget, "/apply-template", {"messages": USER}).json()["prompt"]
    finally:
        budget.stop()
    reasoning = cut["message"]["reasoning_content"]
    assert reasoning and unlimited["message"]["reasoning_content"].startswith(reasoning)
    assert len(reasoning) < len(unlimited["message"]["reasoning_content"])
    assert cut["message"]["content"]
    assert parts == {"content": cut["message"]["content"], "reasoning_content": reasoning}
    assert off.endswith("<think>\n")  # N > 0 does not change the prompt


def test_reasoning_budget_zero_turns_thinking_off():
    # A template that reads enable_thinking closes an empty block in the prompt ...
    server = start(STORIES, "--chat-template-file", str(R1_QWEN), "--reasoning-budget", "0")
    try:
        prompt = post(server, "/apply-template", {"messages": USER}).json()["prompt"]
        thinking = post(server, "/apply-template",
                        {"messages": USER, "chat_template_kwargs": {"enable_thinking": True}}).json()["prompt"]
        answer = chat(server)
    finally:
        server.stop()
    assert prompt.endswith("<think>\n</think>") and thinking.endswith("<think>\n")
    assert "reasoning_content" not in answer["message"] and answer["message"]["content"]
    # ... one that always opens it gets the end marker as the first generated tokens.
    server = start(STORIES, "--chat-template-file", str(R1), "--reasoning-budget", "0")
    try:
        prompt = post(server, "/apply-template", {"messages": USER}).json()["prompt"]
        answer = chat(server)
    finally:
        server.stop()
    assert prompt.endswith("<think>\n")
    assert "reasoning_content" not in answer["message"] and answer["message"]["content"]
