// Args-file parsers (text and flat YAML) and the layering of embedded file, adjacent file
// and command line. See args_file.h for both syntaxes.
#include "package/args_file.h"

#include <algorithm>
#include <cctype>

#include "tokenizer/unicode.h"

namespace mmojo {

ArgsFileError::ArgsFileError(const std::string& source, size_t line, size_t column,
                             const std::string& why)
    : std::runtime_error(source + ":" + std::to_string(line) + ":" + std::to_string(column) +
                         ": " + why),
      source_(source),
      line_(line),
      column_(column) {}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view strip_bom(std::string_view text) {
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    return text;
}

// Tracks line and column while scanning the text form.
class Cursor {
public:
    Cursor(std::string_view text, const std::string& source) : text_(text), source_(source) {}
    bool done() const { return pos_ >= text_.size(); }
    char peek() const { return text_[pos_]; }
    char next() {
        const char c = text_[pos_++];
        if (c == '\n') {
            ++line_;
            col_ = 1;
        } else {
            ++col_;
        }
        return c;
    }
    size_t line() const { return line_; }
    size_t col() const { return col_; }
    [[noreturn]] void fail(size_t line, size_t col, const std::string& why) const {
        throw ArgsFileError(source_, line, col, why);
    }

private:
    std::string_view text_;
    const std::string& source_;
    size_t pos_ = 0;
    size_t line_ = 1;
    size_t col_ = 1;
};

}  // namespace

ParsedArgs parse_args_text(std::string_view text, const std::string& source) {
    ParsedArgs out;
    Cursor c(strip_bom(text), source);
    size_t marker_line = 0, marker_col = 0;
    while (!c.done()) {
        if (is_space(c.peek())) {
            c.next();
            continue;
        }
        if (c.peek() == '#') {
            while (!c.done() && c.peek() != '\n') c.next();
            continue;
        }
        const size_t word_line = c.line(), word_col = c.col();
        std::string word;
        bool quoted = false;
        while (!c.done() && !is_space(c.peek())) {
            const char ch = c.peek();
            if (ch == '\0') c.fail(c.line(), c.col(), "NUL byte in args file");
            if (ch == '\'' || ch == '"') {
                const size_t ql = c.line(), qc = c.col();
                c.next();
                quoted = true;
                for (;;) {
                    if (c.done()) {
                        c.fail(ql, qc, std::string("unterminated ") +
                                           (ch == '\'' ? "single" : "double") + " quote");
                    }
                    const char q = c.next();
                    if (q == ch) break;
                    if (q == '\0') c.fail(c.line(), c.col() - 1, "NUL byte in args file");
                    if (ch == '"' && q == '\\' && !c.done() && (c.peek() == '"' || c.peek() == '\\')) {
                        word += c.next();
                        continue;
                    }
                    word += q;
                }
                continue;
            }
            word += c.next();
        }
        if (!quoted && word == "...") {
            if (out.insert_at) {
                c.fail(word_line, word_col,
                       "second '...' marker (the first is at line " + std::to_string(marker_line) +
                           ", column " + std::to_string(marker_col) + ")");
            }
            out.insert_at = out.args.size();
            marker_line = word_line;
            marker_col = word_col;
            continue;
        }
        out.args.push_back(std::move(word));
    }
    return out;
}

namespace {

// Flat YAML parser, one line at a time.
class YamlParser {
public:
    YamlParser(std::string_view text, const std::string& source) : text_(strip_bom(text)), source_(source) {}

    ParsedArgs run() {
        size_t start = 0;
        while (start <= text_.size()) {
            size_t end = text_.find('\n', start);
            if (end == std::string_view::npos) end = text_.size();
            std::string_view line = text_.substr(start, end - start);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            ++line_no_;
            parse_line(line);
            if (end == text_.size()) break;
            start = end + 1;
        }
        finish_key();
        return std::move(out_);
    }

private:
    [[noreturn]] void fail(size_t col0, const std::string& why) const {
        throw ArgsFileError(source_, line_no_, col0 + 1, why);
    }

    static size_t skip_spaces(std::string_view s, size_t i) {
        while (i < s.size() && s[i] == ' ') ++i;
        return i;
    }

    // True if only spaces and an optional comment remain from i.
    static bool rest_is_empty(std::string_view s, size_t i) {
        i = skip_spaces(s, i);
        return i >= s.size() || s[i] == '#';
    }

