// Splits a chat model's output into reasoning, content and tool calls, for the syntax of
// its template (chat_syntax.h). The same function reads a finished output and one that is
// still streaming (`partial`): then text that may be the start of a marker is held back,
// and the last tool call is reported as soon as its name is known, with the arguments so
// far. What a partial parse reports only grows as text is added (the streaming differ in
// chat_stream.h relies on it), except when a call turns out malformed: a malformed or
// unfinished call is returned as content, never an error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_syntax.h"

namespace mmojo {

struct ParsedToolCall {
    std::string name;
    std::string arguments;  // JSON text of an object (a prefix of it while streaming)
    std::string id;         // when the model wrote one (Mistral, Command R7B, Kimi K2); else ""
};

struct ParsedMessage {
    std::string reasoning;
    std::string content;
    std::vector<ParsedToolCall> tool_calls;
};

// `tools`: the request's OpenAI tools list (or null); formats that write argument values
// as bare text (Qwen3-Coder, GLM) read each parameter's schema type to tell strings from
// numbers.
ParsedMessage parse_chat_output(const ChatSyntax& syntax, std::string_view text, bool partial,
                                const nlohmann::json& tools = nullptr);

}  // namespace mmojo
