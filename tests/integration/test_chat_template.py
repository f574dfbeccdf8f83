"""The chat-template interpreter against live Python Jinja2, feature by feature.

Each case is a small template plus variables. Jinja2 renders it in the environment
../shared/chat-templates/render.py builds (transformers' apply_chat_template setup:
ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, tojson,
raise_exception, strftime_now at 2026-01-15 00:00:00); tools/render_template renders it
with our interpreter. Outputs must be byte-identical; where Jinja2 raises, ours must fail
too (with the same message when the template raised it itself).
"""
from __future__ import annotations

import datetime
import importlib.util
import json
import subprocess
import time

import pytest

from conftest import BUILD, SHARED

_spec = importlib.util.spec_from_file_location("oracle_render", SHARED / "chat-templates" / "render.py")
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)
ENV = oracle.make_environment()
NOW = int(time.mktime(datetime.datetime(2026, 1, 15).timetuple()))

MSGS = [
    {"role": "system", "content": "  Be brief.\n"},
    {"role": "user", "content": "Hi there! ünï 🙂"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function",
         "function": {"name": "f", "arguments": {"b": 2, "a": [1, "x", None, True, 1.5]}}}]},
    {"role": "tool", "content": "{\"t\": 22}"},
]
V = {"messages": MSGS, "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": True}

