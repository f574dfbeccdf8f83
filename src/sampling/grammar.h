// GBNF grammars (the syntax of llama.cpp's grammars/README.md) compiled to a flat form the
// matcher (grammar_matcher.h) walks:
//   rule ::= alternatives        # comment
//   terminals: "literal" (escapes \n \r \t \\ \" \[ \] \xHH \uHHHH \UHHHHHHHH), [a-z0-9_]
//   classes with ranges, [^...] negation, . (any code point)
//   groups ( ... ), alternatives a | b, repetition x* x+ x? x{m} x{m,} x{m,n}
// A rule's body ends at a newline unless the newline is inside parentheses or follows `|`.
// Repetitions and groups become generated rules, so the compiled grammar has only three
// kinds of element: a character class, a reference to a rule, and the end of an
// alternative. Grammars are untrusted input: source size, nesting depth, rule count,
// compiled size and repetition counts are bounded, left recursion is refused (the matcher
// would loop), and every error names the line and column.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mmojo {

class GrammarError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct GrammarLimits {
    size_t max_source_bytes = 1u << 20;
    int max_depth = 64;               // nested groups
    size_t max_rules = 20000;         // named plus generated
    size_t max_elements = 1u << 20;   // compiled elements over all alternatives
    uint32_t max_repeat = 4096;       // m and n of x{m,n}
};

// A set of code points: sorted, merged ranges [lo, hi], optionally negated. `ascii`
// caches membership of 0..127 (after negation) so the common case is one bit test.
struct CharClass {
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    bool negated = false;
    uint64_t ascii[2] = {0, 0};
    bool contains(uint32_t cp) const {
        if (cp < 128) return (ascii[cp >> 6] >> (cp & 63)) & 1u;
        return contains_slow(cp);
    }
    bool contains_slow(uint32_t cp) const;
    // Whether some code point of [lo, hi] is in the class.
    bool intersects(uint32_t lo, uint32_t hi) const;
    void finish();   // merge ranges and fill `ascii`
};

enum class GrammarOp : uint8_t { kEnd, kChar, kRef };

struct GrammarElement {
    GrammarOp op;
    uint32_t arg;   // kChar: index into classes; kRef: rule index; kEnd: unused
};

struct Grammar {
    std::vector<GrammarElement> elements;          // alternatives, each closed by kEnd
    std::vector<std::vector<uint32_t>> rule_alts;  // per rule: where each alternative starts
    std::vector<std::string> rule_names;           // generated rules are named "<parent>_<n>"
    std::vector<CharClass> classes;
    uint32_t root = 0;

    // Parses `source`; `root_rule` names the start rule. Throws GrammarError.
    static std::shared_ptr<const Grammar> parse(std::string_view source, const std::string& root_rule = "root",
                                                const GrammarLimits& limits = {});
};

// Writing GBNF: a literal ("...", escaped) matching exactly `text` (UTF-8; invalid bytes
// throw GrammarError), and one code point as it may stand inside "..." or [...] (printable
// ASCII as itself, the rest as \xHH, \uHHHH or \UHHHHHHHH).
std::string gbnf_literal(std::string_view text);
std::string gbnf_escape_code_point(uint32_t cp, bool in_class);

}  // namespace mmojo
