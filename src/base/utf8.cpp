// UTF-8 boundaries and validity (see utf8.h).
#include "base/utf8.h"

#include <cstdint>

namespace mmojo {

// Number of bytes a sequence starting with lead byte `c` has (1 for ASCII and for bytes
// that cannot start a sequence).
namespace {

size_t utf8_sequence_length(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0 && c >= 0xC2) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0 && c <= 0xF4) return 4;
    return 1;
}

}  // namespace

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

}  // namespace mmojo
