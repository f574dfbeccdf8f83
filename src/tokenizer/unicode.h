// Unicode helpers for the tokenizers: UTF-8 decoding that never fails (llama.cpp's rule: a
// byte that does not start a well-formed sequence becomes U+FFFD and decoding resumes at the
// next byte), general category families, White_Space, simple lowercase, the first code point
// of NFD, and GPT-2's byte <-> code point mapping for byte-level BPE.
// Tables are generated into unicode_tables.cpp by scripts/gen_unicode_tables.py.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mmojo::unicode {

// General category family of a code point (Cn, i.e. unassigned, is kUndefined; Cc, Cf, Co
// and Cs are kControl).
enum class Category : uint8_t {
    kUndefined = 0, kNumber = 1, kLetter = 2, kSeparator = 3, kMark = 4, kPunctuation = 5,
    kSymbol = 6, kControl = 7,
};

// Property bits used by the pre-tokenizer regex matcher: one bit per category plus
// White_Space.
enum : uint16_t {
    kPropUndefined = 1u << 0, kPropNumber = 1u << 1, kPropLetter = 1u << 2,
    kPropSeparator = 1u << 3, kPropMark = 1u << 4, kPropPunctuation = 1u << 5,
    kPropSymbol = 1u << 6, kPropControl = 1u << 7, kPropWhitespace = 1u << 8,
};

constexpr uint32_t kReplacementChar = 0xFFFD;

// Length of the UTF-8 sequence a lead byte announces (1 for continuation/invalid bytes).
inline size_t utf8_sequence_length(uint8_t lead) {
    static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLengths[lead >> 4];
}

// Decodes one code point at `pos` and advances it. Malformed input yields U+FFFD and advances
// by one byte. Overlong forms and surrogates are accepted (as llama.cpp does), so any valid
// UTF-8 round-trips byte for byte.
uint32_t decode_utf8(std::string_view text, size_t& pos);
std::vector<uint32_t> to_codepoints(std::string_view text);
void append_utf8(std::string& out, uint32_t cp);
std::string to_utf8(uint32_t cp);

Category category(uint32_t cp);
bool is_whitespace(uint32_t cp);
uint16_t properties(uint32_t cp);  // category bit | kPropWhitespace
uint32_t to_lower(uint32_t cp);
uint32_t nfd_first(uint32_t cp);
const char* unicode_version();

// GPT-2 byte-level BPE: each byte maps to a printable code point (printable Latin-1 bytes map
// to themselves, the other 68 bytes to U+0100 onwards, in byte order).
uint32_t byte_to_codepoint(uint8_t byte);
// The byte a code point stands for, or -1 when it is not in the mapping.
int codepoint_to_byte(uint32_t cp);

namespace tables {
struct CategoryRun {
    uint32_t first;
    Category category;
};
struct CodepointPair {
    uint32_t from, to;
};
struct CodepointRange {
    uint32_t first, last, value;
};
extern const char* const kUnicodeVersion;
extern const CategoryRun kCategoryRuns[];
extern const size_t kCategoryRunCount;
extern const uint32_t kWhitespace[];
extern const size_t kWhitespaceCount;
extern const CodepointPair kLowercase[];
extern const size_t kLowercaseCount;
extern const CodepointRange kNfdFirst[];
extern const size_t kNfdFirstCount;
}  // namespace tables

}  // namespace mmojo::unicode
