// Integer-type dot products shared by kernels_neon.cpp (armv8-a) and kernels_neondot.cpp
// (armv8.2-a+dotprod): Q4_0, Q5_0, Q8_0, IQ4_NL against Q8_0; Q4_1, Q5_1 against Q8_1;
// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS against Q8_K. Each computes what the generic kernel
// of its type in quant_*.cpp computes, up to float rounding; tests/unit/simd_kernels_test.cpp
// and tools/simd_selfcheck.cpp compare the two.
//
// The kernels are templates over an int8 dot policy `Dot`, the only part that differs
// between the two levels; it provides
//   static int32x4_t dot32(int8x16_t x0, int8x16_t x1, int8x16_t y0, int8x16_t y1);
//       4 s32 lanes whose sum is the dot product of the 32 int8 pairs (x0 x1) . (y0 y1)
//   static int32x4_t dot16(int8x16_t x, int8x16_t y);   the same for 16 pairs
//   static constexpr int kBlockAccumulators;   1 or 2 float accumulators in Q4_0 / Q8_0
// Blocks are scaled by d_x * d_y in float lanes; K-quant and IQ4_XS sub-block scales
// multiply the s32 lanes, so each super-block's integer sum is exact. kernels/gemm_neon_common.h
// (the register-blocked prompt kernels) reuses its scalar helpers.
//
// Everything here has internal linkage, so each including file compiles its own copy with
// its own instruction-set flags (see kernels/simd_kernels.h); it needs AArch64 Advanced SIMD.
// CMake and tests/integration/test_simd_neon.py pick up *.cpp only, so this header is never
// compiled on its own (nor on x86).
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "kernels/blocks.h"
#include "kernels/mxfp4.h"
#include "kernels/tensor_type.h"

namespace mmojo {
namespace {

inline float half(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

inline int8x16_t s8(uint8x16_t v) { return vreinterpretq_s8_u8(v); }

// bsums of a Q8_K block as 16 s16 lanes (lo: sub-blocks 0..7, hi: 8..15). The field is
// read through a byte pointer: taking its int16_t address would be an unaligned pointer.
inline int16x8x2_t load_bsums(const BlockQ8_K& y) {
    const auto* p = reinterpret_cast<const uint8_t*>(&y) + offsetof(BlockQ8_K, bsums);
    return {{vreinterpretq_s16_u8(vld1q_u8(p)), vreinterpretq_s16_u8(vld1q_u8(p + 16))}};
}

// Sum over blocks b of d_b * (s32 lanes of block b) in N float accumulators, block b going
// to accumulator b % N. With SDOT a block's integer part is so short that one FMA chain
// would be the bottleneck; two chains overlap. N = 1 keeps the plain single chain.
// (Two named members, chosen by value: an array index or a reference into the object put
// the sums on the stack.)
template <int N>
class BlockSum {
    static_assert(N == 1 || N == 2, "one or two accumulators");

public:
    void add(int64_t b, int32x4_t p, float d) {
        const bool second = N == 2 && (b & 1);
        const float32x4_t acc = second ? acc1_ : acc0_;
        const float32x4_t sum = vfmaq_f32(acc, vcvtq_f32_s32(p), vdupq_n_f32(d));
        if (second) {
            acc1_ = sum;
        } else {
            acc0_ = sum;
        }
    }
    float total() const {
        if constexpr (N == 1) {
            return vaddvq_f32(acc0_);
        } else {
            return vaddvq_f32(vaddq_f32(acc0_, acc1_));
        }
    }

private:
    float32x4_t acc0_ = vdupq_n_f32(0.0f);
    float32x4_t acc1_ = vdupq_n_f32(0.0f);
};

// ---- legacy 32-element blocks --------------------------------------------------------

template <class Dot>
float dot_q4_0_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ4_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    const int8x16_t eight = vdupq_n_s8(8);
    BlockSum<Dot::kBlockAccumulators> acc;
    for (int64_t b = 0; b < n / kQK; ++b) {
        const uint8x16_t q = vld1q_u8(x[b].qs);
        const int8x16_t lo = vsubq_s8(s8(vandq_u8(q, mask)), eight);
        const int8x16_t hi = vsubq_s8(s8(vshrq_n_u8(q, 4)), eight);
        acc.add(b, Dot::dot32(lo, hi, vld1q_s8(y[b].qs), vld1q_s8(y[b].qs + 16)),
                half(x[b].d) * half(y[b].d));
    }
    return acc.total();
}

template <class Dot>
float dot_q8_0_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ8_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    BlockSum<Dot::kBlockAccumulators> acc;
    for (int64_t b = 0; b < n / kQK; ++b) {
        acc.add(b,
                Dot::dot32(vld1q_s8(x[b].qs), vld1q_s8(x[b].qs + 16), vld1q_s8(y[b].qs),
                           vld1q_s8(y[b].qs + 16)),
                half(x[b].d) * half(y[b].d));
    }
    return acc.total();
}

// Q4_1 . Q8_1 = sum_b d_x d_y sum_j q_x q_y + m_x s_y, with q_x in 0..15.
template <class Dot>
float dot_q4_1_q8_1(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ4_1*>(vx);
    const auto* y = static_cast<const BlockQ8_1*>(vy);
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    BlockSum<1> acc;
    float offsets = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        const uint8x16_t q = vld1q_u8(x[b].qs);
        acc.add(b,
                Dot::dot32(s8(vandq_u8(q, mask)), s8(vshrq_n_u8(q, 4)), vld1q_s8(y[b].qs),
                           vld1q_s8(y[b].qs + 16)),
                half(x[b].d) * half(y[b].d));
        offsets += half(x[b].m) * half(y[b].s);
    }
    return acc.total() + offsets;
}