CASES = {
    # whitespace control, comments, raw
    "trim_lstrip": ("  {% if true %}\n    a\n  {% endif %}\nb\n", {}),
    "dash_markers": ("x  \n {%- if true -%}  \n y \n {%- endif -%} \n z", {}),
    "plus_markers": ("  {%+ if true +%}\nA{% endif %}\n", {}),
    "comments": ("a  {# c #}\n  {#- d -#}  b\n{# e #}\nc", {}),
    "raw": ("{% raw %}{{ x }}{% if %}{% endraw %}|{%- raw -%}  y  {%- endraw -%}  |", {}),
    "trailing_newline": ("a\n\n", {}),
    "crlf": ("a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
    "var_no_trim": ("{{ 1 }}\n{{ 2 }}\n", {}),
    # printing Python values
    "print_values": ("{{ none }} {{ true }} {{ 1.0 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 0.1 + 0.2 }} {{ 10 / 4 }} "
                     "{{ -0.0 }} {{ 123456789012345678 }} {{ [1, 'a', none, [true]] }} {{ (1,) }} {{ () }} "
                     "{{ {'a': {'b': \"it's\"}} }} {{ 'x' ~ none ~ 1 }}", {}),
    "print_repr_escapes": ("{{ ['a\\nb', 'q\"', \"s'\", 'both\\'\"', 'tab\\t', '\\x01', 'é'] }}", {}),
    "undefined_prints_empty": ("[{{ nope }}][{{ messages[9] }}][{{ messages[0].nope }}]", V),
    # operators
    "arithmetic": ("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} "
                   "{{ 7.5 // 2 }} {{ 5.5 % 2 }} {{ 3 * 'ab' }} {{ [1] * 3 }} {{ 1 + true }} {{ -(3) }}", {}),
    "comparisons": ("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} "
                    "{{ 'a' in 'cat' }} {{ 'x' not in ['x'] }} {{ 'k' in {'k': 1} }} {{ {'a': [1]} == {'a': [1]} }}", {}),
    "logic_values": ("{{ 0 or 'd' }} {{ 'a' and 'b' }} {{ none and 1 }} {{ not [] }} {{ 'y' if 0 else 'n' }} [{{ 'y' if 0 }}]", {}),
    "precedence": ("{{ 'a' + ' b ' | trim + 'c' }} {{ -2 ** 2 }} {{ 1 + 2 * 3 - 4 / 2 }} {{ 'x' ~ 2 * 3 }} {{ 'a' ~ 'b' | upper }}", {}),
    "percent_format": ("{{ '%s=%d (%.2f) %r %%' % ('k', 42, 3.14159, 'q') }} {{ '%(a)s' % {'a': 1} }} {{ '%05d' % 42 }}", {}),
    "markup_escaping": ("{{ '<a>'|safe + '<b>' }} {{ '\"'|safe + '\"' }} {{ '<x>' ~ '<y>'|safe }} {{ '&'|escape }}", {}),
    # subscripts and slicing
    "slicing": ("{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ 'hello'[-2:] }} {{ [1,2,3,4,5][::2] }} "
                "{{ [1,2,3][5:] }} {{ 'ünï'[1] }} {{ [1,2,3][-1] }} {{ (1,2,3)[1:] }} {{ 'abc'[10:] }}", {}),
    "attr_item_fallbacks": ("{{ messages[1]['role'] }} {{ messages[1].role }} {{ messages.0.role }} "
                            "{{ messages[2].tool_calls[0].function.name }} {{ messages[2]['tool_calls'][0]['id'] }}", V),
    # statements
    "for_loop_vars": ("{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
                      "{{ loop.first }}{{ loop.last }}{{ loop.length }}[{{ loop.previtem }}|{{ loop.nextitem }}] {% endfor %}", {}),
    "for_else_break_continue": ("{% for x in [] %}x{% else %}empty{% endfor %} {% for i in range(10) %}"
                                "{% if i % 2 %}{% continue %}{% endif %}{% if i > 6 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    "for_if_filter": ("{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{{ loop.last }} {% endfor %}", V),
    "for_unpack": ("{% for k, v in {'a': 1, 'b': [2]}.items() %}{{ k }}={{ v }};{% endfor %}"
                   "{% for a, b in [[1, 2], (3, 4)] %}{{ a + b }}{% endfor %}", {}),
    "for_dict_and_string": ("{% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %}{% for c in 'hé' %}[{{ c }}]{% endfor %}", {}),
    "nested_loops": ("{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}{% endfor %}", {}),
    "scoping": ("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + 10 %}{{ x }} {% endfor %}{{ x }}"
                "{% if true %}{% set y = 5 %}{% endif %} {{ y }}", {}),
    "namespace": ("{% set ns = namespace(n=0, items=[]) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}"
                  "{% set ns.items = ns.items + [i] %}{% endfor %}{{ ns.n }} {{ ns.items }}", {}),
    "set_tuple_and_block": ("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set blk %}  text {{ a }} {% endset %}[{{ blk }}]"
                            "{% set up | upper %}abc{% endset %}{{ up }}", {}),
    "macros": ("{% macro m(a, b=2, c='x') %}{{ a }}-{{ b }}-{{ c }}{% endmacro %}{{ m(1) }} {{ m(1, 3) }} "
               "{{ m(1, c='z') }} {{ m(b=5, a=0) }}{% macro r(n) %}{% if n > 0 %}{{ n }}{{ r(n - 1) }}{% endif %}{% endmacro %} {{ r(3) }}", {}),
    "macro_caller": ("{% macro wrap(t) %}<{{ t }}>{{ caller() }}</{{ t }}>{% endmacro %}"
                     "{% call wrap('b') %}inner {{ 1 + 1 }}{% endcall %}"
                     "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}"
                     "{% call(v) each([1, 2]) %}[{{ v }}]{% endcall %}", {}),
    "filter_block": ("{% filter upper %}hello {{ 'world' }}{% endfilter %}{% filter trim | replace('a', 'o') %}  bar  {% endfilter %}", {}),
    # filters
    "filters_strings": ("{{ '  x  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}|"
                        "{{ 'ab' | upper }}{{ 'AB' | lower }}|{{ 'a-b' | replace('-', '+') }}|{{ 'aaa' | replace('a', 'b', 2) }}|"
                        "{{ 5 | string }}{{ none | string }}|{{ 'abc' | reverse }}|{{ 'x' | center(5) }}|{{ 'a b  c' | wordcount }}", {}),
    "filters_indent": ("{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(3, first=true) }}|{{ 'a\\n\\nb' | indent(2, blank=true) }}|{{ 'x\\n' | indent }}", {}),
    "filters_lists": ("{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ [3, 1] | sort(reverse=true) }} {{ [1, 2, 1, 'a', 'A'] | unique | list }} "
                      "{{ [1, 2] | first }}{{ [1, 2] | last }} {{ [1, 2, 3] | join('-') }} {{ [1, 2] | length }} {{ 'abc' | list }} "
                      "{{ [1, 5, 3] | max }}{{ [1, 5, 3] | min }}{{ [1, 2, 3] | sum }} {{ [1, 2, 3] | reverse | list }} {{ [1,2,3,4,5] | batch(2) | list }}", {}),
    "filters_dicts": ("{{ {'b': 1, 'A': 2, 'c': 0} | dictsort }} {{ {'b': 1, 'a': 2} | dictsort(by='value') }} "
                      "{{ {'x': 1} | items | list }} {{ {'x': 1, 'y': 2} | list }} {{ {'a': 1} | length }}", {}),
    "filters_select": ("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} "
                       "{{ messages | rejectattr('content') | map(attribute='role') | join(',') }} "
                       "{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3] | reject('equalto', 2) | list }} "
                       "{{ ['a', 'b'] | map('upper') | list }} {{ messages | map(attribute='nope', default='d') | list }} "
                       "{{ messages | selectattr('tool_calls', 'defined') | list | length }} "
                       "{{ messages[2:3] | map(attribute='tool_calls.0.function.name') | list }}", V),
    "filters_numbers": ("{{ '42' | int }} {{ '3.9' | int }} {{ 'x' | int(7) }} {{ '0x1A' | int(base=16) }} {{ 3.7 | int }} "
                        "{{ '2.5' | float }} {{ 'q' | float }} {{ -3 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} "
                        "{{ 3.5 | round }} {{ 2.1 | round(method='ceil') }} {{ 2.9 | round(0, 'floor') }}", {}),
    "filters_default": ("{{ nope | default('d') }} {{ '' | default('e') }} {{ '' | default('e', true) }} "
                        "{{ none | d('n') }} {{ messages[0].nope | default([]) | length }}", V),
    "tojson": ("{{ messages[2].tool_calls[0].function.arguments | tojson }}\n{{ messages[1] | tojson }}\n"
               "{{ {'k': [1, {}, []]} | tojson(indent=2) }}\n{{ 'é\"\\n' | tojson(ensure_ascii=true) }}\n"
               "{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}\n{{ [1.0, 1e100, none, true] | tojson }}", V),
    # tests
    "tests": ("{{ nope is defined }}{{ nope is undefined }}{{ none is none }}{{ 1 is number }}{{ true is number }}"
              "{{ true is boolean }}{{ 1 is integer }}{{ 1.0 is float }}{{ 'a' is string }}{{ {} is mapping }}"
              "{{ 'a' is iterable }}{{ 1 is iterable }}{{ [] is sequence }}{{ 'a' is sequence }}{{ false is false }}"
              "{{ true is true }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 'a' is in 'cat' }}"
              "{{ 2 is equalto 2 }}{{ 2 is eq 3 }}{{ 3 is gt 2 }}{{ 'ab' is lower }}{{ 'AB' is upper }}"
              "{{ nope is iterable }}{{ nope is sequence }}{{ range is callable }}{{ 1 is not none }}", {}),
    # methods
    "str_methods": ("{{ ' a b '.strip() }}|{{ 'xxa'.lstrip('x') }}|{{ 'a\\n\\n'.rstrip('\\n') }}|{{ 'a,b,,c'.split(',') }}|"
                    "{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a b c'.rsplit(' ', 1) }}|{{ 'ab'.startswith('a') }}|"
                    "{{ 'ab'.endswith(('x', 'b')) }}|{{ 'aXbX'.replace('X', '-') }}|{{ 'ab'.upper() }}|{{ 'Ab'.lower() }}|"
                    "{{ \"they're bill's\".title() }}|{{ 'abcb'.find('b') }}|{{ 'abcb'.rfind('b') }}|{{ 'abcb'.count('b') }}|"
                    "{{ '-'.join(['a', 'b']) }}|{{ '{} and {}'.format(1, 'x') }}|{{ '{0}{0}{k}'.format('y', k='z') }}|"
                    "{{ 'a\\nb\\r\\nc'.splitlines() }}|{{ '12'.isdigit() }}|{{ 'ab'.isalpha() }}|{{ ' '.isspace() }}", {}),
    "dict_methods": ("{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b') }} {{ {'a': 1}.get('b', 2) }} {{ {'a': 1, 'b': 2}.keys() | list }} "
                     "{{ {'a': 1, 'b': 2}.values() | list }} {{ messages[1].get('role') }}", V),
    "globals": ("{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(5, 0, -2) | list }} {{ dict(a=1, b=2) }} "
                "{{ namespace(a=1).a }} {{ strftime_now('%d %b %Y') }} {{ strftime_now('%Y-%m-%d') }} {{ strftime_now('%B %d, %Y %H:%M:%S %A %j') }}", {}),
    # errors (Jinja2 raises; so must we)
    "err_raise": ("{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}", V),
    "err_concat_none": ("{{ 'a' + messages[2].content }}", V),
    "err_concat_list": ("{{ 'a' + [1] }}", {}),
    "err_none_plus": ("{{ none + 'a' }}", {}),
    "err_none_attribute_call": ("{{ messages[2].content.split('x') }}", V),
    "err_in_none": ("{{ 'x' in none }}", {}),
    "err_undefined_attribute": ("{{ nope.x }}", {}),
    "err_items_of_string": ("{{ 'abc' | items | list }}", {}),
    "err_not_iterable": ("{% for x in 1 %}{% endfor %}", {}),
    "err_unknown_filter": ("{{ 1 | frobnicate }}", {}),
    "err_unpack": ("{% for a, b in [[1, 2, 3]] %}{% endfor %}", {}),
    "err_div_zero": ("{{ 1 // 0 }}", {}),
    "err_syntax": ("{% if %}", {}),
    "err_unclosed": ("{% for x in y %}", {}),
    "err_macro_args": ("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", {}),
    "err_set_attr": ("{% set x = 1 %}{% set x.y = 2 %}", {}),
}


def jinja_render(source: str, variables: dict):
    try:
        return "ok", ENV.from_string(source).render(**variables), False
    except Exception as exc:  # the oracle's failure of any kind
        return "error", str(exc), isinstance(exc, oracle.RaisedByTemplate)


def our_render(source: str, variables: dict, tmp_path):
    tpl = tmp_path / "t.jinja"
    tpl.write_bytes(source.encode("utf-8"))
    var = tmp_path / "v.json"
    var.write_text(json.dumps(variables), encoding="utf-8")
    proc = subprocess.run([str(BUILD / "render_template"), str(tpl), str(var), "--now", str(NOW)],
                          capture_output=True, timeout=60)
    return proc.returncode, proc.stdout.decode("utf-8", "surrogateescape"), proc.stderr.decode("utf-8", "replace")


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_jinja2(name, tmp_path):
    source, variables = CASES[name]
    status, expected, raised_by_template = jinja_render(source, variables)
    rc, out, err = our_render(source, variables, tmp_path)
    if status == "ok":
        assert rc == 0, f"we failed where Jinja2 rendered {expected!r}: {err}"
        assert out == expected
    else:
        assert rc != 0, f"we rendered {out!r} where Jinja2 raised {expected!r}"
        assert err.startswith("error: "), err
        if raised_by_template:
            assert rc == 2
            assert err.rstrip("\n").endswith(": " + expected)


def test_cases_exercise_both_outcomes():
    outcomes = {jinja_render(*CASES[n])[0] for n in CASES}
    assert outcomes == {"ok", "error"}
