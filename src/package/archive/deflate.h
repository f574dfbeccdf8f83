// Raw DEFLATE streams (RFC 1951), decoded and encoded by libdeflate, plus a gzip (RFC 1952)
// wrapper for already-deflated data. Used for ZIP method 8 entries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace mmojo {

class DeflateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Decodes a raw deflate stream whose output must be exactly `expected_size` bytes. Throws
// DeflateError saying why (invalid or truncated data, more or fewer bytes than expected).
// Bytes after the final block are ignored. Never reads outside [data, data + size) and
// never allocates more than expected_size + 1 bytes.
std::vector<uint8_t> inflate_raw(const uint8_t* data, size_t size, uint64_t expected_size);

// Encodes `size` bytes as a raw deflate stream. Deterministic: the same input always gives
// the same output.
std::vector<uint8_t> deflate_raw(const uint8_t* data, size_t size);

// Wraps an existing raw deflate stream into a gzip member (10-byte header with mtime 0,
// the stream, CRC-32 and size mod 2^32 of the uncompressed data), so a deflated ZIP entry
// can be served with Content-Encoding: gzip without recompressing.
std::vector<uint8_t> gzip_wrap_deflate(const uint8_t* deflated, size_t size, uint32_t crc32,
                                       uint64_t uncompressed_size);

}  // namespace mmojo
