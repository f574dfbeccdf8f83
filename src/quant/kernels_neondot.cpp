// AArch64 dot products with the dot-product extension (armv8.2-a+dotprod, FEAT_DotProd) for
// Q4_0 and Q8_0 against Q8_0 (installed by quant/dispatch.cpp at level neondot). SDOT adds
// four int8 x int8 products to each s32 lane with no intermediate rounding or saturation,
// so the integer block sums are exact for any int8 inputs. Each kernel computes what the
// generic kernel of the same name in quant_legacy.cpp computes; tests/unit/simd_kernels_test
// and tools/simd_selfcheck.cpp compare the two.
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

inline int32x4_t dot32(int8x16_t x0, int8x16_t x1, int8x16_t y0, int8x16_t y1) {
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), x0, y0), x1, y1);
}

float dot_q4_0_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ4_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const uint8x16_t mask = vdupq_n_u8(0x0f);
    const int8x16_t eight = vdupq_n_s8(8);
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    const int64_t nb = n / kQK;
    int64_t b = 0;
    for (; b < nb; ++b) {
        const uint8x16_t q = vld1q_u8(x[b].qs);
        const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, mask)), eight);
        const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight);
        const int32x4_t p = dot32(lo, hi, vld1q_s8(y[b].qs), vld1q_s8(y[b].qs + 16));
        float32x4_t& acc = (b & 1) ? acc1 : acc0;
        acc = vfmaq_f32(acc, vcvtq_f32_s32(p), vdupq_n_f32(half(x[b].d) * half(y[b].d)));
    }
    return vaddvq_f32(vaddq_f32(acc0, acc1));
}

float dot_q8_0_q8_0(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ8_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < n / kQK; ++b) {
        const int32x4_t p = dot32(vld1q_s8(x[b].qs), vld1q_s8(x[b].qs + 16), vld1q_s8(y[b].qs),
                                  vld1q_s8(y[b].qs + 16));
        float32x4_t& acc = (b & 1) ? acc1 : acc0;
        acc = vfmaq_f32(acc, vcvtq_f32_s32(p), vdupq_n_f32(half(x[b].d) * half(y[b].d)));
    }
    return vaddvq_f32(vaddq_f32(acc0, acc1));
}

}  // namespace

VecDotFn vec_dot_neondot(TensorType type) {
    switch (type) {
        case TensorType::kQ4_0: return dot_q4_0_q8_0;
        case TensorType::kQ8_0: return dot_q8_0_q8_0;
        default: return nullptr;
    }
}

}  // namespace mmojo