// Bit 4 of the 32 elements of a Q5 block as bytes 0x10 or 0: element j tests bit j % 8 of
// qh[j / 8], so each qh byte is spread over 8 lanes and tested against 1, 2, 4, ... 128.
inline void q5_high_bits(const uint8_t* qh, uint8x16_t* lo, uint8x16_t* hi) {
    const uint8x16_t bit = vreinterpretq_u8_u64(vdupq_n_u64(0x8040201008040201ull));
    const uint8x16_t b01 = vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1]));
    const uint8x16_t b23 = vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3]));
    *lo = vandq_u8(vtstq_u8(b01, bit), vdupq_n_u8(0x10));
    *hi = vandq_u8(vtstq_u8(b23, bit), vdupq_n_u8(0x10));
}

template <class Dot>
float dot_q5_0_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ5_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    const int8x16_t sixteen = vdupq_n_s8(16);
    BlockSum<1> acc;
    for (int64_t b = 0; b < n / kQK; ++b) {
        uint8x16_t h0, h1;
        q5_high_bits(x[b].qh, &h0, &h1);
        const uint8x16_t q = vld1q_u8(x[b].qs);
        const int8x16_t lo = vsubq_s8(s8(vorrq_u8(vandq_u8(q, mask), h0)), sixteen);
        const int8x16_t hi = vsubq_s8(s8(vorrq_u8(vshrq_n_u8(q, 4), h1)), sixteen);
        acc.add(b, Dot::dot32(lo, hi, vld1q_s8(y[b].qs), vld1q_s8(y[b].qs + 16)),
                half(x[b].d) * half(y[b].d));
    }
    return acc.total();
}

template <class Dot>
float dot_q5_1_q8_1(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ5_1*>(vx);
    const auto* y = static_cast<const BlockQ8_1*>(vy);
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    BlockSum<1> acc;
    float offsets = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        uint8x16_t h0, h1;
        q5_high_bits(x[b].qh, &h0, &h1);
        const uint8x16_t q = vld1q_u8(x[b].qs);
        const int8x16_t lo = s8(vorrq_u8(vandq_u8(q, mask), h0));
        const int8x16_t hi = s8(vorrq_u8(vshrq_n_u8(q, 4), h1));
        acc.add(b, Dot::dot32(lo, hi, vld1q_s8(y[b].qs), vld1q_s8(y[b].qs + 16)),
                half(x[b].d) * half(y[b].d));
        offsets += half(x[b].m) * half(y[b].s);
    }
    return acc.total() + offsets;
}

