// A JSON Schema `pattern` (ECMA-262 regular expression subset) -> a GBNF expression that
// matches the JSON-escaped text of strings fully matching the pattern. Supported: literals,
// `.`, classes with ranges and negation, \d \w \s \D \W \S, escapes of metacharacters,
// \n \r \t \f \v \xHH \uHHHH, groups ( ) and (?: ), alternation, quantifiers * + ? {m}
// {m,} {m,n} (lazy forms accepted, same language), ^ at the start and $ at the end.
// Refused (RegexError): backreferences, lookaround, \b \B, \p{..}, anchors elsewhere.
// The generated strings avoid escapes where the pattern allows other characters: `.` and
// negated classes never produce '"', '\' or control characters (a valid subset).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace mmojo {

class RegexError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The GBNF expression (no rules) for the content between the JSON string's quotes.
std::string regex_to_gbnf(std::string_view pattern, int max_depth = 32);

}  // namespace mmojo
