// Backtracking matcher for pre-tokenizer patterns; see regex.h for the supported subset.
//
// Matching is continuation-passing: match_seq walks a sequence of nodes; a group or a
// repetition hands "the rest of the sequence" down as a Cont so that backtracking into an
// earlier choice happens naturally when the rest fails. A repetition of a single character
// set (the common `\p{L}+`) is matched by counting and then trying the continuation from the
// longest run down, without recursion per character.
#include "tokenizer/regex.h"

#include <cstdint>
#include <stdexcept>

#include "tokenizer/unicode.h"

namespace mmojo::tokenizer_detail {

namespace {
constexpr size_t kNoMatch = SIZE_MAX;
constexpr int kMaxDepth = 64;  // nesting of groups in a pattern
}  // namespace

// What to match after the current node: the rest of `seq` from `idx`, or (when `rep` is set)
// another iteration of a repetition that has matched `count` times, the last one starting
// at `rep_start`.
struct Regex::Cont {
    const Seq* seq = nullptr;
    size_t idx = 0;
    const Node* rep = nullptr;
    int count = 0;
    size_t rep_start = 0;
    const Cont* next = nullptr;
};

bool Regex::CharSet::matches(uint32_t cp, uint16_t prop) const {
    bool hit = (prop & props) != 0 || (non_space && (prop & unicode::kPropWhitespace) == 0);
    for (size_t i = 0; !hit && i < ranges.size(); ++i) {
        hit = ranges[i].first <= cp && cp <= ranges[i].second;
    }
    return hit != negated;
}

Regex::Regex(std::string_view pattern) : pattern_(pattern), pat_(unicode::to_codepoints(pattern)) {
    top_ = parse_alternatives(0);
    if (at_ != pat_.size()) fail("unbalanced ')'");
}

void Regex::fail(const char* what) const {
    throw std::runtime_error("pre-tokenizer regex \"" + pattern_ + "\": " + what +
                             " at code point " + std::to_string(at_));
}

int Regex::add_node(Node node) {
    nodes_.push_back(std::move(node));
    return int(nodes_.size() - 1);
}

std::vector<Regex::Seq> Regex::parse_alternatives(int depth) {
    if (depth > kMaxDepth) fail("groups nested too deeply");
    std::vector<Seq> alts;
    alts.push_back(parse_sequence(depth));
    while (at_ < pat_.size() && pat_[at_] == '|') {
        ++at_;
        alts.push_back(parse_sequence(depth));
    }
    return alts;
}

Regex::Seq Regex::parse_sequence(int depth) {
    Seq seq;
    while (at_ < pat_.size() && pat_[at_] != '|' && pat_[at_] != ')') {
        int atom = parse_atom(depth);
        // Quantifiers (greedy only).
        while (at_ < pat_.size()) {
            int min = 0, max = -1;
            const uint32_t c = pat_[at_];
            if (c == '?') {
                max = 1;
            } else if (c == '*') {
            } else if (c == '+') {
                min = 1;
            } else if (c == '{') {
                size_t p = at_ + 1;
                auto number = [&]() {
                    if (p >= pat_.size() || pat_[p] < '0' || pat_[p] > '9') fail("bad {n,m}");
                    int v = 0;
                    while (p < pat_.size() && pat_[p] >= '0' && pat_[p] <= '9') {
                        v = v * 10 + int(pat_[p++] - '0');
                        if (v > 100000) fail("repeat count too large");
                    }
                    return v;
                };
                min = number();
                max = min;
                if (p < pat_.size() && pat_[p] == ',') {
                    ++p;
                    max = (p < pat_.size() && pat_[p] == '}') ? -1 : number();
                }
                if (p >= pat_.size() || pat_[p] != '}') fail("bad {n,m}");
                if (max != -1 && max < min) fail("bad {n,m}");
                at_ = p;
            } else {
                break;
            }
            ++at_;
            if (at_ < pat_.size() && (pat_[at_] == '?' || pat_[at_] == '+')) {
                fail("lazy and possessive quantifiers are not supported");
            }
            Node rep;
            rep.kind = Kind::kRepeat;
            rep.alts.push_back(Seq{atom});
            rep.min = min;
            rep.max = max;
            atom = add_node(std::move(rep));
        }
        seq.push_back(atom);
    }
    return seq;
}

int Regex::parse_atom(int depth) {
    const uint32_t c = pat_[at_++];
    Node node;
    switch (c) {
        case '(': {
            node.kind = Kind::kGroup;
            if (at_ < pat_.size() && pat_[at_] == '?') {
                if (at_ + 1 >= pat_.size()) fail("bad group");
                const uint32_t g = pat_[at_ + 1];
                if (g == ':') {
                    node.kind = Kind::kGroup;
                } else if (g == '=') {
                    node.kind = Kind::kLookahead;
                } else if (g == '!') {
                    node.kind = Kind::kNegLookahead;
                } else {
                    fail("unsupported group syntax");
                }
                at_ += 2;
            }
            node.alts = parse_alternatives(depth + 1);
            if (at_ >= pat_.size() || pat_[at_] != ')') fail("missing ')'");
            ++at_;
            return add_node(std::move(node));
        }
        case '[':
            parse_class(node.set);
            return add_node(std::move(node));
        case '.':
            node.set.negated = true;
            node.set.ranges.emplace_back('\n', '\n');
            return add_node(std::move(node));
        case '^':
            node.kind = Kind::kStart;
            return add_node(std::move(node));
        case '$':
            node.kind = Kind::kEnd;
            return add_node(std::move(node));
        case '\\':
            if (!parse_escape_into(node.set, false)) {
                fail("unsupported escape");
            }
            return add_node(std::move(node));
        case '*':
        case '+':
        case '?':
        case '{':
            --at_;
            fail("quantifier without an operand");
        default:
            node.set.ranges.emplace_back(c, c);
            return add_node(std::move(node));
    }
}

uint16_t Regex::parse_property() {
    // At the character after `p` / `P`: expects {X} with X a category family letter.
    if (at_ + 2 >= pat_.size() || pat_[at_] != '{' || pat_[at_ + 2] != '}') {
        fail("unsupported \\p{...} (only single-letter category families)");
    }
    const uint32_t x = pat_[at_ + 1];
    at_ += 3;
    switch (x) {
        case 'L': return unicode::kPropLetter;
        case 'N': return unicode::kPropNumber;
        case 'P': return unicode::kPropPunctuation;
        case 'S': return unicode::kPropSymbol;
        case 'M': return unicode::kPropMark;
        case 'Z': return unicode::kPropSeparator;
        case 'C': return unicode::kPropControl | unicode::kPropUndefined;
        default: fail("unknown category in \\p{...}");
    }
}

// Parses the escape after a backslash into `set` (adding to it inside a class). Returns
// false for escapes a class cannot hold (negated categories, \D, \W inside a class).
bool Regex::parse_escape_into(CharSet& set, bool in_class) {
    if (at_ >= pat_.size()) fail("trailing backslash");
    const uint32_t e = pat_[at_++];
    auto literal = [&](uint32_t cp) { set.ranges.emplace_back(cp, cp); };
    switch (e) {
        case 's': set.props |= unicode::kPropWhitespace; return true;
        case 'S':
            if (in_class) {
                set.non_space = true;
            } else {
                set.props |= unicode::kPropWhitespace;
                set.negated = true;
            }
            return true;
        case 'd': set.ranges.emplace_back('0', '9'); return true;
        case 'w':
            set.ranges.emplace_back('0', '9');
            set.ranges.emplace_back('A', 'Z');
            set.ranges.emplace_back('a', 'z');
            set.ranges.emplace_back('_', '_');
            return true;
        case 'D':
        case 'W':
            if (in_class) return false;
            set.negated = true;
            if (e == 'D') {
                set.ranges.emplace_back('0', '9');
            } else {
                set.ranges.emplace_back('0', '9');
                set.ranges.emplace_back('A', 'Z');
                set.ranges.emplace_back('a', 'z');
                set.ranges.emplace_back('_', '_');
            }
            return true;
        case 'p': set.props |= parse_property(); return true;
        case 'P':
            if (in_class) return false;
            set.props |= parse_property();
            set.negated = true;
            return true;
        case 'r': literal('\r'); return true;
        case 'n': literal('\n'); return true;
        case 't': literal('\t'); return true;
        case 'f': literal('\f'); return true;
        case 'v': literal('\v'); return true;
        default:
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
                --at_;
                fail("unsupported escape");
            }
            literal(e);  // escaped punctuation or any other symbol stands for itself
            return true;
    }
}

