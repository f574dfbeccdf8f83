// GBNF parser (see grammar.h): recursive descent over the source into rules of
// alternatives of items, then a check that every rule is defined and none is left-recursive,
// then the flat element array. Facts of the syntax from llama.cpp's grammars/README.md.
#include "sampling/grammar.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

namespace mmojo {

bool CharClass::contains_slow(uint32_t cp) const {
    // Ranges are sorted and disjoint: binary search for the last range starting <= cp.
    auto it = std::upper_bound(ranges.begin(), ranges.end(), cp,
                               [](uint32_t v, const std::pair<uint32_t, uint32_t>& r) { return v < r.first; });
    bool in = it != ranges.begin() && cp <= std::prev(it)->second;
    return in != negated;
}

bool CharClass::intersects(uint32_t lo, uint32_t hi) const {
    // Ranges are disjoint: [lo, hi] meets the listed set iff some range overlaps it; it
    // meets the complement iff the listed ranges do not cover all of it.
    uint32_t covered_to = lo;   // [lo, covered_to) is covered by listed ranges so far
    for (const auto& [a, b] : ranges) {
        if (b < lo || a > hi) continue;
        if (!negated) return true;
        if (a > covered_to) return true;
        covered_to = std::max(covered_to, b + 1);
        if (covered_to > hi) return false;
    }
    return negated;
}

void CharClass::finish() {
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<uint32_t, uint32_t>> merged;
    for (const auto& r : ranges) {
        if (!merged.empty() && r.first <= merged.back().second + 1) {
            merged.back().second = std::max(merged.back().second, r.second);
        } else {
            merged.push_back(r);
        }
    }
    ranges = std::move(merged);
    ascii[0] = ascii[1] = 0;
    for (uint32_t cp = 0; cp < 128; ++cp) {
        if (contains_slow(cp)) ascii[cp >> 6] |= uint64_t(1) << (cp & 63);
    }
}

namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;

struct Item {
    GrammarOp op;   // kChar or kRef
    uint32_t arg;
};
using Sequence = std::vector<Item>;
using Alternatives = std::vector<Sequence>;

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

class Parser {
public:
    Parser(std::string_view src, const GrammarLimits& limits) : src_(src), limits_(limits) {}

