// Parser from Jinja2 template source to the syntax tree of chat/ast.h.
// Spec: Jinja2 3.1 grammar (operator precedence of jinja2.parser: or < and < not <
// comparisons < + - < ~ < * / // % < ** < unary - + < filters/tests < postfix).
#pragma once

#include <memory>
#include <string>

#include "chat/ast.h"

namespace mmojo::jinja {

// Limits on syntactic nesting, so that evaluating the tree cannot exhaust the stack.
inline constexpr int kMaxExprDepth = 120;
inline constexpr int kMaxStmtDepth = 60;

// Throws ChatTemplateError with line:column on any syntax error.
std::unique_ptr<Template> parse_template(const std::string& source);

}  // namespace mmojo::jinja