// IQ4_NL: each nibble indexes the 16 int8 levels (one TBL per 16 elements).
template <class Dot>
float dot_iq4_nl_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ4_NL*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int8x16_t table = vld1q_s8(kIQ4NLValues);
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    BlockSum<1> acc;
    for (int64_t b = 0; b < n / kQK; ++b) {
        const uint8x16_t q = vld1q_u8(x[b].qs);
        const int8x16_t lo = vqtbl1q_s8(table, vandq_u8(q, mask));
        const int8x16_t hi = vqtbl1q_s8(table, vshrq_n_u8(q, 4));
        acc.add(b, Dot::dot32(lo, hi, vld1q_s8(y[b].qs), vld1q_s8(y[b].qs + 16)),
                half(x[b].d) * half(y[b].d));
    }
    return acc.total();
}

// MXFP4: as IQ4_NL with the doubled E2M1 levels and the block scale 2^(e - 128).
template <typename Dot>
float dot_mxfp4_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockMXFP4*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int8x16_t table = vld1q_s8(kMxfp4Levels);
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    BlockSum<1> acc;
    for (int64_t b = 0; b < n / kQK; ++b) {
        const uint8x16_t q = vld1q_u8(x[b].qs);
        const int8x16_t lo = vqtbl1q_s8(table, vandq_u8(q, mask));
        const int8x16_t hi = vqtbl1q_s8(table, vshrq_n_u8(q, 4));
        acc.add(b, Dot::dot32(lo, hi, vld1q_s8(y[b].qs), vld1q_s8(y[b].qs + 16)),
                mxfp4_half_scale(x[b].e) * half(y[b].d));
    }
    return acc.total();
}

// ---- K-quants (super-blocks of 256, activations Q8_K) ---------------------------------

// The 8 scales and 8 mins of a Q4_K/Q5_K block (layout in quant_kquants.cpp).
inline void scales_mins_k4(const uint8_t* s, int32_t* sc, int16_t* mn) {
    for (int i = 0; i < 4; ++i) {
        sc[i] = s[i] & 63;
        mn[i] = static_cast<int16_t>(s[i + 4] & 63);
        sc[i + 4] = (s[i + 8] & 0x0f) | ((s[i] >> 6) << 4);
        mn[i + 4] = static_cast<int16_t>((s[i + 8] >> 4) | ((s[i + 4] >> 6) << 4));
    }
}

// d_y * (d_x * isum - dmin_x * sum_i mn_i (bsum_2i + bsum_2i+1)) for Q4_K/Q5_K. The pair
// sums of bsums fit s16 (at most 32 * 127).
template <typename Block>
inline float finish_k4(const Block& xb, const BlockQ8_K& yb, int32_t isum, const int16_t* mn) {
    const int16x8x2_t bs = load_bsums(yb);
    const int16x8_t pairs = vpaddq_s16(bs.val[0], bs.val[1]);
    const int16x8_t m = vld1q_s16(mn);
    const int32x4_t t = vmlal_high_s16(vmull_s16(vget_low_s16(m), vget_low_s16(pairs)), m, pairs);
    const float dall = yb.d * half(xb.d);
    const float dmin = yb.d * half(xb.dmin);
    return dall * static_cast<float>(isum) - dmin * static_cast<float>(vaddvq_s32(t));
}

// Element 64c + l (l < 32) is the low nibble of qs[32c + l] (sub-block 2c), 64c + 32 + l
// the high nibble (sub-block 2c + 1).
template <class Dot>
float dot_q4_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ4_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32_t sc[8];
        int16_t mn[8];
        scales_mins_k4(x[b].scales, sc, mn);
        int32x4_t acc = vdupq_n_s32(0);
        for (int c = 0; c < 4; ++c) {
            const uint8x16_t q0 = vld1q_u8(x[b].qs + 32 * c);
            const uint8x16_t q1 = vld1q_u8(x[b].qs + 32 * c + 16);
            const int8_t* yq = y[b].qs + 64 * c;
            const int32x4_t lo = Dot::dot32(s8(vandq_u8(q0, mask)), s8(vandq_u8(q1, mask)),
                                            vld1q_s8(yq), vld1q_s8(yq + 16));
            const int32x4_t hi = Dot::dot32(s8(vshrq_n_u8(q0, 4)), s8(vshrq_n_u8(q1, 4)),
                                            vld1q_s8(yq + 32), vld1q_s8(yq + 48));
            acc = vmlaq_n_s32(acc, lo, sc[2 * c]);
            acc = vmlaq_n_s32(acc, hi, sc[2 * c + 1]);
        }
        sum += finish_k4(x[b], y[b], vaddvq_s32(acc), mn);
    }
    return sum;
}

