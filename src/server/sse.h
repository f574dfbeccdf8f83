// Text streaming helpers: Server-Sent Events framing (https://html.spec.whatwg.org/
// multipage/server-sent-events.html, as llama-server and OpenAI use it), UTF-8 boundaries
// so a multi-byte character is never split across chunks, and stop-string matching that
// holds back text which may be the start of a stop string.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mmojo {

// "data: <json>\n\n"
std::string sse_data(const nlohmann::json& value);
// "data: [DONE]\n\n", the end marker of OpenAI streams.
std::string sse_done();

// Length of the longest prefix of `text` that does not end inside an incomplete UTF-8
// sequence (a lead byte whose continuation bytes have not arrived yet). Invalid bytes count
// as complete so that they are passed on rather than held forever.
size_t utf8_complete_prefix(std::string_view text);
// True if `text` is well-formed UTF-8.
bool utf8_valid(std::string_view text);

struct StopMatch {
    size_t pos = std::string::npos;   // where the full stop string starts (npos: none)
    std::string word;                 // the stop string that matched
};

// Earliest full occurrence of any stop string in text[from..].
StopMatch find_stop(std::string_view text, const std::vector<std::string>& stops, size_t from);
// Start of the longest suffix of `text` that is a proper prefix of some stop string,
// or text.size() if none: the bytes from there on must be held back while streaming.
size_t partial_stop_start(std::string_view text, const std::vector<std::string>& stops);

// Bytes of a string as a JSON array of integers (llama-server's "bytes" fields).
nlohmann::json bytes_array(std::string_view text);

}  // namespace mmojo