    std::shared_ptr<const Grammar> run(const std::string& root_name) {
        if (src_.size() > limits_.max_source_bytes) {
            throw GrammarError("grammar: the source is " + std::to_string(src_.size()) + " bytes, more than the " +
                               std::to_string(limits_.max_source_bytes) + " allowed");
        }
        for (;;) {
            skip_space(true);
            if (at_end()) break;
            const size_t name_pos = pos_;
            const std::string name = parse_name();
            skip_space(false);
            if (src_.substr(pos_, 3) != "::=") fail("expected '::=' after the rule name '" + name + "'");
            pos_ += 3;
            skip_space(true);
            const uint32_t rule = rule_index(name, name_pos);
            if (defined_[rule]) fail_at(name_pos, "the rule '" + name + "' is defined twice");
            defined_[rule] = true;
            bodies_[rule] = parse_alternatives(rule, 0);
            skip_space(false);
            if (!at_end() && peek() != '\n' && peek() != '\r') {
                fail(std::string("unexpected '") + peek() + "' (a rule ends at the end of its line)");
            }
        }
        if (names_.empty()) throw GrammarError("grammar: the grammar defines no rules");
        for (size_t i = 0; i < names_.size(); ++i) {
            if (!defined_[i]) fail_at(first_use_[i], "the rule '" + names_[i] + "' is used but not defined");
        }
        auto root = by_name_.find(root_name);
        if (root == by_name_.end()) throw GrammarError("grammar: there is no '" + root_name + "' rule to start from");
        check_left_recursion();
        return compile(root->second);
    }

private:
    // --- errors ---------------------------------------------------------------------------
    [[noreturn]] void fail_at(size_t at, const std::string& what) const {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < at && i < src_.size(); ++i) {
            if (src_[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        throw GrammarError("grammar: line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + what);
    }
    [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }

    // --- lexing ---------------------------------------------------------------------------
    bool at_end() const { return pos_ >= src_.size(); }
    char peek(size_t ahead = 0) const { return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0'; }

    // Spaces, tabs and comments; newlines too when `newlines`. A comment's newline counts
    // as a newline.
    void skip_space(bool newlines) {
        while (!at_end()) {
            const char c = peek();
            if (c == ' ' || c == '\t') {
                ++pos_;
            } else if (c == '#') {
                while (!at_end() && peek() != '\n' && peek() != '\r') ++pos_;
            } else if (newlines && (c == '\n' || c == '\r')) {
                ++pos_;
            } else {
                break;
            }
        }
    }

    bool at_line_end() const { return at_end() || peek() == '\n' || peek() == '\r'; }

    // Whether the next non-blank line begins `name ::=` (or the grammar ends).
    bool next_line_starts_rule() {
        const size_t save = pos_;
        skip_space(true);
        size_t p = pos_;
        while (p < src_.size() && is_name_char(src_[p])) ++p;
        const bool named = p > pos_;
        while (p < src_.size() && (src_[p] == ' ' || src_[p] == '\t')) ++p;
        const bool result = at_end() || (named && src_.substr(p, 3) == "::=");
        pos_ = save;
        return result;
    }

    std::string parse_name() {
        const size_t start = pos_;
        while (!at_end() && is_name_char(peek())) ++pos_;
        if (pos_ == start) {
            if (at_end()) fail("expected a rule name");
            fail(std::string("expected a rule name, found '") + peek() + "'");
        }
        return std::string(src_.substr(start, pos_ - start));
    }

    uint32_t parse_hex(int digits) {
        uint32_t v = 0;
        for (int i = 0; i < digits; ++i) {
            const char c = peek();
            int d = -1;
            if (c >= '0' && c <= '9') d = c - '0';
            if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
            if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
            if (d < 0) fail("expected " + std::to_string(digits) + " hex digits in an escape");
            v = v * 16 + uint32_t(d);
            ++pos_;
        }
        if (v > kMaxCodePoint) fail("the escape names a code point above U+10FFFF");
        return v;
    }

    // One character of a literal or class: an escape or one UTF-8 encoded code point.
    uint32_t parse_char() {
        if (at_end()) fail("unexpected end of the grammar");
        const char c = peek();
        if (c == '\\') {
            ++pos_;
            const char e = peek();
            ++pos_;
            switch (e) {
                case 'n': return '\n';
                case 'r': return '\r';
                case 't': return '\t';
                case '0': return 0;
                case '\\': case '"': case '\'': case '[': case ']': case '-': case '^': case '.': case '/': return uint32_t(uint8_t(e));
                case 'x': return parse_hex(2);
                case 'u': return parse_hex(4);
                case 'U': return parse_hex(8);
                default: fail_at(pos_ - 2, std::string("unknown escape '\\") + e + "'");
            }
        }
        return parse_utf8();
    }

    // One UTF-8 encoded code point (RFC 3629: no overlong forms, no surrogates).
    uint32_t parse_utf8() {
        const uint8_t b0 = uint8_t(peek());
        int len = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
        if (len == 0) fail("invalid UTF-8 in the grammar");
        uint32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1Fu) : len == 3 ? (b0 & 0x0Fu) : (b0 & 0x07u);
        for (int i = 1; i < len; ++i) {
            const uint8_t b = uint8_t(peek(size_t(i)));
            if ((b >> 6) != 2) fail("invalid UTF-8 in the grammar");
            cp = (cp << 6) | (b & 0x3Fu);
        }
        static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[len] || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) {
            fail("invalid UTF-8 in the grammar");
        }
        pos_ += size_t(len);
        return cp;
    }

    // --- building -------------------------------------------------------------------------
    uint32_t rule_index(const std::string& name, size_t at) {
        auto it = by_name_.find(name);
        if (it != by_name_.end()) return it->second;
        return new_rule(name, at);
    }

    uint32_t new_rule(const std::string& name, size_t at) {
        if (names_.size() >= limits_.max_rules) {
            fail_at(at, "the grammar needs more than " + std::to_string(limits_.max_rules) + " rules");
        }
        const uint32_t i = uint32_t(names_.size());
        names_.push_back(name);
        by_name_.emplace(name, i);
        bodies_.emplace_back();
        defined_.push_back(false);
        first_use_.push_back(at);
        return i;
    }

    uint32_t generated_rule(uint32_t owner, Alternatives body) {
        const uint32_t r = new_rule(names_[owner] + "_" + std::to_string(++generated_), pos_);
        defined_[r] = true;
        for (const auto& seq : body) count(seq.size() + 1);
        bodies_[r] = std::move(body);
        return r;
    }

    void count(size_t n) {
        n_elements_ += n;
        if (n_elements_ > limits_.max_elements) {
            fail("the grammar compiles to more than " + std::to_string(limits_.max_elements) + " elements");
        }
    }

    uint32_t class_index(CharClass cls) {
        cls.finish();
        std::string key(cls.negated ? "^" : "");
        for (const auto& [lo, hi] : cls.ranges) key += std::to_string(lo) + "-" + std::to_string(hi) + ",";
        auto it = class_by_key_.find(key);
        if (it != class_by_key_.end()) return it->second;
        const uint32_t i = uint32_t(classes_.size());
        classes_.push_back(std::move(cls));
        class_by_key_.emplace(std::move(key), i);
        return i;
    }

    uint32_t single_char(uint32_t cp) {
        CharClass c;
        c.ranges.push_back({cp, cp});
        return class_index(std::move(c));
    }

    Alternatives parse_alternatives(uint32_t owner, int depth) {
        Alternatives alts;
        alts.push_back(parse_sequence(owner, depth));
        for (;;) {
            // `|` may start the next line of a rule as well as continue the current one.
            const size_t save = pos_;
            skip_space(true);
            if (peek() != '|') {
                pos_ = save;
                break;
            }
            ++pos_;
            skip_space(false);
            // `a ::= "x" |` at the end of a line: an empty last alternative, unless the
            // next line goes on with the rule.
            if (depth > 0 || !at_line_end() || !next_line_starts_rule()) skip_space(true);
            alts.push_back(parse_sequence(owner, depth));
        }
        for (const auto& seq : alts) count(seq.size() + 1);
        return alts;
    }

    Sequence parse_sequence(uint32_t owner, int depth) {
        Sequence seq;
        size_t last_start = 0;   // where the last repeatable unit begins in seq
        bool have_last = false;
        for (;;) {
            skip_space(depth > 0);
            if (at_end()) break;
            const char c = peek();
            if (c == '"') {
                ++pos_;
                last_start = seq.size();
                while (peek() != '"') {
                    if (at_end() || peek() == '\n') fail("unterminated literal");
                    seq.push_back({GrammarOp::kChar, single_char(parse_char())});
                }
                ++pos_;
                have_last = seq.size() > last_start;
            } else if (c == '[') {
                last_start = seq.size();
                seq.push_back({GrammarOp::kChar, parse_class()});
                have_last = true;
            } else if (c == '.') {
                ++pos_;
                CharClass any;
                any.negated = true;
                last_start = seq.size();
                seq.push_back({GrammarOp::kChar, class_index(std::move(any))});
                have_last = true;
            } else if (c == '(') {
                if (depth + 1 > limits_.max_depth) {
                    fail("groups are nested deeper than " + std::to_string(limits_.max_depth));
                }
                ++pos_;
                skip_space(true);
                Alternatives inner = parse_alternatives(owner, depth + 1);
                skip_space(true);
                if (peek() != ')') fail("expected ')' to close the group");
                ++pos_;
                last_start = seq.size();
                seq.push_back({GrammarOp::kRef, generated_rule(owner, std::move(inner))});
                have_last = true;
            } else if (is_name_char(c)) {
                const size_t at = pos_;
                const std::string name = parse_name();
                const size_t save = pos_;
                skip_space(false);
                if (src_.substr(pos_, 3) == "::=") fail_at(at, "a new rule must start on its own line");
                pos_ = save;
                last_start = seq.size();
                seq.push_back({GrammarOp::kRef, rule_index(name, at)});
                have_last = true;
            } else if (is_repeat_start(c)) {
                if (!have_last) fail(std::string("'") + c + "' has nothing before it to repeat");
                apply_repeat(owner, seq, last_start);
                have_last = false;   // x** is refused, as in llama.cpp
            } else {
                break;
            }
        }
        return seq;
    }

    static bool is_repeat_start(char c) { return c == '*' || c == '+' || c == '?' || c == '{'; }

    uint32_t parse_count() {
        skip_space(false);
        uint64_t v = 0;
        const size_t start = pos_;
        while (peek() >= '0' && peek() <= '9') {
            v = v * 10 + uint64_t(peek() - '0');
            if (v > limits_.max_repeat) fail("a repetition count is above " + std::to_string(limits_.max_repeat));
            ++pos_;
        }
        if (pos_ == start) fail("expected a number in '{m,n}'");
        skip_space(false);
        return uint32_t(v);
    }

    // Rewrites the unit seq[last_start] (one item: literals and groups were made one) with
    // its repetition, using generated rules:  x* -> r ::= x r |   ;  x? -> r ::= x |  ;
    // x+ -> x x*  ;  x{m,n} -> m copies of x then n-m nested optionals.
    // A literal of several characters is repeated as a whole, as a group would be.
    void apply_repeat(uint32_t owner, Sequence& seq, size_t last_start) {
        Item x = seq[last_start];
        if (seq.size() - last_start > 1) {
            Sequence unit(seq.begin() + ptrdiff_t(last_start), seq.end());
            x = {GrammarOp::kRef, generated_rule(owner, {unit})};
        }
        seq.resize(last_start);
        const char c = peek();
        ++pos_;
        uint32_t min = 0, max = 0;
        bool unbounded = false;
        if (c == '*') {
            unbounded = true;
        } else if (c == '+') {
            min = 1;
            unbounded = true;
        } else if (c == '?') {
            max = 1;
        } else {
            min = parse_count();
            if (peek() == ',') {
                ++pos_;
                skip_space(false);
                if (peek() == '}') {
                    unbounded = true;
                } else {
                    max = parse_count();
                }
            } else {
                max = min;
            }
            if (peek() != '}') fail("expected '}' to close the repetition");
            ++pos_;
            if (!unbounded && max < min) fail("a repetition {m,n} needs m <= n");
        }
        count(min);
        for (uint32_t i = 0; i < min; ++i) seq.push_back(x);
        if (unbounded) {
            const uint32_t star = new_rule(names_[owner] + "_" + std::to_string(++generated_), pos_);
            defined_[star] = true;
            bodies_[star] = {{x, {GrammarOp::kRef, star}}, {}};
            count(4);
            seq.push_back({GrammarOp::kRef, star});
            return;
        }
        // Optional tail, innermost first: opt1 ::= x | ; optk ::= x opt(k-1) | .
        uint32_t tail = 0;
        bool have_tail = false;
        for (uint32_t k = min; k < max; ++k) {
            Sequence s{x};
            if (have_tail) s.push_back({GrammarOp::kRef, tail});
            tail = generated_rule(owner, {s, {}});
            have_tail = true;
        }
        if (have_tail) seq.push_back({GrammarOp::kRef, tail});
    }

    uint32_t parse_class() {
        const size_t start = pos_;
        ++pos_;   // '['
        CharClass cls;
        if (peek() == '^') {
            cls.negated = true;
            ++pos_;
        }
        while (peek() != ']') {
            if (at_end() || peek() == '\n') fail_at(start, "unterminated character class");
            const uint32_t lo = parse_char();
            uint32_t hi = lo;
            if (peek() == '-' && peek(1) != ']' && peek(1) != '\n' && pos_ + 1 < src_.size()) {
                ++pos_;
                hi = parse_char();
                if (hi < lo) fail("a character range ends below its start");
            }
            cls.ranges.push_back({lo, hi});
        }
        ++pos_;
        if (cls.ranges.empty()) fail_at(start, "empty character class");
        return class_index(std::move(cls));
    }

    // --- checks and output ----------------------------------------------------------------
    // A rule that can reach itself before consuming a character would make the matcher
    // expand forever: refuse it, looking through rules that can match the empty string.
    void check_left_recursion() const {
        const size_t n = names_.size();
        std::vector<bool> nullable(n, false);
        for (bool changed = true; changed;) {
            changed = false;
            for (size_t r = 0; r < n; ++r) {
                if (nullable[r]) continue;
                for (const auto& seq : bodies_[r]) {
                    bool all = true;
                    for (const Item& it : seq) {
                        if (it.op == GrammarOp::kChar || !nullable[it.arg]) {
                            all = false;
                            break;
                        }
                    }
                    if (all) {
                        nullable[r] = changed = true;
                        break;
                    }
                }
            }
        }
        std::vector<std::vector<uint32_t>> first(n);   // rules reachable before any character
        for (size_t r = 0; r < n; ++r) {
            for (const auto& seq : bodies_[r]) {
                for (const Item& it : seq) {
                    if (it.op == GrammarOp::kChar) break;
                    first[r].push_back(it.arg);
                    if (!nullable[it.arg]) break;
                }
            }
        }
        // Iterative depth-first search: 0 new, 1 on the path, 2 done.
        std::vector<uint8_t> color(n, 0);
        std::vector<std::pair<uint32_t, size_t>> stack;
        for (size_t s = 0; s < n; ++s) {
            if (color[s]) continue;
            stack.push_back({uint32_t(s), 0});
            color[s] = 1;
            while (!stack.empty()) {
                auto& [r, next] = stack.back();
                if (next == first[r].size()) {
                    color[r] = 2;
                    stack.pop_back();
                    continue;
                }
                const uint32_t to = first[r][next++];
                if (color[to] == 1) {
                    throw GrammarError("grammar: the rule '" + names_[to] +
                                       "' is left-recursive (it can reach itself without matching a character)");
                }
                if (color[to] == 0) {
                    color[to] = 1;
                    stack.push_back({to, 0});
                }
            }
        }
    }

    std::shared_ptr<const Grammar> compile(uint32_t root) {
        auto g = std::make_shared<Grammar>();
        g->root = root;
        g->rule_names = names_;
        g->classes = std::move(classes_);
        g->rule_alts.resize(names_.size());
        g->elements.reserve(n_elements_);
        for (size_t r = 0; r < names_.size(); ++r) {
            for (const auto& seq : bodies_[r]) {
                g->rule_alts[r].push_back(uint32_t(g->elements.size()));
                for (const Item& it : seq) g->elements.push_back({it.op, it.arg});
                g->elements.push_back({GrammarOp::kEnd, 0});
            }
        }
        return g;
    }

    std::string_view src_;
    GrammarLimits limits_;
    size_t pos_ = 0;
    std::vector<std::string> names_;
    std::unordered_map<std::string, uint32_t> by_name_;
    std::vector<Alternatives> bodies_;
    std::vector<bool> defined_;
    std::vector<size_t> first_use_;
    std::vector<CharClass> classes_;
    std::unordered_map<std::string, uint32_t> class_by_key_;
    size_t n_elements_ = 0;
    uint32_t generated_ = 0;
};

}  // namespace

std::string gbnf_escape_code_point(uint32_t cp, bool in_class) {
    const bool special = cp == '"' || cp == '\\' || (in_class && (cp == ']' || cp == '[' || cp == '-' || cp == '^'));
    if (cp >= 0x20 && cp < 0x7F && !special) return std::string(1, char(cp));
    if (special) return std::string("\\") + char(cp);
    char buf[16];
    if (cp < 0x100) {
        std::snprintf(buf, sizeof buf, "\\x%02X", unsigned(cp));
    } else if (cp < 0x10000) {
        std::snprintf(buf, sizeof buf, "\\u%04X", unsigned(cp));
    } else {
        std::snprintf(buf, sizeof buf, "\\U%08X", unsigned(cp));
    }
    return buf;
}

std::string gbnf_literal(std::string_view text) {
    std::string out = "\"";
    size_t i = 0;
    while (i < text.size()) {
        const uint8_t b0 = uint8_t(text[i]);
        const size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > text.size()) throw GrammarError("gbnf_literal: invalid UTF-8 in the text");
        uint32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1Fu) : len == 3 ? (b0 & 0x0Fu) : (b0 & 0x07u);
        for (size_t k = 1; k < len; ++k) {
            const uint8_t b = uint8_t(text[i + k]);
            if ((b >> 6) != 2) throw GrammarError("gbnf_literal: invalid UTF-8 in the text");
            cp = (cp << 6) | (b & 0x3Fu);
        }
        out += gbnf_escape_code_point(cp, false);
        i += len;
    }
    return out + "\"";
}

std::shared_ptr<const Grammar> Grammar::parse(std::string_view source, const std::string& root_rule,
                                              const GrammarLimits& limits) {
    return Parser(source, limits).run(root_rule);
}

}  // namespace mmojo
