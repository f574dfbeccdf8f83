// UTF-8 byte-level checks (RFC 3629): where a string may be cut without splitting a
// character, and whether it is well-formed.
#pragma once

#include <cstddef>
#include <string_view>

namespace mmojo {

// Length of the longest prefix of `text` that does not end inside an incomplete UTF-8
// sequence (a lead byte whose continuation bytes have not arrived yet). Invalid bytes count
// as complete so that they are passed on rather than held forever.
size_t utf8_complete_prefix(std::string_view text);
// True if `text` is well-formed UTF-8.
bool utf8_valid(std::string_view text);

}  // namespace mmojo