// As Q4_K; bit 4 of element 32i + l is bit i of qh[l], so the chunk c takes bits 2c and
// 2c + 1 (qh is shifted down by 2 per chunk).
template <class Dot>
float dot_q5_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ5_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    const uint8x16_t bit4 = vdupq_n_u8(0x10);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32_t sc[8];
        int16_t mn[8];
        scales_mins_k4(x[b].scales, sc, mn);
        uint8x16_t h0 = vld1q_u8(x[b].qh), h1 = vld1q_u8(x[b].qh + 16);
        int32x4_t acc = vdupq_n_s32(0);
        for (int c = 0; c < 4; ++c) {
            const uint8x16_t q0 = vld1q_u8(x[b].qs + 32 * c);
            const uint8x16_t q1 = vld1q_u8(x[b].qs + 32 * c + 16);
            const int8_t* yq = y[b].qs + 64 * c;
            const uint8x16_t l0 = vorrq_u8(vandq_u8(q0, mask), vandq_u8(vshlq_n_u8(h0, 4), bit4));
            const uint8x16_t l1 = vorrq_u8(vandq_u8(q1, mask), vandq_u8(vshlq_n_u8(h1, 4), bit4));
            const uint8x16_t u0 = vorrq_u8(vshrq_n_u8(q0, 4), vandq_u8(vshlq_n_u8(h0, 3), bit4));
            const uint8x16_t u1 = vorrq_u8(vshrq_n_u8(q1, 4), vandq_u8(vshlq_n_u8(h1, 3), bit4));
            const int32x4_t lo = Dot::dot32(s8(l0), s8(l1), vld1q_s8(yq), vld1q_s8(yq + 16));
            const int32x4_t hi = Dot::dot32(s8(u0), s8(u1), vld1q_s8(yq + 32), vld1q_s8(yq + 48));
            acc = vmlaq_n_s32(acc, lo, sc[2 * c]);
            acc = vmlaq_n_s32(acc, hi, sc[2 * c + 1]);
            h0 = vshrq_n_u8(h0, 2);
            h1 = vshrq_n_u8(h1, 2);
        }
        sum += finish_k4(x[b], y[b], vaddvq_s32(acc), mn);
    }
    return sum;
}

// Q6_K: in half h, the 32 elements 128h + 32j + l take their low 4 bits from ql[64h + l]
// (j = 0), ql[64h + 32 + l] (j = 1) or the high nibbles of those (j = 2, 3), and bits 4..5
// from bits 2j..2j+1 of qh[32h + l]. Each 16-byte register is then one sub-block of 16.
template <class Dot>
float dot_q6_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ6_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const uint8x16_t mask4 = vdupq_n_u8(0x0f);
    const uint8x16_t mask2 = vdupq_n_u8(0x30);
    const int8x16_t offset = vdupq_n_s8(32);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const int8_t* s = x[b].scales;
        int32x4_t acc = vdupq_n_s32(0);
        for (int h = 0; h < 2; ++h) {
            const uint8_t* ql = x[b].ql + 64 * h;
            const uint8_t* qh = x[b].qh + 32 * h;
            const int8_t* yq = y[b].qs + 128 * h;
            for (int half16 = 0; half16 < 2; ++half16) {  // l in 0..15, then 16..31
                const uint8x16_t a = vld1q_u8(ql + 16 * half16);
                const uint8x16_t c = vld1q_u8(ql + 32 + 16 * half16);
                const uint8x16_t hb = vld1q_u8(qh + 16 * half16);
                const uint8x16_t q[4] = {
                    vorrq_u8(vandq_u8(a, mask4), vandq_u8(vshlq_n_u8(hb, 4), mask2)),
                    vorrq_u8(vandq_u8(c, mask4), vandq_u8(vshlq_n_u8(hb, 2), mask2)),
                    vorrq_u8(vshrq_n_u8(a, 4), vandq_u8(hb, mask2)),
                    vorrq_u8(vshrq_n_u8(c, 4), vandq_u8(vshrq_n_u8(hb, 2), mask2))};
                for (int j = 0; j < 4; ++j) {
                    const int8x16_t w = vsubq_s8(s8(q[j]), offset);
                    const int32x4_t p = Dot::dot16(w, vld1q_s8(yq + 32 * j + 16 * half16));
                    acc = vmlaq_n_s32(acc, p, s[8 * h + 2 * j + half16]);
                }
            }
        }
        sum += y[b].d * half(x[b].d) * static_cast<float>(vaddvq_s32(acc));
    }
    return sum;
}

