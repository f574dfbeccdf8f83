// Jinja2 tokenizer with the transformers environment's whitespace rules:
//  * newlines (\r\n, \r, \n) are normalised to \n and one final newline is dropped
//    (keep_trailing_newline=False);
//  * `{%-`, `{{-`, `{#-` strip all whitespace before the tag, `-%}`, `-}}`, `-#}` all
//    whitespace after it;
//  * trim_blocks: one newline right after `%}` or `#}` is dropped (not after `+%}`);
//  * lstrip_blocks: spaces and tabs between the start of a line and `{%` / `{#` are
//    dropped (not before `{%+`);
//  * inside brackets `}}` and `%}` are operators, not tag ends (dict literals).
// String literals follow Python's unicode-escape rules, as Jinja2's lexer does.
#include "chat/lexer.h"

#include <algorithm>
#include <cstring>

#include "chat/chat_template.h"
#include "chat/value.h"

namespace mmojo::jinja {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

class Lexer {
public:
    explicit Lexer(std::string source) : s_(std::move(source)) {
        for (size_t i = 0; i < s_.size(); ++i) {
            if (s_[i] == '\n') line_starts_.push_back(i + 1);
        }
    }

    std::vector<Token> run() {
        size_t pos = 0;
        bool line_starting = true;
        const size_t n = s_.size();
        while (pos <= n) {
            size_t tag = find_tag(pos);
            std::string text = s_.substr(pos, (tag == std::string::npos ? n : tag) - pos);
            if (tag == std::string::npos) {
                emit_text(std::move(text), pos);
                break;
            }
            char kind = s_[tag + 1];
            char mark = tag + 2 < n ? s_[tag + 2] : '\0';
            if (mark == '-') {
                while (!text.empty() && is_space(text.back())) text.pop_back();
            } else if (mark != '+' && kind != '{') {
                size_t l_pos = text.rfind('\n');
                l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
                if ((l_pos > 0 || line_starting) && l_pos < text.size() &&
                    std::all_of(text.begin() + static_cast<long>(l_pos), text.end(),
                                [](char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; })) {
                    text.resize(l_pos);
                }
            }
            emit_text(std::move(text), pos);
            size_t p = tag + 2 + ((mark == '-' || mark == '+') ? 1 : 0);
            if (kind == '#') {
                size_t end = s_.find("#}", p);
                if (end == std::string::npos) fail(tag, "missing end of comment tag");
                char end_mark = end > p ? s_[end - 1] : '\0';
                pos = finish_tag(end + 2, end_mark, true, line_starting);
            } else if (kind == '%' && is_raw_begin(p)) {
                pos = lex_raw(tag, p, line_starting);
            } else {
                pos = lex_tag(tag, p, kind == '%', line_starting);
            }
        }
        Token eof{TokenType::kEof, "", 0, 0};
        locate(n, eof);
        out_.push_back(eof);
        return std::move(out_);
    }

private:
    [[noreturn]] void fail(size_t offset, const std::string& message) {
        Token t;
        locate(offset, t);
        throw ChatTemplateError(message, t.line, t.column);
    }

    void locate(size_t offset, Token& t) const {
        auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
        t.line = static_cast<int>(it - line_starts_.begin()) + 1;
        size_t start = it == line_starts_.begin() ? 0 : *(it - 1);
        t.column = static_cast<int>(offset - start) + 1;
    }

    void push(TokenType type, std::string text, size_t offset) {
        Token t{type, std::move(text), 0, 0};
        locate(offset, t);
        out_.push_back(std::move(t));
    }

    void emit_text(std::string text, size_t offset) {
        if (!text.empty()) push(TokenType::kText, std::move(text), offset);
    }

    size_t find_tag(size_t from) const {
        size_t p = from;
        while ((p = s_.find('{', p)) != std::string::npos) {
            if (p + 1 < s_.size() && (s_[p + 1] == '{' || s_[p + 1] == '%' || s_[p + 1] == '#')) {
                return p;
            }
            ++p;
        }
        return std::string::npos;
    }

