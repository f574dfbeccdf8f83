// Server-Sent Events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html,
// as llama-server and OpenAI use it). What is safe to stream (whole UTF-8 characters, no
// possible start of a stop string) is decided by sampling/text_stream.h.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mmojo {

// "data: <json>\n\n"
std::string sse_data(const nlohmann::json& value);
// "data: [DONE]\n\n", the end marker of OpenAI streams.
std::string sse_done();

// Bytes of a string as a JSON array of integers (llama-server's "bytes" fields).
nlohmann::json bytes_array(std::string_view text);

}  // namespace mmojo
