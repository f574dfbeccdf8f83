// Checks an HTTP/1.1 request head (request line and header fields, RFC 9112 sections 2-6)
// before cpp-httplib reads it, so that a request that can never be served is answered at
// once: an impossible Content-Length (not a decimal number, negative, beyond 2^64, two
// different values, or together with Transfer-Encoding: a smuggling risk) is a 400, a body
// larger than the server takes is a 413 before any of it is read, and an oversized head
// is a 431. The checks are pure functions over bytes, so they are unit-tested and fuzzed
// without sockets (fuzz/http_request_fuzz.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mmojo {

inline constexpr size_t kMaxRequestHeadBytes = 64u * 1024;   // request line + all fields

// Where the head ends: the index just past the blank line ("\r\n\r\n", or a bare "\n\n"
// that httplib then refuses), or std::string_view::npos while it is incomplete.
size_t request_head_end(std::string_view bytes);

struct RequestHeadVerdict {
    int status = 0;                 // 0: acceptable; else the HTTP status to answer with
    std::string message;            // why, for the error body
    uint64_t content_length = 0;    // announced body bytes (0 when none or chunked)
    bool chunked = false;           // Transfer-Encoding present
};

// `head` is the complete head (up to and including the blank line).
RequestHeadVerdict check_request_head(std::string_view head, uint64_t max_body_bytes);

}  // namespace mmojo