    // After a tag's closing characters at `after`: apply `-` (strip whitespace), `+`
    // (keep) or trim_blocks (drop one newline, block and comment tags only).
    size_t finish_tag(size_t after, char end_mark, bool trim, bool& line_starting) {
        size_t p = after;
        if (end_mark == '-') {
            while (p < s_.size() && is_space(s_[p])) ++p;
        } else if (end_mark != '+' && trim && p < s_.size() && s_[p] == '\n') {
            ++p;
        }
        line_starting = p > 0 && s_[p - 1] == '\n';
        return p;
    }

    bool is_raw_begin(size_t p) const {
        while (p < s_.size() && is_space(s_[p])) ++p;
        if (s_.compare(p, 3, "raw") != 0) return false;
        p += 3;
        if (p < s_.size() && is_name_char(s_[p])) return false;
        while (p < s_.size() && is_space(s_[p])) ++p;
        if (p < s_.size() && s_[p] == '-') ++p;
        return s_.compare(p, 2, "%}") == 0;
    }

    size_t lex_raw(size_t tag, size_t p, bool& line_starting) {
        size_t close = s_.find("%}", p);
        bool strip_after = s_[close - 1] == '-';
        size_t body = close + 2;
        if (strip_after) {
            while (body < s_.size() && is_space(s_[body])) ++body;
        }
        // Find {% endraw %} with optional markers.
        size_t q = body;
        while (true) {
            size_t open = s_.find("{%", q);
            if (open == std::string::npos) fail(tag, "missing end of raw directive");
            size_t r = open + 2;
            char mark = r < s_.size() ? s_[r] : '\0';
            if (mark == '-' || mark == '+') ++r;
            while (r < s_.size() && is_space(s_[r])) ++r;
            if (s_.compare(r, 6, "endraw") == 0 && !(r + 6 < s_.size() && is_name_char(s_[r + 6]))) {
                r += 6;
                while (r < s_.size() && is_space(s_[r])) ++r;
                char end_mark = '\0';
                if (r < s_.size() && (s_[r] == '-' || s_[r] == '+')) end_mark = s_[r++];
                if (s_.compare(r, 2, "%}") == 0) {
                    std::string text = s_.substr(body, open - body);
                    if (mark == '-') {
                        while (!text.empty() && is_space(text.back())) text.pop_back();
                    }
                    emit_text(std::move(text), body);
                    return finish_tag(r + 2, end_mark, true, line_starting);
                }
            }
            q = open + 2;
        }
    }

    size_t lex_tag(size_t tag, size_t p, bool block, bool& line_starting) {
        push(block ? TokenType::kBlockBegin : TokenType::kVarBegin, "", tag);
        const char* close = block ? "%}" : "}}";
        int depth = 0;
        const size_t n = s_.size();
        while (true) {
            while (p < n && is_space(s_[p])) ++p;
            if (p >= n) fail(tag, std::string("unexpected end of template, expected '") + close + "'");
            if (depth == 0) {
                char end_mark = '\0';
                size_t q = p;
                if ((s_[p] == '-' || (block && s_[p] == '+')) && s_.compare(p + 1, 2, close) == 0) {
                    end_mark = s_[p];
                    q = p + 1;
                }
                if (s_.compare(q, 2, close) == 0) {
                    push(block ? TokenType::kBlockEnd : TokenType::kVarEnd, "", p);
                    return finish_tag(q + 2, end_mark, block, line_starting);
                }
            }
            char c = s_[p];
            size_t start = p;
            if (is_name_start(c)) {
                while (p < n && is_name_char(s_[p])) ++p;
                push(TokenType::kName, s_.substr(start, p - start), start);
            } else if (is_digit(c)) {
                p = lex_number(p);
            } else if (c == '\'' || c == '"') {
                p = lex_string(p);
            } else {
                static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-",
                                                   "*",  "/",  "%",  "~",  "<",  ">",  "=", "(",
                                                   ")",  "[",  "]",  "{",  "}",  ",",  ".", ":",
                                                   "|"};
                const char* found = nullptr;
                for (const char* op : kOps) {
                    if (s_.compare(p, std::strlen(op), op) == 0) {
                        found = op;
                        break;
                    }
                }
                if (!found) {
                    fail(p, std::string("unexpected char '") + c + "' in expression");
                }
                std::string op(found);
                if (op == "(" || op == "[" || op == "{") ++depth;
                if ((op == ")" || op == "]" || op == "}") && depth > 0) --depth;
                p += op.size();
                push(TokenType::kOperator, op, start);
            }
        }
    }

