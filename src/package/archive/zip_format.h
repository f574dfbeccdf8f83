// ZIP record signatures, fixed record sizes and little-endian field helpers shared by the
// reader and the writer (PKWARE APPNOTE 6.3.x sections 4.3 and 4.5).
#pragma once

#include <cstdint>
#include <vector>

namespace mmojo::zipfmt {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;     // "PK\3\4"
constexpr uint32_t kCentralHeaderSig = 0x02014b50;   // "PK\1\2"
constexpr uint32_t kEocdSig = 0x06054b50;            // "PK\5\6"
constexpr uint32_t kZip64EocdSig = 0x06064b50;       // "PK\6\6"
constexpr uint32_t kZip64LocatorSig = 0x07064b50;    // "PK\6\7"

constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint64_t kCentralHeaderSize = 46;
constexpr uint64_t kEocdSize = 22;
constexpr uint64_t kZip64EocdSize = 56;
constexpr uint64_t kZip64LocatorSize = 20;
constexpr uint64_t kMaxCommentSize = 65535;

constexpr uint16_t kZip64ExtraId = 0x0001;
// Extra field used to pad local headers so that stored data is aligned (the id Android's
// zipalign uses): 2 bytes alignment value, then zero padding.
constexpr uint16_t kAlignExtraId = 0xD935;

constexpr uint16_t kFlagEncrypted = 1u << 0;
constexpr uint16_t kFlagDataDescriptor = 1u << 3;
constexpr uint16_t kFlagUtf8 = 1u << 11;

inline uint16_t get16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
inline uint32_t get32(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t get64(const uint8_t* p) { return uint64_t(get32(p)) | uint64_t(get32(p + 4)) << 32; }

inline void put16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(uint8_t(v));
    out.push_back(uint8_t(v >> 8));
}
inline void put32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(uint8_t(v >> (8 * i)));
}
inline void put64(std::vector<uint8_t>& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

}  // namespace mmojo::zipfmt