    void parse_line(std::string_view line) {
        if (line.find('\0') != std::string_view::npos) fail(line.find('\0'), "NUL byte in args file");
        size_t indent = 0;
        while (indent < line.size() && (line[indent] == ' ' || line[indent] == '\t')) {
            if (line[indent] == '\t') fail(indent, "tab used for indentation (YAML allows only spaces)");
            ++indent;
        }
        if (rest_is_empty(line, indent)) return;
        if (indent == 0 && (line == "---" || line.substr(0, 4) == "--- ")) {
            if (seen_content_) fail(0, "'---' starts a second YAML document; only one is supported");
            if (!rest_is_empty(line, 3)) fail(4, "unexpected content after '---'");
            return;
        }
        if (indent == 0 && (line == "..." || line.substr(0, 4) == "... ")) {
            if (!rest_is_empty(line, 3)) fail(4, "unexpected content after '...'");
            finish_key();
            if (out_.insert_at) {
                fail(0, "second '...' marker (the first is at line " + std::to_string(marker_line_) + ")");
            }
            out_.insert_at = out_.args.size();
            marker_line_ = line_no_;
            seen_content_ = true;
            return;
        }
        seen_content_ = true;
        if (line[indent] == '-' && (indent + 1 == line.size() || line[indent + 1] == ' ')) {
            if (indent == 0 && pending_key_.empty()) {
                fail(indent, "list item without a key above it (expected 'key: value')");
            }
            if (pending_key_.empty()) fail(indent, "list item does not belong to a key");
            if (list_indent_ && *list_indent_ != indent) {
                fail(indent, "list items of '" + pending_key_ + "' are indented inconsistently");
            }
            list_indent_ = indent;
            const size_t v = skip_spaces(line, indent + 1);
            if (v >= line.size() || line[v] == '#') fail(v, "empty list item");
            std::string value;
            const size_t after = scalar(line, v, value, "list item");
            if (!rest_is_empty(line, after)) fail(after, "unexpected text after the list item");
            out_.args.push_back(flag_name(pending_key_));
            out_.args.push_back(std::move(value));
            pending_had_items_ = true;
            return;
        }
        if (indent > 0) fail(indent, "unexpected indentation (only flat 'key: value' lines and '- item' lists are supported)");
        finish_key();
        // key
        size_t i = 0;
        while (i < line.size() && line[i] != ':' && line[i] != ' ' && line[i] != '#') {
            const unsigned char ch = static_cast<unsigned char>(line[i]);
            if (!(std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.')) {
                fail(i, std::string("character '") + line[i] + "' is not allowed in a key (keys are flag names such as ctx-size)");
            }
            ++i;
        }
        if (i == 0) fail(0, "expected a key (a flag name such as ctx-size)");
        const std::string key(line.substr(0, i));
        if (i >= line.size() || line[i] != ':') {
            fail(i, "expected ':' after key '" + key + "'");
        }
        ++i;
        if (i < line.size() && line[i] != ' ') fail(i, "expected a space after ':'");
        const size_t v = skip_spaces(line, i);
        if (v >= line.size() || line[v] == '#') {
            pending_key_ = key;  // plain flag, unless list items follow
            pending_had_items_ = false;
            list_indent_.reset();
            return;
        }
        if (line[v] == '[') {
            flow_list(line, v, key);
            return;
        }
        std::string value;
        const bool plain = line[v] != '"' && line[v] != '\'';
        const size_t after = scalar(line, v, value, "value");
        if (!rest_is_empty(line, after)) fail(after, "unexpected text after the value of '" + key + "'");
        if (plain && (value == "true" || value == "null" || value == "~")) {
            out_.args.push_back(flag_name(key));
        } else if (plain && value == "false") {
            // flag left out
        } else {
            out_.args.push_back(flag_name(key));
            out_.args.push_back(std::move(value));
        }
    }

    void finish_key() {
        if (!pending_key_.empty() && !pending_had_items_) out_.args.push_back(flag_name(pending_key_));
        pending_key_.clear();
        pending_had_items_ = false;
        list_indent_.reset();
    }

    static std::string flag_name(const std::string& key) {
        if (key[0] == '-') return key;
        return (key.size() == 1 ? "-" : "--") + key;
    }

    // Parses a scalar at s[i]; returns the index after it. Plain scalars end at " #" or,
    // inside a flow list, at ',' or ']'.
    size_t scalar(std::string_view s, size_t i, std::string& value, const char* what, bool in_flow = false) {
        const char c = s[i];
        if (c == '\'') {
            size_t j = i + 1;
            for (;;) {
                if (j >= s.size()) fail(i, "unterminated single quote");
                if (s[j] == '\'') {
                    if (j + 1 < s.size() && s[j + 1] == '\'') {
                        value += '\'';
                        j += 2;
                        continue;
                    }
                    return j + 1;
                }
                value += s[j++];
            }
        }
        if (c == '"') {
            size_t j = i + 1;
            for (;;) {
                if (j >= s.size()) fail(i, "unterminated double quote");
                const char ch = s[j];
                if (ch == '"') return j + 1;
                if (ch != '\\') {
                    value += ch;
                    ++j;
                    continue;
                }
                if (j + 1 >= s.size()) fail(j, "backslash at the end of the line");
                const char e = s[j + 1];
                j += 2;
                switch (e) {
                    case 'n': value += '\n'; break;
                    case 't': value += '\t'; break;
                    case 'r': value += '\r'; break;
                    case '0': value += '\0'; break;
                    case '"': value += '"'; break;
                    case '\\': value += '\\'; break;
                    case '/': value += '/'; break;
                    case ' ': value += ' '; break;
                    case 'x': case 'u': case 'U': {
                        const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                        if (s.size() - j < n) fail(j - 2, std::string("\\") + e + " needs " + std::to_string(n) + " hex digits");
                        uint32_t cp = 0;
                        for (size_t k = 0; k < n; ++k) {
                            const unsigned char h = static_cast<unsigned char>(s[j + k]);
                            if (!std::isxdigit(h)) fail(j + k, std::string("'") + s[j + k] + "' is not a hex digit");
                            cp = cp * 16 + uint32_t(std::isdigit(h) ? h - '0' : (std::tolower(h) - 'a' + 10));
                        }
                        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail(j - 2, "escape is not a valid Unicode code point");
                        unicode::append_utf8(value, cp);
                        j += n;
                        break;
                    }
                    default:
                        fail(j - 2, std::string("unknown escape '\\") + e + "'");
                }
            }
        }
        static const std::string reserved = "{&*!|>@`%";
        if (reserved.find(c) != std::string::npos) {
            fail(i, std::string("a ") + what + " starting with '" + c +
                        "' is not supported in this flat YAML subset (quote it)");
        }
        size_t j = i;
        while (j < s.size()) {
            if (s[j] == '#' && j > i && s[j - 1] == ' ') break;
            if (in_flow && (s[j] == ',' || s[j] == ']')) break;
            if (s[j] == ':' && (j + 1 == s.size() || s[j + 1] == ' ')) {
                fail(j, "nested mappings are not supported (quote the value if ': ' is part of it)");
            }
            ++j;
        }
        size_t end = j;
        while (end > i && s[end - 1] == ' ') --end;
        value.assign(s.substr(i, end - i));
        return end;
    }

    void flow_list(std::string_view s, size_t i, const std::string& key) {
        size_t j = skip_spaces(s, i + 1);
        if (j < s.size() && s[j] == ']') {
            if (!rest_is_empty(s, j + 1)) fail(j + 1, "unexpected text after ']'");
            return;  // empty list: flag left out
        }
        for (;;) {
            if (j >= s.size()) fail(i, "unterminated '[' list");
            std::string value;
            j = skip_spaces(s, scalar(s, j, value, "list item", true));
            out_.args.push_back(flag_name(key));
            out_.args.push_back(std::move(value));
            if (j >= s.size()) fail(i, "unterminated '[' list");
            if (s[j] == ']') break;
            if (s[j] != ',') fail(j, "expected ',' or ']' in the list");
            j = skip_spaces(s, j + 1);
        }
        if (!rest_is_empty(s, j + 1)) fail(j + 1, "unexpected text after ']'");
    }

    std::string_view text_;
    const std::string& source_;
    size_t line_no_ = 0;
    ParsedArgs out_;
    std::string pending_key_;
    bool pending_had_items_ = false;
    std::optional<size_t> list_indent_;
    size_t marker_line_ = 0;
    bool seen_content_ = false;
};

std::vector<std::string> splice(const ParsedArgs& file, const std::vector<std::string>& inner) {
    std::vector<std::string> out;
    out.reserve(file.args.size() + inner.size());
    const size_t at = file.insert_at.value_or(file.args.size());
    out.insert(out.end(), file.args.begin(), file.args.begin() + long(at));
    out.insert(out.end(), inner.begin(), inner.end());
    out.insert(out.end(), file.args.begin() + long(at), file.args.end());
    return out;
}

}  // namespace

ParsedArgs parse_args_yaml(std::string_view text, const std::string& source) {
    return YamlParser(text, source).run();
}

bool is_yaml_args_name(std::string_view name) {
    std::string lower(name);
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    auto ends = [&](std::string_view suffix) {
        return lower.size() >= suffix.size() && lower.compare(lower.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return ends(".yaml") || ends(".yml");
}

ParsedArgs parse_args_any(std::string_view text, const std::string& source) {
    return is_yaml_args_name(source) ? parse_args_yaml(text, source) : parse_args_text(text, source);
}

std::vector<std::string> merge_arguments(const std::optional<ArgsText>& embedded,
                                         const std::optional<ArgsText>& adjacent,
                                         const std::vector<std::string>& command_line) {
    std::vector<std::string> result = command_line;
    if (adjacent) result = splice(parse_args_any(adjacent->text, adjacent->source), result);
    if (embedded) result = splice(parse_args_any(embedded->text, embedded->source), result);
    return result;
}

}  // namespace mmojo
