// Raw DEFLATE and CRC-32 through libdeflate (Debian's source package, built into every target
// by CMakeLists.txt from the tree scripts/setup.sh unpacks): a well-kept, fast, plain-C
// library whose decoder never writes past the buffer it is given, which is what a reader of
// untrusted ZIP files needs. Only the gzip wrapper, which libdeflate has no call for (it
// would recompress), is written here.
#include "package/archive/deflate.h"

#include <libdeflate.h>

#include <cstring>
#include <memory>

#include "package/archive/crc32.h"

namespace mmojo {

namespace {

struct FreeDecompressor {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};
struct FreeCompressor {
    void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};

// Level 9 of libdeflate's 12: about zlib -9's ratio at several times its speed. The output
// depends only on the input and the level, so packing is reproducible.
constexpr int kCompressionLevel = 9;

}  // namespace

std::vector<uint8_t> inflate_raw(const uint8_t* data, size_t size, uint64_t expected_size) {
    // DEFLATE expands at most 258 bytes per 2 bits (a ratio under 1032:1), so a larger
    // recorded size is a lie, refused before the output buffer is allocated.
    if (expected_size / 1032 > size + 1) {
        throw DeflateError("deflate: " + std::to_string(size) + " compressed bytes cannot hold the " +
                           std::to_string(expected_size) + " bytes recorded for them");
    }
    std::unique_ptr<libdeflate_decompressor, FreeDecompressor> d(libdeflate_alloc_decompressor());
    if (!d) throw DeflateError("deflate: out of memory for the decoder");
    // One byte more than expected, so that a stream that is longer than it should be is told
    // apart from one that fits exactly.
    std::vector<uint8_t> out(size_t(expected_size) + 1);
    size_t in_used = 0, produced = 0;
    const libdeflate_result r = libdeflate_deflate_decompress_ex(
        d.get(), data, size, out.data(), out.size(), &in_used, &produced);
    switch (r) {
        case LIBDEFLATE_SUCCESS: break;
        case LIBDEFLATE_BAD_DATA:
            throw DeflateError("deflate: the compressed data is invalid or truncated (" +
                               std::to_string(size) + " compressed bytes)");
        case LIBDEFLATE_INSUFFICIENT_SPACE:
            throw DeflateError("deflate: the data inflates to more than the " +
                               std::to_string(expected_size) + " bytes recorded for it");
        default:
            throw DeflateError("deflate: decoding failed (libdeflate result " +
                               std::to_string(int(r)) + ")");
    }
    if (produced != expected_size) {
        throw DeflateError("deflate: the data inflates to " + std::to_string(produced) +
                           " bytes, not the " + std::to_string(expected_size) +
                           " recorded for it");
    }
    out.resize(produced);
    return out;
}

std::vector<uint8_t> deflate_raw(const uint8_t* data, size_t size) {
    std::unique_ptr<libdeflate_compressor, FreeCompressor> c(
        libdeflate_alloc_compressor(kCompressionLevel));
    if (!c) throw DeflateError("deflate: out of memory for the encoder");
    std::vector<uint8_t> out(libdeflate_deflate_compress_bound(c.get(), size));
    const size_t n = libdeflate_deflate_compress(c.get(), data, size, out.data(), out.size());
    if (n == 0) throw DeflateError("deflate: the compressed data did not fit its bound");
    out.resize(n);
    return out;
}

uint32_t crc32_update(uint32_t crc, const void* data, size_t size) {
    return libdeflate_crc32(crc, data, size);
}

std::vector<uint8_t> gzip_wrap_deflate(const uint8_t* deflated, size_t size, uint32_t crc32,
                                       uint64_t uncompressed_size) {
    // ID1 ID2 CM=8 FLG=0 MTIME=0 XFL=0 OS=255 (unknown), the stream, then CRC and ISIZE.
    std::vector<uint8_t> out(10, 0);
    out.reserve(size + 18);
    out[0] = 0x1f;
    out[1] = 0x8b;
    out[2] = 8;
    out[9] = 0xff;
    out.insert(out.end(), deflated, deflated + size);
    const uint32_t isize = uint32_t(uncompressed_size & 0xFFFFFFFFu);
    for (int i = 0; i < 4; ++i) out.push_back(uint8_t(crc32 >> (8 * i)));
    for (int i = 0; i < 4; ++i) out.push_back(uint8_t(isize >> (8 * i)));
    return out;
}

}  // namespace mmojo
