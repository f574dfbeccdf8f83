// SSE framing, UTF-8 boundary detection and stop-string matching (see sse.h).
#include "server/sse.h"

#include <algorithm>

#include "server/errors.h"

namespace mmojo {

std::string sse_data(const nlohmann::json& value) {
    return "data: " + dump_json(value) + "\n\n";
}

std::string sse_done() { return "data: [DONE]\n\n"; }

// Number of bytes a sequence starting with lead byte `c` has (1 for ASCII and for bytes
// that cannot start a sequence).
static size_t utf8_sequence_length(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0 && c >= 0xC2) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0 && c <= 0xF4) return 4;
    return 1;
}

size_t utf8_complete_prefix(std::string_view text) {
    // Only the last three bytes can belong to an unfinished sequence.
    const size_t n = text.size();
    const size_t first = n >= 3 ? n - 3 : 0;
    for (size_t i = n; i > first; --i) {
        const unsigned char c = static_cast<unsigned char>(text[i - 1]);
        if ((c & 0xC0) == 0x80) continue;   // continuation byte: look further back
        const size_t need = utf8_sequence_length(c);
        if (need > 1 && (n - (i - 1)) < need) {
            // Are the bytes after the lead all continuations? Then the sequence is unfinished.
            bool all_cont = true;
            for (size_t j = i; j < n; ++j) {
                if ((static_cast<unsigned char>(text[j]) & 0xC0) != 0x80) all_cont = false;
            }
            if (all_cont) return i - 1;
        }
        return n;
    }
    return n;
}

bool utf8_valid(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        const size_t need = utf8_sequence_length(c);
        if (need == 1) {
            if (c >= 0x80) return false;
            ++i;
            continue;
        }
        if (i + need > text.size()) return false;
        uint32_t cp = c & (0xFF >> (need + 1));
        for (size_t k = 1; k < need; ++k) {
            const unsigned char d = static_cast<unsigned char>(text[i + k]);
            if ((d & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are invalid.
        if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += need;
    }
    return true;
}

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

nlohmann::json bytes_array(std::string_view text) {
    nlohmann::json out = nlohmann::json::array();
    for (char c : text) out.push_back(static_cast<int>(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace mmojo
