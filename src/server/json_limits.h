// Limits checked on a request body before nlohmann::json parses it. nlohmann's parser is
// iterative, but copying, comparing and dumping a value recurse once per nesting level, so
// a 120 KB body of 60,000 nested brackets overflowed the stack in the chat route. The
// scan here is one pass with a counter (no recursion); the body size is bounded before
// (HttpServerOptions::max_body_bytes).
#pragma once

#include <cstddef>
#include <string_view>

namespace mmojo {

// Deeper than any request needs (a tool's JSON schema nests ~10-20 levels), and well
// below the chat template interpreter's own value nesting limit (jinja::kMaxNesting).
inline constexpr size_t kMaxJsonDepth = 128;

// Throws ApiError (400) naming the byte offset when arrays/objects nest deeper than
// max_depth. Brackets inside strings (escapes included) do not count.
void check_json_depth(std::string_view text, size_t max_depth = kMaxJsonDepth);

}  // namespace mmojo
