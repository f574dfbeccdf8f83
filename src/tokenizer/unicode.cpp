// Unicode lookups over the generated tables (binary search) and UTF-8 coding. See unicode.h.
#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

namespace mmojo::unicode {

uint32_t decode_utf8(std::string_view text, size_t& pos) {
    const auto byte = [&](size_t i) { return uint8_t(text[i]); };
    const uint8_t lead = byte(pos);
    const size_t remaining = text.size() - pos;
    const auto continuation = [&](size_t i) { return (byte(pos + i) & 0xC0) == 0x80; };
    if (lead < 0x80) {
        pos += 1;
        return lead;
    }
    if ((lead & 0xE0) == 0xC0 && remaining >= 2 && continuation(1)) {
        const uint32_t cp = (uint32_t(lead & 0x1F) << 6) | (byte(pos + 1) & 0x3F);
        pos += 2;
        return cp;
    }
    if ((lead & 0xF0) == 0xE0 && remaining >= 3 && continuation(1) && continuation(2)) {
        const uint32_t cp = (uint32_t(lead & 0x0F) << 12) | (uint32_t(byte(pos + 1) & 0x3F) << 6) |
                            (byte(pos + 2) & 0x3F);
        pos += 3;
        return cp;
    }
    if ((lead & 0xF8) == 0xF0 && remaining >= 4 && continuation(1) && continuation(2) &&
        continuation(3)) {
        const uint32_t cp = (uint32_t(lead & 0x07) << 18) | (uint32_t(byte(pos + 1) & 0x3F) << 12) |
                            (uint32_t(byte(pos + 2) & 0x3F) << 6) | (byte(pos + 3) & 0x3F);
        pos += 4;
        return cp;
    }
    pos += 1;  // continuation byte, 0xF8..0xFF, or a truncated/broken sequence
    return kReplacementChar;
}

std::vector<uint32_t> to_codepoints(std::string_view text) {
    std::vector<uint32_t> cps;
    cps.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) cps.push_back(decode_utf8(text, pos));
    return cps;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xC0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(char(0xE0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
        // Decoding never yields more than 21 bits, so four bytes always suffice.
        out.push_back(char(0xF0 | ((cp >> 18) & 0x07)));
        out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    }
}

std::string to_utf8(uint32_t cp) {
    std::string s;
    append_utf8(s, cp);
    return s;
}

namespace {

Category lookup_category(uint32_t cp) {
    if (cp >= 0x110000) return Category::kUndefined;
    const auto* begin = tables::kCategoryRuns;
    const auto* end = begin + tables::kCategoryRunCount;
    // Last run whose first code point is <= cp (the first run starts at 0).
    const auto* it = std::upper_bound(begin, end, cp, [](uint32_t value, const auto& run) {
        return value < run.first;
    });
    return (it - 1)->category;
}

// Code points below 0x10000 are looked up once into a flat table (64 KiB); the rest go
// through the binary search.
struct BmpTable {
    std::array<uint16_t, 0x10000> props{};
    BmpTable() {
        for (uint32_t cp = 0; cp < 0x10000; ++cp) {
            props[cp] = uint16_t(1u << unsigned(lookup_category(cp)));
        }
        for (size_t i = 0; i < tables::kWhitespaceCount; ++i) {
            props[tables::kWhitespace[i]] |= kPropWhitespace;
        }
    }
};

const BmpTable& bmp_table() {
    static const BmpTable table;
    return table;
}

}  // namespace

Category category(uint32_t cp) {
    if (cp < 0x10000) {
        const uint16_t bits = bmp_table().props[cp] & 0xFF;
        return Category(__builtin_ctz(bits));
    }
    return lookup_category(cp);
}

bool is_whitespace(uint32_t cp) {
    return cp < 0x10000 && (bmp_table().props[cp] & kPropWhitespace) != 0;
}

uint16_t properties(uint32_t cp) {
    if (cp < 0x10000) return bmp_table().props[cp];
    return uint16_t(1u << unsigned(lookup_category(cp)));  // no White_Space above U+FFFF
}

uint32_t to_lower(uint32_t cp) {
    const auto* begin = tables::kLowercase;
    const auto* end = begin + tables::kLowercaseCount;
    const auto* it = std::lower_bound(begin, end, cp, [](const auto& pair, uint32_t value) {
        return pair.from < value;
    });
    return (it != end && it->from == cp) ? it->to : cp;
}

uint32_t nfd_first(uint32_t cp) {
    const auto* begin = tables::kNfdFirst;
    const auto* end = begin + tables::kNfdFirstCount;
    const auto* it = std::upper_bound(begin, end, cp, [](uint32_t value, const auto& range) {
        return value < range.first;
    });
    if (it == begin) return cp;
    --it;
    return cp <= it->last ? it->value : cp;
}

const char* unicode_version() { return tables::kUnicodeVersion; }

namespace {

struct ByteMap {
    std::array<uint32_t, 256> to_cp{};
    ByteMap() {
        uint32_t next = 256;
        for (uint32_t b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
                                   (b >= 0xAE && b <= 0xFF);
            to_cp[b] = printable ? b : next++;
        }
    }
};

const ByteMap& byte_map() {
    static const ByteMap map;
    return map;
}

}  // namespace

uint32_t byte_to_codepoint(uint8_t byte) { return byte_map().to_cp[byte]; }

int codepoint_to_byte(uint32_t cp) {
    if (cp < 256) {
        return byte_map().to_cp[cp] == cp ? int(cp) : -1;
    }
    if (cp < 256 + 68) {
        // The shifted bytes are the non-printable ones, assigned in increasing byte order.
        const auto& map = byte_map().to_cp;
        for (int b = 0; b < 256; ++b) {
            if (map[size_t(b)] == cp) return b;
        }
    }
    return -1;
}

}  // namespace mmojo::unicode
