// CRC-32 as used by ZIP and gzip (ISO-HDLC: reflected polynomial 0xEDB88320, initial value
// and final xor 0xFFFFFFFF). Incremental: crc32_update(crc32_update(0, a), b) equals the
// CRC of a followed by b.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mmojo {

// Continues a CRC-32 over `size` more bytes; start with crc = 0 (libdeflate's, in
// deflate.cpp).
uint32_t crc32_update(uint32_t crc, const void* data, size_t size);

inline uint32_t crc32(const void* data, size_t size) { return crc32_update(0, data, size); }

}  // namespace mmojo