// A single code point inside a class, for range ends: a plain character or a simple escape.
uint32_t Regex::parse_class_literal() {
    if (at_ >= pat_.size()) fail("unterminated class");
    const uint32_t c = pat_[at_++];
    if (c != '\\') return c;
    CharSet tmp;
    if (!parse_escape_into(tmp, true) || tmp.ranges.size() != 1 || tmp.props != 0 ||
        tmp.ranges[0].first != tmp.ranges[0].second) {
        fail("class range end is not a single character");
    }
    return tmp.ranges[0].first;
}

void Regex::parse_class(CharSet& set) {
    if (at_ < pat_.size() && pat_[at_] == '^') {
        set.negated = true;
        ++at_;
    }
    while (true) {
        if (at_ >= pat_.size()) fail("unterminated class");
        const uint32_t c = pat_[at_];
        if (c == ']') {
            ++at_;
            return;
        }
        if (c == '[') fail("nested classes are not supported");
        if (c == '\\' && at_ + 1 < pat_.size()) {
            const uint32_t e = pat_[at_ + 1];
            if (e == 's' || e == 'S' || e == 'd' || e == 'w' || e == 'p' || e == 'P' || e == 'D' ||
                e == 'W') {
                at_ += 1;
                if (!parse_escape_into(set, true)) fail("unsupported escape inside a class");
                continue;
            }
        }
        const uint32_t lo = parse_class_literal();
        uint32_t hi = lo;
        if (at_ + 1 < pat_.size() && pat_[at_] == '-' && pat_[at_ + 1] != ']') {
            ++at_;
            hi = parse_class_literal();
            if (hi < lo) fail("class range out of order");
        }
        set.ranges.emplace_back(lo, hi);
    }
}

