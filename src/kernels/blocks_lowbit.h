// Byte layouts of the low-bit blocks of GGUF/ggml: the i-quants on lattices (IQ2_XXS, IQ2_XS,
// IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M), the ternary TQ1_0 / TQ2_0, NVFP4, and the 1- and 2-bit
// Q1_0 / Q2_0. ggml-common.h is the specification; the `gguf` Python package's quants.py
// decodes the same bytes (Q1_0 / Q2_0: llama.cpp's ggml-quants.c).
//
// Conventions as in kernels/blocks.h: packed, little-endian, `f16` fields are binary16 bit
// patterns. The lattice tables the indices point into are in kernels/iq_grids.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/blocks.h"

namespace mmojo {

#pragma pack(push, 1)

// 8 groups of 32, 4 x 8 elements each. Group g uses the 4 u16 qs[4g .. 4g+3] read as two u32
// a, b: byte l of a is the kIQ2XXSGrid index of elements 8l..8l+7; bits 7l..7l+6 of b index
// kSignsIQ2 for their signs; b >> 28 is the 4-bit scale s: x = d * (0.5 + s) / 4 * grid * sign.
struct BlockIQ2_XXS {
    uint16_t d;
    uint16_t qs[kQK_K / 8];
};

// 32 u16: bits 0..8 index kIQ2XSGrid, bits 9..15 index kSignsIQ2, one per 8 elements. Group
// g (32 elements) has scale nibble scales[g] & 15 for its first 16, >> 4 for the next 16:
// x = d * (0.5 + s) / 4 * grid * sign.
struct BlockIQ2_XS {
    uint16_t d;
    uint16_t qs[kQK_K / 8];
    uint8_t scales[kQK_K / 32];
};

// qs[0..31]: low 8 bits of a 10-bit kIQ2SGrid index per 8 elements, bits 8..9 of index
// 4g + l are bits 2l..2l+1 of qh[g]; qs[32..63]: one full sign byte per 8 elements (bit j
// negates element j). Scales as IQ2_XS.
struct BlockIQ2_S {
    uint16_t d;
    uint8_t qs[kQK_K / 4];
    uint8_t qh[kQK_K / 32];
    uint8_t scales[kQK_K / 32];
};

// qs[0..63]: kIQ3XXSGrid indices, one per 4 elements; qs[64..95]: 8 u32, one per group of 32,
// with 4 x 7-bit kSignsIQ2 indices (bits 7l..) and the 4-bit scale s (bits 28..31):
// x = d * (0.5 + s) / 2 * grid * sign.
struct BlockIQ3_XXS {
    uint16_t d;
    uint8_t qs[3 * kQK_K / 8];
};

// 9-bit kIQ3SGrid indices: low 8 bits in qs (one per 4 elements), bit 8 of index 8g + k is bit
// k of qh[g]; signs: one bit per element (byte 4g + l, bit j -> element 32g + 8l + j); scales:
// nibble g of the 4 bytes (low nibble first): x = d * (1 + 2 s) * grid * sign.
struct BlockIQ3_S {
    uint16_t d;
    uint8_t qs[kQK_K / 4];
    uint8_t qh[kQK_K / 32];
    uint8_t signs[kQK_K / 8];
    uint8_t scales[kQK_K / 64];
};

// 11-bit kIQ1SGrid indices, one per 8 elements: low 8 bits in qs, bits 8..10 of index 4g + l
// are bits 3l..3l+2 of qh[g]; bits 12..14 of qh[g] are the 3-bit scale s, bit 15 the sign of
// the shift: x = d * (2 s + 1) * (grid +- 1/8).
struct BlockIQ1_S {
    uint16_t d;
    uint8_t qs[kQK_K / 8];
    uint16_t qh[kQK_K / 32];
};

// As IQ1_S but with a shift per 8 elements and a scale per 16: the high index bits of
// elements 8k.. are the low 3 bits of nibble k of qh (nibble bit 3 = shift sign); the 3-bit
// scale of elements 16k.. is bits 3(k % 4).. of the u16 scales word k / 4; the block's f16 d
// is the top nibbles of the 4 scales words (word i gives bits 4i..4i+3).
struct BlockIQ1_M {
    uint8_t qs[kQK_K / 8];
    uint8_t qh[kQK_K / 16];
    uint8_t scales[kQK_K / 32];
};

// Ternary, base 3: byte value v holds the trits t_n = floor(((v * 3^n) mod 256) * 3 / 256),
// x = (t - 1) * d. qs[0..31] give elements 32n + m (n < 5), qs[32..47] elements 160 + 16n + m,
// qh[0..3] (4 trits each) elements 240 + 4n + m.
struct BlockTQ1_0 {
    uint8_t qs[(kQK_K - 4 * kQK_K / 64) / 5];
    uint8_t qh[kQK_K / 64];
    uint16_t d;
};

// Ternary in 2 bits: element 128h + 32l + m is bits 2l..2l+1 of qs[32h + m], x = (q - 1) * d.
struct BlockTQ2_0 {
    uint8_t qs[kQK_K / 4];
    uint16_t d;
};

constexpr int kQK_NVFP4 = 64;      // elements per NVFP4 block
constexpr int kQK_NVFP4_SUB = 16;  // elements per scale

// 4 sub-blocks of 16 FP4 (E2M1) values, each with an unsigned E4M3 scale (ue4m3_to_float).
// Sub-block s uses qs[8s .. 8s+7]: low nibbles are its elements 0..7, high 8..15;
// x = scale * kE2M1Doubled[q] (the table holds 2 x the E2M1 value, the scale carries 1/2).
struct BlockNVFP4 {
    uint8_t d[kQK_NVFP4 / kQK_NVFP4_SUB];
    uint8_t qs[kQK_NVFP4 / 2];
};

constexpr int kQK1_0 = 128;
constexpr int kQK2_0 = 64;

// x[j] = bit j of the row of bits qs (LSB first) ? d : -d.
struct BlockQ1_0 {
    uint16_t d;
    uint8_t qs[kQK1_0 / 8];
};

// x[j] = (q - 1) * d, q = bits 2(j % 4).. of qs[j / 4]: levels -1, 0, 1, 2.
struct BlockQ2_0 {
    uint16_t d;
    uint8_t qs[kQK2_0 / 4];
};

#pragma pack(pop)

static_assert(sizeof(BlockIQ2_XXS) == 66 && alignof(BlockIQ2_XXS) == 1);
static_assert(sizeof(BlockIQ2_XS) == 74);
static_assert(sizeof(BlockIQ2_S) == 82);
static_assert(sizeof(BlockIQ3_XXS) == 98);
static_assert(sizeof(BlockIQ3_S) == 110);
static_assert(sizeof(BlockIQ1_S) == 50);
static_assert(sizeof(BlockIQ1_M) == 56);
static_assert(sizeof(BlockTQ1_0) == 54);
static_assert(sizeof(BlockTQ2_0) == 66);
static_assert(sizeof(BlockNVFP4) == 36);
static_assert(sizeof(BlockQ1_0) == 18);
static_assert(sizeof(BlockQ2_0) == 18);

// IQ2/IQ3 sign patterns: 7 stored bits, the 8th makes the number of minus signs even (the
// quantizer flips the smallest weight when needed), so index i gives i | parity(i) << 7.
constexpr uint8_t iq_sign_byte(int i) {
    int parity = 0;
    for (int b = 0; b < 7; ++b) parity ^= (i >> b) & 1;
    return static_cast<uint8_t>(i | (parity << 7));
}

struct SignTable {
    uint8_t v[128];
};

constexpr SignTable make_sign_table() {
    SignTable t{};
    for (int i = 0; i < 128; ++i) t.v[i] = iq_sign_byte(i);
    return t;
}

inline constexpr SignTable kSignsIQ2 = make_sign_table();

// The shift of IQ1_S / IQ1_M grid values.
constexpr float kIQ1Delta = 0.125f;

// E2M1 (FP4) values times 2, by 4-bit code (bit 3 is the sign), as NVFP4 and MXFP4 use them.
inline constexpr int8_t kE2M1Doubled[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// The value of an NVFP4 scale byte times 1/2 (the half of kE2M1Doubled): unsigned E4M3, bias
// 7, subnormal when the exponent field is 0; bit 7 is ignored and 0x7f (the NaN pattern) reads
// as 0, as in ggml.
inline float ue4m3_to_float(uint8_t x) {
    if (x == 0 || x == 0x7f) return 0.0f;
    const int exp = (x >> 3) & 0x0f;
    const int man = x & 0x07;
    // Both branches are exact in binary32: at most 4 significant bits times a power of two.
    const float raw = exp == 0 ? static_cast<float>(man) * (1.0f / 512.0f)
                               : static_cast<float>(8 + man) / 8.0f *
                                     (exp >= 7 ? static_cast<float>(1 << (exp - 7))
                                               : 1.0f / static_cast<float>(1 << (7 - exp)));
    return raw * 0.5f;
}

}  // namespace mmojo
