// Regular expression (JSON Schema `pattern`) -> GBNF expression over JSON string content
// (see regex_grammar.h). Recursive descent over the pattern's code points; each matched
// code point is written the way it appears inside a JSON string ('"' as \", controls as
// \n or \u00XX), so the grammar matches the JSON text rather than the decoded string.
#include "sampling/regex_grammar.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "sampling/grammar.h"
#include "tokenizer/unicode.h"

namespace mmojo {

namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

constexpr uint32_t kMaxRepeat = 1000;

// JSON text of one code point inside a string.
std::string json_char(uint32_t cp) {
    switch (cp) {
        case '"': return "\\\"";
        case '\\': return "\\\\";
        case '\n': return "\\n";
        case '\r': return "\\r";
        case '\t': return "\\t";
        case '\b': return "\\b";
        case '\f': return "\\f";
        default: break;
    }
    if (cp < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(cp));
        return buf;
    }
    std::string out;
    unicode::append_utf8(out, cp);
    return out;
}

bool needs_json_escape(uint32_t cp) { return cp < 0x20 || cp == '"' || cp == '\\'; }

// A GBNF class body from ranges, leaving out the code points JSON must escape.
std::string class_body(const Ranges& ranges) {
    std::string body;
    for (auto [lo, hi] : ranges) {
        // Split around 0x00-0x1F, '"' (0x22) and '\' (0x5C).
        const std::pair<uint32_t, uint32_t> plain[] = {{0x20, 0x21}, {0x23, 0x5B}, {0x5D, 0x10FFFF}};
        for (auto [plo, phi] : plain) {
            const uint32_t a = std::max(lo, plo), b = std::min(hi, phi);
            if (a > b) continue;
            body += gbnf_escape_code_point(a, true);
            if (b > a) {
                body += '-';
                body += gbnf_escape_code_point(b, true);
            }
        }
    }
    return body;
}

// Positive class: the plain part as a class, each escaped character as its own literal.
std::string positive_class(const Ranges& ranges) {
    std::vector<std::string> alts;
    const std::string body = class_body(ranges);
    if (!body.empty()) alts.push_back("[" + body + "]");
    for (auto [lo, hi] : ranges) {
        for (uint32_t cp = lo; cp <= hi && cp < 0x80; ++cp) {
            if (needs_json_escape(cp)) alts.push_back(gbnf_literal(json_char(cp)));
        }
    }
    if (alts.empty()) throw RegexError("pattern: a character class matches nothing");
    if (alts.size() == 1) return alts[0];
    std::string out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
    return out + ")";
}

// Negated class: everything else except what JSON must escape (a valid subset).
std::string negated_class(const Ranges& ranges) {
    std::string body;
    for (auto [lo, hi] : ranges) {
        body += gbnf_escape_code_point(lo, true);
        if (hi > lo) {
            body += '-';
            body += gbnf_escape_code_point(hi, true);
        }
    }
    return "[^" + body + "\\x00-\\x1F\\\"\\\\]";
}

const Ranges kDigit = {{'0', '9'}};
const Ranges kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
const Ranges kSpace = {{'\t', '\r'}, {' ', ' '}};