// Q2_K: element 128h + 32j + l is bits 2j..2j+1 of qs[32h + l], so each 16 bytes of qs
// hold one sub-block of 16 per j (shifted down by 2 per j). scales[i]: low nibble scale,
// high nibble min.
template <class Dot>
float dot_q2_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ2_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const uint8x16_t mask2 = vdupq_n_u8(3);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const uint8_t* sc = x[b].scales;
        const uint8x16_t mins = vshrq_n_u8(vld1q_u8(sc), 4);
        const int16x8_t m0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(mins)));
        const int16x8_t m1 = vreinterpretq_s16_u16(vmovl_high_u8(mins));
        const int16x8x2_t bs = load_bsums(y[b]);
        int32x4_t t = vmull_s16(vget_low_s16(m0), vget_low_s16(bs.val[0]));
        t = vmlal_high_s16(t, m0, bs.val[0]);
        t = vmlal_s16(t, vget_low_s16(m1), vget_low_s16(bs.val[1]));
        t = vmlal_high_s16(t, m1, bs.val[1]);
        int32x4_t acc = vdupq_n_s32(0);
        for (int h = 0; h < 2; ++h) {
            for (int half16 = 0; half16 < 2; ++half16) {  // l in 0..15, then 16..31
                uint8x16_t q = vld1q_u8(x[b].qs + 32 * h + 16 * half16);
                for (int j = 0; j < 4; ++j) {
                    const int8x16_t w = s8(vandq_u8(q, mask2));
                    const int8_t* yq = y[b].qs + 128 * h + 32 * j + 16 * half16;
                    const int32x4_t p = Dot::dot16(w, vld1q_s8(yq));
                    acc = vmlaq_n_s32(acc, p, sc[8 * h + 2 * j + half16] & 0x0f);
                    q = vshrq_n_u8(q, 2);
                }
            }
        }
        const float dall = y[b].d * half(x[b].d);
        const float dmin = y[b].d * half(x[b].dmin);
        sum += dall * static_cast<float>(vaddvq_s32(acc)) -
               dmin * static_cast<float>(vaddvq_s32(t));
    }
    return sum;
}

// The 16 scales of a Q3_K block minus their offset 32 (layout in blocks.h).
inline void scales_q3_k(const uint8_t* s, int32_t* sc) {
    for (int i = 0; i < 16; ++i) {
        const int low = (s[i % 8] >> (4 * (i / 8))) & 0x0f;
        const int high = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
        sc[i] = (low | (high << 4)) - 32;
    }
}

