// AArch64 Advanced SIMD (armv8-a, no dot-product extension) dot products of Q4_0 and Q8_0
// against Q8_0 (installed by quant/dispatch.cpp at level neon and, for types without a
// neondot kernel, at neondot). Each computes what the generic kernel of the same name in
// quant_legacy.cpp computes; tests/unit/simd_kernels_test.cpp and tools/simd_selfcheck.cpp
// compare the two.
//
// Products of int8 pairs are widened to s16 (SMULL/SMLAL: two products per s16 lane, at most
// 2 * 127 * 127 = 32258 for quants in -127..127, which every Q8 quantizer produces), then
// pairwise added into s32 (SADALP). Blocks are scaled by d_x * d_y in float lanes.
//
// See quant/simd_kernels.h for why everything here but the lookup is in an anonymous
// namespace.
#include <arm_neon.h>

#include <cstdint>

#include "quant/blocks.h"
#include "quant/simd_kernels.h"

namespace mmojo {

namespace {

inline float half(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

// 4 s32 lanes whose sum is the dot product of the 32 int8 pairs (x0 x1) . (y0 y1).
inline int32x4_t dot32(int8x16_t x0, int8x16_t x1, int8x16_t y0, int8x16_t y1) {
    int16x8_t p0 = vmull_s8(vget_low_s8(x0), vget_low_s8(y0));
    p0 = vmlal_s8(p0, vget_high_s8(x0), vget_high_s8(y0));
    int16x8_t p1 = vmull_s8(vget_low_s8(x1), vget_low_s8(y1));
    p1 = vmlal_s8(p1, vget_high_s8(x1), vget_high_s8(y1));
    return vpadalq_s16(vpaddlq_s16(p0), p1);
}

float dot_q4_0_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ4_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    const int8x16_t eight = vdupq_n_s8(8);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < n / kQK; ++b) {
        const uint8x16_t q = vld1q_u8(x[b].qs);
        const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, mask)), eight);
        const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
        const int32x4_t p = dot32(lo, hi, vld1q_s8(y[b].qs), vld1q_s8(y[b].qs + 16));
        acc = vfmaq_f32(acc, vcvtq_f32_s32(p), vdupq_n_f32(half(x[b].d) * half(y[b].d)));
    }
    return vaddvq_f32(acc);
}

float dot_q8_0_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ8_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < n / kQK; ++b) {
        const int32x4_t p = dot32(vld1q_s8(x[b].qs), vld1q_s8(x[b].qs + 16), vld1q_s8(y[b].qs),
                                  vld1q_s8(y[b].qs + 16));
        acc = vfmaq_f32(acc, vcvtq_f32_s32(p), vdupq_n_f32(half(x[b].d) * half(y[b].d)));
    }
    return vaddvq_f32(acc);
}

}  // namespace

VecDotFn vec_dot_neon(TensorType type) {
    switch (type) {
        case TensorType::kQ4_0: return dot_q4_0_q8_0;
        case TensorType::kQ8_0: return dot_q8_0_q8_0;
        default: return nullptr;
    }
}

}  // namespace mmojo
