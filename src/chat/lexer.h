// Tokenizer for Jinja2 template source as configured by transformers'
// apply_chat_template: trim_blocks, lstrip_blocks, keep_trailing_newline=False,
// `{%- -%}` / `{{- -}}` / `{#- -#}` whitespace control, `+` markers, `{% raw %}`.
// Spec: Jinja2 3.1 "Template Designer Documentation", sections Whitespace Control,
// Escaping, Comments; expression token syntax from the Jinja2 lexer rules.
#pragma once

#include <string>
#include <vector>

namespace mmojo::jinja {

enum class TokenType {
    kText,        // template data between tags (whitespace control already applied)
    kVarBegin,    // {{
    kVarEnd,      // }}
    kBlockBegin,  // {%
    kBlockEnd,    // %}
    kName,
    kString,  // text = the unescaped value
    kInt,
    kFloat,
    kOperator,  // text = the operator: + - * / // % ** ~ == != < <= > >= = ( ) [ ] { } , . : |
    kEof,
};

struct Token {
    TokenType type;
    std::string text;
    int line = 1;
    int column = 1;
};

// Throws ChatTemplateError (with line:column) on unterminated tags, strings, comments
// or characters that are not part of the expression syntax.
std::vector<Token> tokenize(const std::string& source);

}  // namespace mmojo::jinja
