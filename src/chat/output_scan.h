// Scanning helpers for the tool-call parsers: a cursor over the model's output that tells
// "matched", "the text ended part-way" (wait for more while streaming) and "no match",
// and a JSON scanner that finds where a value ends in text that may stop mid-value
// (RFC 8259 grammar; numbers and literals checked by nlohmann::json once complete).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mmojo::chat_scan {

enum class Scan { kDone, kMore, kBad };  // complete; text ended part-way; not this syntax

constexpr int kMaxJsonDepth = 64;

struct JsonSpan {
    Scan status = Scan::kBad;
    size_t begin = 0;  // first byte of the value (after leading whitespace)
    size_t end = 0;    // one past the value when kDone; text.size() when kMore
};
// The JSON value starting at text[pos] (leading whitespace skipped).
JsonSpan scan_json(std::string_view text, size_t pos);

// One "key": value member of an object, or one element of an array.
struct JsonMember {
    std::string key;        // decoded; empty for array elements
    JsonSpan value;
};
struct JsonMembers {
    Scan status = Scan::kBad;
    size_t end = 0;                   // one past the closing bracket when kDone
    std::vector<JsonMember> members;  // complete ones, then at most one partial value
};
// Members of the object (or elements of the array, `array` true) starting at text[pos]
// after optional whitespace. A partial last member is included once its value started.
JsonMembers scan_members(std::string_view text, size_t pos, bool array);

// The member named `key` (first of `keys` that is present), or nullptr.
const JsonMember* find_member(const JsonMembers& m, std::initializer_list<const char*> keys);

// A JSON string literal for `text` (UTF-8 passed through, control characters escaped). The
// escape of a prefix is a prefix of the escape of the whole, so it can be streamed.
std::string json_quote(std::string_view text);

class Cursor {
public:
    Cursor(std::string_view text, size_t pos = 0) : text_(text), pos_(pos) {}
    size_t pos() const { return pos_; }
    void set_pos(size_t pos) { pos_ = pos; }
    bool at_end() const { return pos_ >= text_.size(); }
    std::string_view rest() const { return text_.substr(pos_); }
    std::string_view text() const { return text_; }
    void skip_ws();
    // Consumes `lit` when it is next; kMore when the text ends inside it.
    Scan literal(std::string_view lit);
    // Like literal() after skipping whitespace; the position is kept on kBad.
    Scan ws_literal(std::string_view lit);
    // Text up to `marker` (consumed with it): kMore when the marker is not there yet.
    Scan until(std::string_view marker, std::string_view& before);

private:
    std::string_view text_;
    size_t pos_;
};

// Where `marker` first occurs in text[from..]; when it does not, where the longest
// suffix of the text that could begin it starts (text.size() if none), with found false.
struct MarkerHit {
    bool found = false;
    size_t pos = 0;
};
MarkerHit find_marker(std::string_view text, std::string_view marker, size_t from = 0);
// The earliest of several markers; `which` is its index.
MarkerHit find_first_marker(std::string_view text, const std::vector<std::string_view>& markers,
                            size_t from, size_t* which);

bool is_json_space(char c);
std::string_view trim(std::string_view s);

}  // namespace mmojo::chat_scan