bool Regex::resume(const Cont* k, size_t pos, const Text& t, size_t& out) const {
    if (k == nullptr) {
        out = pos;
        return true;
    }
    if (k->rep != nullptr) {
        // An iteration that consumed nothing cannot lead anywhere new; stop it looping.
        if (pos == k->rep_start && k->count > k->rep->min) return false;
        return match_repeat(*k->rep, k->count, pos, k->next, t, out);
    }
    return match_seq(*k->seq, k->idx, pos, k->next, t, out);
}

bool Regex::match_alts(const std::vector<Seq>& alts, size_t pos, const Cont* k, const Text& t,
                       size_t& out) const {
    for (const Seq& alt : alts) {
        if (match_seq(alt, 0, pos, k, t, out)) return true;
    }
    return false;
}

// Generic greedy repetition: after `count` iterations at `pos`, try one more, else go on.
bool Regex::match_repeat(const Node& node, int count, size_t pos, const Cont* k, const Text& t,
                         size_t& out) const {
    if (node.max < 0 || count < node.max) {
        Cont again;
        again.rep = &node;
        again.count = count + 1;
        again.rep_start = pos;
        again.next = k;
        if (match_seq(node.alts[0], 0, pos, &again, t, out)) return true;
    }
    return count >= node.min && resume(k, pos, t, out);
}

bool Regex::match_seq(const Seq& seq, size_t i, size_t pos, const Cont* k, const Text& t,
                      size_t& out) const {
    for (; i < seq.size(); ++i) {
        const Node& node = nodes_[size_t(seq[i])];
        switch (node.kind) {
            case Kind::kSet:
                if (pos >= t.end || !node.set.matches(t.cps[pos], t.props[pos])) return false;
                ++pos;
                break;
            case Kind::kStart:
                if (pos != t.begin) return false;
                break;
            case Kind::kEnd:
                if (pos != t.end) return false;
                break;
            case Kind::kLookahead:
            case Kind::kNegLookahead: {
                size_t ignored = 0;
                const bool hit = match_alts(node.alts, pos, nullptr, t, ignored);
                if (hit != (node.kind == Kind::kLookahead)) return false;
                break;
            }
            case Kind::kGroup: {
                Cont rest;
                rest.seq = &seq;
                rest.idx = i + 1;
                rest.next = k;
                return match_alts(node.alts, pos, &rest, t, out);
            }
            case Kind::kRepeat: {
                Cont rest;
                rest.seq = &seq;
                rest.idx = i + 1;
                rest.next = k;
                const Seq& body = node.alts[0];
                const Node& child = nodes_[size_t(body[0])];
                if (body.size() == 1 && child.kind == Kind::kSet) {
                    // Count the run, then back off one code point at a time.
                    size_t n = 0;
                    const size_t limit = node.max < 0 ? SIZE_MAX : size_t(node.max);
                    while (n < limit && pos + n < t.end &&
                           child.set.matches(t.cps[pos + n], t.props[pos + n])) {
                        ++n;
                    }
                    for (size_t c = n + 1; c-- > size_t(node.min);) {
                        if (resume(&rest, pos + c, t, out)) return true;
                    }
                    return false;
                }
                return match_repeat(node, 0, pos, &rest, t, out);
            }
        }
    }
    return resume(k, pos, t, out);
}

size_t Regex::match_at(const Text& text, size_t pos) const {
    size_t out = 0;
    return match_alts(top_, pos, nullptr, text, out) ? out : kNoMatch;
}

std::vector<size_t> Regex::split(const uint32_t* cps, const uint16_t* props,
                                 const std::vector<size_t>& fragments) const {
    std::vector<size_t> pieces;
    pieces.reserve(fragments.size() * 2);
    size_t begin = 0;
    for (size_t length : fragments) {
        const Text text{cps, props, begin, begin + length};
        size_t last = begin;  // end of the previous match
        size_t pos = begin;   // where the search for the next match starts
        while (pos < text.end) {
            size_t start = pos, end = kNoMatch;
            for (; start < text.end; ++start) {
                end = match_at(text, start);
                if (end != kNoMatch && end > start) break;  // empty matches are skipped
                end = kNoMatch;
            }
            if (end == kNoMatch) break;
            if (start > last) pieces.push_back(start - last);
            pieces.push_back(end - start);
            last = pos = end;
        }
        if (text.end > last) pieces.push_back(text.end - last);
        begin += length;
    }
    return pieces;
}

}  // namespace mmojo::tokenizer_detail