class RegexParser {
public:
    RegexParser(std::string_view pattern, int max_depth) : max_depth_(max_depth) {
        size_t i = 0;
        while (i < pattern.size()) {
            const uint8_t b0 = uint8_t(pattern[i]);
            const size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
            if (len == 0 || i + len > pattern.size()) throw RegexError("pattern: invalid UTF-8");
            uint32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1Fu) : len == 3 ? (b0 & 0x0Fu) : (b0 & 0x07u);
            for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (uint8_t(pattern[i + k]) & 0x3Fu);
            cps_.push_back(cp);
            i += len;
        }
    }

    std::string run() {
        if (!cps_.empty() && cps_[0] == '^') ++pos_;
        size_t end = cps_.size();
        // A final unescaped '$' anchors the end (count the backslashes before it).
        if (end > pos_ && cps_[end - 1] == '$') {
            size_t n_bs = 0;
            while (end - 1 - n_bs > pos_ && cps_[end - 2 - n_bs] == '\\') ++n_bs;
            if (n_bs % 2 == 0) --end;
        }
        cps_.resize(end);
        std::string out = alternation(0);
        if (pos_ != cps_.size()) fail("unbalanced ')'");
        return out;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw RegexError("pattern: " + what + " (at character " + std::to_string(pos_ + 1) + ")");
    }
    bool at_end() const { return pos_ >= cps_.size(); }
    uint32_t peek(size_t ahead = 0) const { return pos_ + ahead < cps_.size() ? cps_[pos_ + ahead] : 0; }

    std::string alternation(int depth) {
        if (depth > max_depth_) fail("groups nested too deeply");
        std::vector<std::string> alts{sequence(depth)};
        while (!at_end() && peek() == '|') {
            ++pos_;
            alts.push_back(sequence(depth));
        }
        if (alts.size() == 1) return alts[0];
        std::string out = "(";
        for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
        return out + ")";
    }

    std::string sequence(int depth) {
        std::string out;
        while (!at_end() && peek() != '|' && peek() != ')') {
            std::string atom = this->atom(depth);
            atom += quantifier();
            out += (out.empty() ? "" : " ") + atom;
        }
        return out.empty() ? "\"\"" : out;
    }

    std::string quantifier() {
        if (at_end()) return "";
        std::string q;
        const uint32_t c = peek();
        if (c == '*' || c == '+' || c == '?') {
            ++pos_;
            q = std::string(1, char(c));
        } else if (c == '{') {
            size_t save = pos_;
            ++pos_;
            auto number = [&](uint32_t& v) {
                size_t start = pos_;
                v = 0;
                while (peek() >= '0' && peek() <= '9') {
                    v = v * 10 + (peek() - '0');
                    if (v > kMaxRepeat) fail("a repetition count above " + std::to_string(kMaxRepeat));
                    ++pos_;
                }
                return pos_ > start;
            };
            uint32_t m = 0, n = 0;
            if (!number(m)) {
                pos_ = save;   // a literal '{'
                return "";
            }
            q = "{";
            q += std::to_string(m);
            if (peek() == ',') {
                ++pos_;
                q += ",";
                if (number(n)) {
                    if (n < m) fail("a repetition {m,n} with n < m");
                    q += std::to_string(n);
                }
            }
            if (peek() != '}') {
                pos_ = save;
                return "";
            }
            ++pos_;
            q += "}";
        } else {
            return "";
        }
        if (peek() == '?') ++pos_;   // lazy: the same strings
        if (peek() == '+') fail("possessive quantifiers are not supported");
        return q;
    }

    std::string group(std::string inner) { return "(" + inner + ")"; }

    std::string atom(int depth) {
        const uint32_t c = peek();
        ++pos_;
        switch (c) {
            case '(': {
                if (peek() == '?') {
                    if (peek(1) == ':') {
                        pos_ += 2;
                    } else if (peek(1) == '<' && peek(2) != '=' && peek(2) != '!') {
                        pos_ += 2;   // named group: skip the name
                        while (!at_end() && peek() != '>') ++pos_;
                        if (at_end()) fail("unterminated group name");
                        ++pos_;
                    } else {
                        fail("lookaround and other (? groups are not supported");
                    }
                }
                std::string inner = alternation(depth + 1);
                if (peek() != ')') fail("missing ')'");
                ++pos_;
                return group(inner);
            }
            case '[': return char_class();
            case '.': return negated_class({{'\n', '\n'}, {'\r', '\r'}});
            case '^': fail("'^' is only supported at the start of the pattern");
            case '$': fail("'$' is only supported at the end of the pattern");
            case '*': case '+': case '?': fail("a quantifier with nothing to repeat");
            case '\\': return escape_atom();
            default: return gbnf_literal(json_char(c));
        }
    }

    // \d \w \s and their negations, or one escaped code point.
    std::string escape_atom() {
        if (at_end()) fail("a trailing backslash");
        const uint32_t e = peek();
        switch (e) {
            case 'd': ++pos_; return positive_class(kDigit);
            case 'w': ++pos_; return positive_class(kWord);
            case 's': ++pos_; return positive_class(kSpace);
            case 'D': ++pos_; return negated_class(kDigit);
            case 'W': ++pos_; return negated_class(kWord);
            case 'S': ++pos_; return negated_class(kSpace);
            default: return gbnf_literal(json_char(escaped_code_point()));
        }
    }

    uint32_t hex(int digits) {
        uint32_t v = 0;
        for (int i = 0; i < digits; ++i) {
            const uint32_t c = peek();
            int d = -1;
            if (c >= '0' && c <= '9') d = int(c - '0');
            if (c >= 'a' && c <= 'f') d = int(c - 'a' + 10);
            if (c >= 'A' && c <= 'F') d = int(c - 'A' + 10);
            if (d < 0) fail("expected hex digits");
            v = v * 16 + uint32_t(d);
            ++pos_;
        }
        return v;
    }

    // After a backslash: the code point it stands for.
    uint32_t escaped_code_point() {
        const uint32_t e = peek();
        ++pos_;
        switch (e) {
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case 'f': return '\f';
            case 'v': return '\v';
            case '0': return 0;
            case 'x': return hex(2);
            case 'u': {
                const uint32_t v = hex(4);
                if (v >= 0xD800 && v <= 0xDFFF) fail("surrogate escapes are not supported");
                return v;
            }
            default: break;
        }
        if (e >= '1' && e <= '9') fail("backreferences are not supported");
        if (e == 'b' || e == 'B') fail("word boundaries (\\b, \\B) are not supported");
        if (e == 'p' || e == 'P') fail("Unicode property classes are not supported");
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) fail(std::string("unknown escape \\") + char(e));
        return e;   // an escaped metacharacter or punctuation
    }

    std::string char_class() {
        bool negated = false;
        if (peek() == '^') {
            negated = true;
            ++pos_;
        }
        Ranges ranges;
        bool first = true;
        while (at_end() || peek() != ']' || first) {
            if (at_end()) fail("unterminated character class");
            first = false;
            uint32_t lo = 0;
            if (peek() == '\\') {
                ++pos_;
                const uint32_t e = peek();
                const Ranges* shorthand = e == 'd' ? &kDigit : e == 'w' ? &kWord : e == 's' ? &kSpace : nullptr;
                if (shorthand) {
                    ++pos_;
                    ranges.insert(ranges.end(), shorthand->begin(), shorthand->end());
                    continue;
                }
                if (e == 'D' || e == 'W' || e == 'S') fail("negated shorthands inside a class are not supported");
                if (e == 'b') {
                    ++pos_;
                    lo = '\b';
                } else {
                    lo = escaped_code_point();
                }
            } else {
                lo = peek();
                ++pos_;
            }
            uint32_t hi = lo;
            if (peek() == '-' && peek(1) != ']' && pos_ + 1 < cps_.size()) {
                ++pos_;
                if (peek() == '\\') {
                    ++pos_;
                    hi = escaped_code_point();
                } else {
                    hi = peek();
                    ++pos_;
                }
                if (hi < lo) fail("a class range ends below its start");
            }
            ranges.push_back({lo, hi});
        }
        ++pos_;   // ']'
        return negated ? negated_class(ranges) : positive_class(ranges);
    }

    std::vector<uint32_t> cps_;
    size_t pos_ = 0;
    int max_depth_;
};

}  // namespace

std::string regex_to_gbnf(std::string_view pattern, int max_depth) {
    return RegexParser(pattern, max_depth).run();
}

}  // namespace mmojo