// Q3_K: 2 low bits placed as in Q2_K; the high bit of element 32k + l is bit k of
// hmask[l] (k = 4h + j). (low | high << 2) - 4 is the quant: low when the bit is set,
// low - 4 when not.
template <class Dot>
float dot_q3_k_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ3_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const uint8x16_t mask2 = vdupq_n_u8(3);
    const uint8x16_t four = vdupq_n_u8(4);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32_t sc[16];
        scales_q3_k(x[b].scales, sc);
        int32x4_t acc = vdupq_n_s32(0);
        for (int half16 = 0; half16 < 2; ++half16) {  // l in 0..15, then 16..31
            uint8x16_t hm = vld1q_u8(x[b].hmask + 16 * half16);
            for (int h = 0; h < 2; ++h) {
                uint8x16_t q = vld1q_u8(x[b].qs + 32 * h + 16 * half16);
                for (int j = 0; j < 4; ++j) {
                    const uint8x16_t u =
                        vorrq_u8(vandq_u8(q, mask2), vandq_u8(vshlq_n_u8(hm, 2), four));
                    const int8x16_t w = vsubq_s8(s8(u), s8(four));
                    const int8_t* yq = y[b].qs + 128 * h + 32 * j + 16 * half16;
                    const int32x4_t p = Dot::dot16(w, vld1q_s8(yq));
                    acc = vmlaq_n_s32(acc, p, sc[8 * h + 2 * j + half16]);
                    q = vshrq_n_u8(q, 2);
                    hm = vshrq_n_u8(hm, 1);
                }
            }
        }
        sum += y[b].d * half(x[b].d) * static_cast<float>(vaddvq_s32(acc));
    }
    return sum;
}

// ---- IQ4_XS (super-blocks of 256, activations Q8_K) -----------------------------------

// Sub-block i of 32 uses qs[16i .. 16i + 15]: low nibbles are its elements 0..15, high
// nibbles 16..31; its 6-bit scale (minus 32) is split over scales_l and scales_h.
template <class Dot>
float dot_iq4_xs_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ4_XS*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    const int8x16_t table = vld1q_s8(kIQ4NLValues);
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const uint32_t sh = x[b].scales_h;
        int32x4_t acc = vdupq_n_s32(0);
        for (int i = 0; i < 8; ++i) {
            const int low = (x[b].scales_l[i / 2] >> (4 * (i % 2))) & 0x0f;
            const int high = static_cast<int>((sh >> (2 * i)) & 3u);
            const uint8x16_t q = vld1q_u8(x[b].qs + 16 * i);
            const int8x16_t lo = vqtbl1q_s8(table, vandq_u8(q, mask));
            const int8x16_t hi = vqtbl1q_s8(table, vshrq_n_u8(q, 4));
            const int8_t* yq = y[b].qs + 32 * i;
            const int32x4_t p = Dot::dot32(lo, hi, vld1q_s8(yq), vld1q_s8(yq + 16));
            acc = vmlaq_n_s32(acc, p, (low | (high << 4)) - 32);
        }
        sum += half(x[b].d) * y[b].d * static_cast<float>(vaddvq_s32(acc));
    }
    return sum;
}

// The kernel for an integer type with this Dot, or nullptr for the other types.
template <class Dot>
VecDotFn integer_vec_dot(TensorType type) {
    switch (type) {
        case TensorType::kQ4_0: return dot_q4_0_q8_0<Dot>;
        case TensorType::kQ4_1: return dot_q4_1_q8_1<Dot>;
        case TensorType::kQ5_0: return dot_q5_0_q8_0<Dot>;
        case TensorType::kQ5_1: return dot_q5_1_q8_1<Dot>;
        case TensorType::kQ8_0: return dot_q8_0_q8_0<Dot>;
        case TensorType::kIQ4_NL: return dot_iq4_nl_q8_0<Dot>;
        case TensorType::kMXFP4: return dot_mxfp4_q8_0<Dot>;
        case TensorType::kQ2_K: return dot_q2_k_q8_k<Dot>;
        case TensorType::kQ3_K: return dot_q3_k_q8_k<Dot>;
        case TensorType::kQ4_K: return dot_q4_k_q8_k<Dot>;
        case TensorType::kQ5_K: return dot_q5_k_q8_k<Dot>;
        case TensorType::kQ6_K: return dot_q6_k_q8_k<Dot>;
        case TensorType::kIQ4_XS: return dot_iq4_xs_q8_k<Dot>;
        default: return nullptr;
    }
}

}  // namespace
}  // namespace mmojo
