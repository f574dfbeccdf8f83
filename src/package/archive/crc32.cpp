// CRC-32 (ZIP/gzip flavour), table driven with slicing by 4 bytes. The tables are built
// once from the reflected polynomial 0xEDB88320.
#include "package/archive/crc32.h"

#include <array>

namespace mmojo {
namespace {

struct Crc32Tables {
    std::array<std::array<uint32_t, 256>, 4> t{};
    Crc32Tables() {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
            t[0][i] = c;
        }
        // t[k][i] = CRC of byte i followed by k zero bytes.
        for (uint32_t i = 0; i < 256; ++i) {
            for (int k = 1; k < 4; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
        }
    }
};

const Crc32Tables& tables() {
    static const Crc32Tables instance;
    return instance;
}

}  // namespace

uint32_t crc32_update(uint32_t crc, const void* data, size_t size) {
    const auto& t = tables().t;
    const auto* p = static_cast<const uint8_t*>(data);
    uint32_t c = ~crc;
    while (size >= 4) {
        c ^= uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
        c = t[3][c & 0xFF] ^ t[2][(c >> 8) & 0xFF] ^ t[1][(c >> 16) & 0xFF] ^ t[0][c >> 24];
        p += 4;
        size -= 4;
    }
    while (size-- > 0) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xFF];
    return ~c;
}

}  // namespace mmojo
