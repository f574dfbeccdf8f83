// MXFP4 (OCP Microscaling Formats v1.0, 2023; the format gpt-oss ships its experts in, GGUF
// type 39): blocks of 32 FP4 E2M1 elements sharing one E8M0 scale.
//
// Block: e (1 byte, the scale 2^(e - 127)), then 16 bytes of 4-bit codes, low nibbles
// elements 0..15 and high nibbles 16..31 (as Q4_0). A code is sign (bit 3) and an E2M1
// magnitude in {0, 0.5, 1, 1.5, 2, 3, 4, 6}. ggml stores the magnitudes doubled as int8
// levels {0, 1, 2, 3, 4, 6, 8, 12} and halves the scale instead, so a block is
//     x[j] = 2^(e - 128) * kMxfp4Levels[code_j],
// which keeps the levels integers for int8 dot products against Q8_0 activations.
#pragma once

#include <cstdint>
#include <cstring>

namespace mmojo {

#pragma pack(push, 1)
struct BlockMXFP4 {
    uint8_t e;
    uint8_t qs[16];
};
#pragma pack(pop)
static_assert(sizeof(BlockMXFP4) == 17);

// E2M1 values times 2, indexed by the 4-bit code.
inline constexpr int8_t kMxfp4Levels[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// 2^(e - 128) as a float: half the E8M0 scale (e = 0 and 1 give the subnormals 2^-128, 2^-127).
// static: each SIMD file gets its own copy (see kernels/simd_kernels.h).
static inline float mxfp4_half_scale(uint8_t e) {
    const uint32_t bits = e < 2 ? (uint32_t(0x00200000) << e) : (uint32_t(e - 1) << 23);
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// Generic kernels (quant_mxfp4.cpp).
void mxfp4_to_float(const void* src, float* dst, int64_t n);
float vec_dot_mxfp4_q8_0_generic(int64_t n, const void* x, const void* y);

}  // namespace mmojo
