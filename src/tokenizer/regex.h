// A small backtracking regex engine over Unicode code points, for BPE pre-tokenizer patterns.
//
// Supported subset (ECMAScript/PCRE semantics: leftmost match, first alternative that
// succeeds, greedy quantifiers):
//   literals, `.`, classes `[...]` / `[^...]` with ranges, `\s \S \d \D \w \W`, `\p{X}` and
//   `\P{X}` for the category families X in L N P S M Z C, escapes `\r \n \t \f \v` and escaped
//   punctuation, groups `(...)` and `(?:...)` (nothing is captured), lookahead `(?=...)` and
//   `(?!...)`, anchors `^` `$` (start/end of the text being split), quantifiers `? * + {n}
//   {n,} {n,m}`. Anything else throws std::runtime_error naming the pattern and position.
//
// `\s` is Unicode White_Space, as in llama.cpp's splitter; categories come from unicode.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mmojo::tokenizer_detail {

class Regex {
public:
    explicit Regex(std::string_view pattern);

    // Code points and their unicode::properties() bits; matching never reads outside
    // [begin, end), which also bounds `^`, `$` and lookaheads.
    struct Text {
        const uint32_t* cps;
        const uint16_t* props;
        size_t begin, end;
    };

    // End of the match that starts exactly at `pos`, or SIZE_MAX when there is none.
    size_t match_at(const Text& text, size_t pos) const;

    // Splits each fragment (consecutive lengths in code points) into the pieces the regex
    // matches and the gaps between them, keeping everything, as llama.cpp's
    // unicode_regex_split does for one expression.
    std::vector<size_t> split(const uint32_t* cps, const uint16_t* props,
                              const std::vector<size_t>& fragments) const;

    const std::string& pattern() const { return pattern_; }

private:
    struct CharSet {
        std::vector<std::pair<uint32_t, uint32_t>> ranges;
        uint16_t props = 0;       // matches a code point having any of these bits
        bool non_space = false;   // matches a code point without kPropWhitespace (\S)
        bool negated = false;
        bool matches(uint32_t cp, uint16_t prop) const;
    };
    using Seq = std::vector<int>;  // node indices, matched in order
    enum class Kind { kSet, kGroup, kRepeat, kLookahead, kNegLookahead, kStart, kEnd };
    struct Node {
        Kind kind = Kind::kSet;
        CharSet set;
        std::vector<Seq> alts;   // kGroup / lookaheads; kRepeat: alts[0] is the body
        int min = 0, max = -1;   // kRepeat; max -1 = unbounded
    };
    struct Cont;

    // Parsing (pattern code points in pat_, cursor at_).
    std::vector<Seq> parse_alternatives(int depth);
    Seq parse_sequence(int depth);
    int parse_atom(int depth);
    void parse_class(CharSet& set);
    bool parse_escape_into(CharSet& set, bool in_class);
    uint32_t parse_class_literal();
    uint16_t parse_property();
    int add_node(Node node);
    [[noreturn]] void fail(const char* what) const;

    // Matching.
    bool match_seq(const Seq& seq, size_t i, size_t pos, const Cont* k, const Text& t,
                   size_t& out) const;
    bool match_alts(const std::vector<Seq>& alts, size_t pos, const Cont* k, const Text& t,
                    size_t& out) const;
    bool match_repeat(const Node& node, int count, size_t pos, const Cont* k, const Text& t,
                      size_t& out) const;
    bool resume(const Cont* k, size_t pos, const Text& t, size_t& out) const;

    std::string pattern_;
    std::vector<uint32_t> pat_;
    size_t at_ = 0;
    std::vector<Node> nodes_;
    std::vector<Seq> top_;
};

}  // namespace mmojo::tokenizer_detail
