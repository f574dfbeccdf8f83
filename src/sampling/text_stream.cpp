// Stop strings and the streamable part of generated text (see text_stream.h).
#include "sampling/text_stream.h"

#include <algorithm>

#include "base/utf8.h"

namespace mmojo {

StopMatch find_stop(std::string_view text, const std::vector<std::string>& stops, size_t from) {
    StopMatch best;
    for (const auto& stop : stops) {
        if (stop.empty()) continue;
        const size_t pos = text.find(stop, std::min(from, text.size()));
        if (pos != std::string_view::npos && (best.pos == std::string::npos || pos < best.pos)) {
            best.pos = pos;
            best.word = stop;
        }
    }
    return best;
}

size_t partial_stop_start(std::string_view text, const std::vector<std::string>& stops) {
    size_t start = text.size();
    for (const auto& stop : stops) {
        // Longest k < |stop| such that the last k bytes of text equal the first k of stop.
        const size_t max_k = std::min(stop.size() > 0 ? stop.size() - 1 : 0, text.size());
        for (size_t k = max_k; k > 0; --k) {
            if (text.substr(text.size() - k) == std::string_view(stop).substr(0, k)) {
                start = std::min(start, text.size() - k);
                break;
            }
        }
    }
    return start;
}

TextStream::TextStream(std::vector<std::string> stops) : stops_(std::move(stops)) {
    for (const std::string& s : stops_) longest_stop_ = std::max(longest_stop_, s.size());
}

bool TextStream::append(std::string_view piece) {
    const size_t old_size = text_.size();
    text_ += piece;
    // A stop string that ends in the new piece starts at most longest_stop_ bytes before it.
    const size_t from = old_size > longest_stop_ ? old_size - longest_stop_ : 0;
    const StopMatch match = find_stop(text_, stops_, from);
    if (match.pos == std::string::npos) return false;
    text_.resize(match.pos);
    stopping_word_ = match.word;
    return true;
}

std::string TextStream::take_ready(bool final) {
    size_t ready = text_.size();
    if (!final) ready = std::min(utf8_complete_prefix(text_), partial_stop_start(text_, stops_));
    if (ready <= n_sent_) return {};
    std::string chunk = text_.substr(n_sent_, ready - n_sent_);
    n_sent_ = ready;
    return chunk;
}

}  // namespace mmojo
