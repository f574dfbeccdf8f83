// Byte layouts of the quantized blocks of GGUF/ggml (ggml-common.h is the specification;
// the `gguf` Python package's quants.py decodes the same bytes).
//
// All multi-byte fields are little-endian. `f16` fields are IEEE binary16 bit patterns
// (kernels/float16.h). The structs are packed (alignment 1) so that a block may start at any
// byte of a mapped file or an activation buffer; member reads then compile to unaligned
// loads instead of undefined behaviour.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mmojo {

constexpr int kQK = 32;    // elements per block of the "legacy" formats
constexpr int kQK_K = 256;  // elements per super-block of the K-quants and IQ4_XS

#pragma pack(push, 1)

// x[j] = d * (q[j] - 8), q in 0..15. qs[j] holds element j (low nibble) and j+16 (high).
struct BlockQ4_0 {
    uint16_t d;
    uint8_t qs[kQK / 2];
};

// x[j] = d * q[j] + m, q in 0..15, nibbles as in Q4_0.
struct BlockQ4_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qs[kQK / 2];
};

// x[j] = d * (q[j] - 16), q in 0..31: low 4 bits as in Q4_0, bit 4 of element j is bit j of
// the little-endian u32 `qh`.
struct BlockQ5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[kQK / 2];
};

// x[j] = d * q[j] + m, q in 0..31, bits as in Q5_0.
struct BlockQ5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[kQK / 2];
};

// x[j] = d * qs[j].
struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[kQK];
};

// Activation type for Q4_1/Q5_1: x[j] = d * qs[j], and s = d * sum(qs) (rounded to f16) so
// that the offset `m` of the weight block costs one multiply per block.
struct BlockQ8_1 {
    uint16_t d;
    uint16_t s;
    int8_t qs[kQK];
};

// 16 sub-blocks of 16: x = d * (scales[i] & 15) * q - dmin * (scales[i] >> 4), q in 0..3.
// Element 128*h + 32*j + l (h in 0..1, j in 0..3, l in 0..31) is bits 2j..2j+1 of
// qs[32*h + l]; sub-block i = element / 16.
struct BlockQ2_K {
    uint8_t scales[kQK_K / 16];
    uint8_t qs[kQK_K / 4];
    uint16_t d;
    uint16_t dmin;
};

// 16 sub-blocks of 16: x = d * (s[i] - 32) * (q - (hbit ? 0 : 4)), q (2 low bits) placed as
// in Q2_K, hbit of element 32*k + l is bit k of hmask[l]. The 6-bit scales s[i] are packed
// in 12 bytes: low 4 bits in the nibbles of bytes 0..7 (byte i % 8, high nibble when
// i >= 8), high 2 bits in bytes 8..11 (byte 8 + i % 4, bits 2*(i / 4)).
struct BlockQ3_K {
    uint8_t hmask[kQK_K / 8];
    uint8_t qs[kQK_K / 4];
    uint8_t scales[12];
    uint16_t d;
};

// 8 sub-blocks of 32: x = d * sc[i] * q - dmin * mn[i], q in 0..15. Element 64*c + l
// (l < 32) is the low nibble of qs[32*c + l], element 64*c + 32 + l the high nibble. The
// 6-bit sc/mn are packed in 12 bytes (see unpack_scale_min_k4 in quant_kquants.cpp).
struct BlockQ4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qs[kQK_K / 2];
};

// As Q4_K with q in 0..31; bit 4 of element 32*i + l is bit i of qh[l].
struct BlockQ5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qh[kQK_K / 8];
    uint8_t qs[kQK_K / 2];
};

// 16 sub-blocks of 16: x = d * scales[i] * (q - 32), q in 0..63. In half h (128 elements)
// the low 4 bits of element 128*h + l come from ql[64*h + l] (low nibble, l < 64) or
// ql[64*h + l - 64] (high nibble, l >= 64); bits 4..5 of element 128*h + 32*j + l are bits
// 2j..2j+1 of qh[32*h + l].
struct BlockQ6_K {
    uint8_t ql[kQK_K / 2];
    uint8_t qh[kQK_K / 4];
    int8_t scales[kQK_K / 16];
    uint16_t d;
};

// Activation type for the K-quants: x[j] = d * qs[j] with d in binary32; bsums[i] is the sum
// of qs[16*i .. 16*i + 15], used for the weights' min/offset terms.
struct BlockQ8_K {
    float d;
    int8_t qs[kQK_K];
    int16_t bsums[kQK_K / 16];
};

// x[j] = d * kIQ4NLValues[q[j]], q in 0..15, nibbles as in Q4_0.
struct BlockIQ4_NL {
    uint16_t d;
    uint8_t qs[kQK / 2];
};

// 8 sub-blocks of 32: x = d * (ls[i] - 32) * kIQ4NLValues[q]. The 6-bit ls[i] has its low 4
// bits in scales_l[i / 2] (high nibble for odd i) and its high 2 bits at bits 2i..2i+1 of
// scales_h. Sub-block i uses qs[16*i .. 16*i + 15]: low nibbles are elements 0..15, high
// nibbles 16..31.
struct BlockIQ4_XS {
    uint16_t d;
    uint16_t scales_h;
    uint8_t scales_l[kQK_K / 64];
    uint8_t qs[kQK_K / 2];
};

#pragma pack(pop)

static_assert(sizeof(BlockQ4_0) == 18 && alignof(BlockQ4_0) == 1);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292 && alignof(BlockQ8_K) == 1);
static_assert(sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockIQ4_XS) == 136);

// The 16 non-uniform levels of IQ4_NL and IQ4_XS (denser near zero, like the distribution
// of weights).
inline constexpr int8_t kIQ4NLValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                             1,    13,   25,  38,  53,  69,  89,  113};

}  // namespace mmojo
