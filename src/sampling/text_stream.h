// Generated text on its way to a client: stop strings end it, and while it streams only
// whole UTF-8 characters that cannot be the start of a stop string are let out (the rest
// waits for the next token).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mmojo {

struct StopMatch {
    size_t pos = std::string::npos;   // where the full stop string starts (npos: none)
    std::string word;                 // the stop string that matched
};

// Earliest full occurrence of any stop string in text[from..].
StopMatch find_stop(std::string_view text, const std::vector<std::string>& stops, size_t from);
// Start of the longest suffix of `text` that is a proper prefix of some stop string,
// or text.size() if none: the bytes from there on must be held back while streaming.
size_t partial_stop_start(std::string_view text, const std::vector<std::string>& stops);

// The text of one generation as it grows piece by piece.
class TextStream {
public:
    explicit TextStream(std::vector<std::string> stops = {});

    // Appends a token's text. Returns true when a stop string is now complete: the text is
    // cut where it starts and stopping_word() names it.
    bool append(std::string_view piece);
    // The text not handed out yet that is safe to send: up to the last whole character
    // that cannot begin a stop string, or everything when `final`.
    std::string take_ready(bool final);

    const std::string& text() const { return text_; }
    const std::string& stopping_word() const { return stopping_word_; }

private:
    std::vector<std::string> stops_;
    size_t longest_stop_ = 0;
    std::string text_;
    std::string stopping_word_;
    size_t n_sent_ = 0;
};

}  // namespace mmojo
