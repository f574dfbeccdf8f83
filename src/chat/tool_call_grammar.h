// The grammar of a forced answer (tool_choice "required" or a named function): the
// family's tool-call syntax (chat_syntax.h) around each allowed tool's arguments, written
// as GBNF with the schema converter of sampling/json_schema_grammar.h, so that a
// constrained sampler can only produce calls whose arguments validate against the tool's
// `parameters`. The text it allows is what parse_chat_output reads back as calls.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/chat_syntax.h"

namespace mmojo {

// A family whose call syntax has no grammar here (Gemma 4's own value syntax).
class ToolGrammarUnsupported : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ForcedCall {
    nlohmann::ordered_json tools;  // the request's tools (OpenAI form)
    std::string function;          // "" = any of the tools, else only this one
    bool parallel = true;          // several calls allowed
};

// GBNF with rule `root`. A prompt that opened a thinking block gets its end marker first
// (the forced answer does not think). For a template without a tool-call syntax
// (ToolFormat::kNone) the answer is {"name": .., "arguments": {..}} JSON, which
// `syntax_for_forced_call` makes the parser read. Throws JsonSchemaError for a schema the
// converter refuses, ToolGrammarUnsupported for a family without a grammar.
std::string forced_tool_call_grammar(const ChatSyntax& syntax, const ForcedCall& call);

// The syntax to parse a forced answer with (kNone becomes the JSON form above).
ChatSyntax syntax_for_forced_call(ChatSyntax syntax);

}  // namespace mmojo
