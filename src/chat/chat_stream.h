// Streams a chat model's output as OpenAI chat.completion.chunk deltas: the text so far is
// parsed again after every piece (parse_chat_output with partial = true) and what grew
// since the last parse is sent: {"reasoning_content": ..}, {"content": ..}, and
// {"tool_calls": [{index, id, type, function: {name, arguments}}]} for a new call, then
// {"tool_calls": [{index, function: {arguments: piece}}]} as its arguments grow.
// Re-parsing keeps one parser for both paths; its cost is linear in the output per piece.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/output_parser.h"

namespace mmojo {

struct ChatOutputOptions {
    ChatSyntax syntax;
    nlohmann::json tools;            // the request's tools (schemas), or null
    bool parallel_tool_calls = true;  // false: only the first call is kept
    // Makes an id for a call the model did not name ("call_" + random by default).
    std::function<std::string()> make_id;
};

class ChatStream {
public:
    explicit ChatStream(ChatOutputOptions options);

    // Adds generated text; returns the deltas to send now (possibly none).
    std::vector<nlohmann::json> push(std::string_view text);
    // The output is complete: the last deltas.
    std::vector<nlohmann::json> finish();

    // The whole message as parsed at finish() (ids included), for non-streamed answers.
    const ParsedMessage& message() const { return final_; }
    bool has_tool_calls() const { return !final_.tool_calls.empty() || !sent_.tool_calls.empty(); }

private:
    std::vector<nlohmann::json> diff(ParsedMessage now);
    void limit_calls(ParsedMessage& m) const;

    ChatOutputOptions options_;
    std::string text_;
    ParsedMessage sent_;   // what the client has (ids assigned)
    ParsedMessage final_;
};

// The OpenAI "message" object of a finished chat answer: role, content (null when the
// answer is only tool calls), reasoning_content when there is any, tool_calls.
nlohmann::json chat_message_json(const ParsedMessage& message);

// A random id of `length` letters and digits (Mistral's templates require 9).
std::string random_call_id(size_t length);

}  // namespace mmojo