    size_t lex_number(size_t p) {
        const size_t n = s_.size();
        size_t start = p;
        auto digits = [&] {
            while (p < n && (is_digit(s_[p]) || (s_[p] == '_' && p + 1 < n && is_digit(s_[p + 1])))) ++p;
        };
        digits();
        bool is_float = false;
        bool after_dot = !out_.empty() && out_.back().type == TokenType::kOperator &&
                         out_.back().text == ".";
        if (!after_dot) {
            if (p + 1 < n && s_[p] == '.' && is_digit(s_[p + 1])) {
                ++p;
                digits();
                is_float = true;
            }
            if (p < n && (s_[p] == 'e' || s_[p] == 'E')) {
                size_t q = p + 1;
                if (q < n && (s_[q] == '+' || s_[q] == '-')) ++q;
                if (q < n && is_digit(s_[q])) {
                    p = q;
                    digits();
                    is_float = true;
                }
            }
        }
        std::string text = s_.substr(start, p - start);
        text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
        push(is_float ? TokenType::kFloat : TokenType::kInt, text, start);
        return p;
    }

    size_t lex_string(size_t p) {
        const size_t n = s_.size();
        char quote = s_[p];
        size_t start = p++;
        std::string value;
        while (true) {
            if (p >= n) fail(start, "unexpected end of string literal");
            char c = s_[p];
            if (c == quote) break;
            if (c != '\\') {
                value += c;
                ++p;
                continue;
            }
            if (p + 1 >= n) fail(start, "unexpected end of string literal");
            char e = s_[p + 1];
            p += 2;
            auto hex = [&](int count) -> char32_t {
                char32_t v = 0;
                for (int i = 0; i < count; ++i) {
                    char h = p < n ? s_[p] : '\0';
                    int d = is_digit(h) ? h - '0'
                            : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                            : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                                     : -1;
                    if (d < 0) fail(start, "truncated \\x, \\u or \\U escape in string literal");
                    v = v * 16 + static_cast<char32_t>(d);
                    ++p;
                }
                return v;
            };
            switch (e) {
                case '\n': break;  // line continuation
                case '\\': value += '\\'; break;
                case '\'': value += '\''; break;
                case '"': value += '"'; break;
                case 'a': value += '\a'; break;
                case 'b': value += '\b'; break;
                case 'f': value += '\f'; break;
                case 'n': value += '\n'; break;
                case 'r': value += '\r'; break;
                case 't': value += '\t'; break;
                case 'v': value += '\v'; break;
                case 'x': utf8_append(value, hex(2)); break;
                case 'u': {
                    char32_t c16 = hex(4);
                    utf8_append(value, c16 >= 0xd800 && c16 <= 0xdfff ? 0xfffd : c16);
                    break;
                }
                case 'U': {
                    char32_t c32 = hex(8);
                    if (c32 > 0x10ffff) fail(start, "illegal Unicode character in string literal");
                    utf8_append(value, c32 >= 0xd800 && c32 <= 0xdfff ? 0xfffd : c32);
                    break;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        char32_t v = static_cast<char32_t>(e - '0');
                        for (int i = 0; i < 2 && p < n && s_[p] >= '0' && s_[p] <= '7'; ++i, ++p) {
                            v = v * 8 + static_cast<char32_t>(s_[p] - '0');
                        }
                        utf8_append(value, v);
                    } else {
                        value += '\\';
                        value += e;
                    }
            }
        }
        push(TokenType::kString, std::move(value), start);
        return p + 1;
    }

    std::string s_;
    std::vector<size_t> line_starts_;
    std::vector<Token> out_;
};

std::string normalize_newlines(const std::string& source) {
    std::string out;
    out.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            out += '\n';
            if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
        } else {
            out += source[i];
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();  // keep_trailing_newline=False
    return out;
}

}  // namespace

std::vector<Token> tokenize(const std::string& source) {
    return Lexer(normalize_newlines(source)).run();
}

}  // namespace mmojo::jinja
