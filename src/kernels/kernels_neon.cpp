// AArch64 Advanced SIMD (armv8-a, no dot-product extension) dot products (installed by
// kernels/dispatch.cpp at level neon and, for types without a neondot kernel, at neondot):
// F32, F16, BF16 here; the integer types (Q4_0 ... IQ4_XS, list in kernels_neon_common.h)
// are the shared kernels instantiated with the int8 dot below. Each computes what the
// generic kernel of its type in quant_*.cpp computes, up to float rounding;
// tests/unit/simd_kernels_test.cpp and tools/simd_selfcheck.cpp compare the two.
//
// Products of int8 pairs are widened to s16 (SMULL/SMLAL: two products per s16 lane, at most
// 2 * 127 * 127 = 32258 for quants in -127..127, which every Q8 quantizer produces), then
// pairwise added into s32 (SADALP). The float types accumulate in float lanes (the generic
// kernels use double).
//
// See kernels/simd_kernels.h for why everything here but the lookup is in an anonymous
// namespace.
#include <arm_neon.h>

#include <cstdint>

#include "kernels/kernels_neon_common.h"
#include "kernels/simd_kernels.h"

namespace mmojo {

namespace {

// The int8 dot policy of kernels_neon_common.h without the dot-product extension.
struct WideningInt8Dot {
    static int32x4_t dot32(int8x16_t x0, int8x16_t x1, int8x16_t y0, int8x16_t y1) {
        int16x8_t p0 = vmull_s8(vget_low_s8(x0), vget_low_s8(y0));
        p0 = vmlal_s8(p0, vget_high_s8(x0), vget_high_s8(y0));
        int16x8_t p1 = vmull_s8(vget_low_s8(x1), vget_low_s8(y1));
        p1 = vmlal_s8(p1, vget_high_s8(x1), vget_high_s8(y1));
        return vpadalq_s16(vpaddlq_s16(p0), p1);
    }
    static int32x4_t dot16(int8x16_t x, int8x16_t y) {
        return vpaddlq_s16(vmlal_high_s8(vmull_s8(vget_low_s8(x), vget_low_s8(y)), x, y));
    }
    // The multiply-widen-add chain is long enough to hide the one float FMA per block.
    static constexpr int kBlockAccumulators = 1;
};

// ---- float types (here only: the dot-product extension has nothing for them) ----------

// Rows may start at any byte, so every load goes through a byte pointer.
inline float32x4_t load_f32x4(const uint8_t* p) { return vreinterpretq_f32_u8(vld1q_u8(p)); }

inline uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

inline float load_f32(const uint8_t* p) {
    float v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

// 8 F16 elements as two float vectors (FCVTL is in the ARMv8.0 base).
inline float32x4x2_t load_f16x8(const uint8_t* p) {
    const float16x8_t h = vreinterpretq_f16_u8(vld1q_u8(p));
    return {{vcvt_f32_f16(vget_low_f16(h)), vcvt_high_f32_f16(h)}};
}

// 8 BF16 elements: a bfloat16 is the upper half of a binary32.
inline float32x4x2_t load_bf16x8(const uint8_t* p) {
    const uint16x8_t h = vreinterpretq_u16_u8(vld1q_u8(p));
    return {{vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)),
             vreinterpretq_f32_u32(vshll_high_n_u16(h, 16))}};
}

inline float bf16(uint16_t h) {
    return vgetq_lane_f32(vreinterpretq_f32_u32(vdupq_n_u32(static_cast<uint32_t>(h) << 16)), 0);
}

// Four accumulators hide the FMA latency; the tail of fewer than 4 elements is scalar.
float dot_f32(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const uint8_t*>(vx);
    const auto* y = static_cast<const uint8_t*>(vy);
    float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f),
                          vdupq_n_f32(0.0f)};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int k = 0; k < 4; ++k) {
            const int64_t off = 4 * (i + 4 * k);
            acc[k] = vfmaq_f32(acc[k], load_f32x4(x + off), load_f32x4(y + off));
        }
    }
    for (; i + 4 <= n; i += 4) {
        acc[0] = vfmaq_f32(acc[0], load_f32x4(x + 4 * i), load_f32x4(y + 4 * i));
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
    for (; i < n; ++i) sum += load_f32(x + 4 * i) * load_f32(y + 4 * i);
    return sum;
}

// The two 16-bit float formats: eight elements to two float vectors, and one to a float.
struct F16Format {
    static float32x4x2_t load8(const uint8_t* p) { return load_f16x8(p); }
    static float one(uint16_t h) { return half(h); }
};

struct BF16Format {
    static float32x4x2_t load8(const uint8_t* p) { return load_bf16x8(p); }
    static float one(uint16_t h) { return bf16(h); }
};

// F16 and BF16: 16 elements (two loads of 8 per row) per step, then 8, then scalar.
template <typename Format>
float dot_16bit(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const uint8_t*>(vx);
    const auto* y = static_cast<const uint8_t*>(vy);
    float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f),
                          vdupq_n_f32(0.0f)};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const float32x4x2_t x0 = Format::load8(x + 2 * i), x1 = Format::load8(x + 2 * i + 16);
        const float32x4x2_t y0 = Format::load8(y + 2 * i), y1 = Format::load8(y + 2 * i + 16);
        acc[0] = vfmaq_f32(acc[0], x0.val[0], y0.val[0]);
        acc[1] = vfmaq_f32(acc[1], x0.val[1], y0.val[1]);
        acc[2] = vfmaq_f32(acc[2], x1.val[0], y1.val[0]);
        acc[3] = vfmaq_f32(acc[3], x1.val[1], y1.val[1]);
    }
    for (; i + 8 <= n; i += 8) {
        const float32x4x2_t x0 = Format::load8(x + 2 * i), y0 = Format::load8(y + 2 * i);
        acc[0] = vfmaq_f32(acc[0], x0.val[0], y0.val[0]);
        acc[1] = vfmaq_f32(acc[1], x0.val[1], y0.val[1]);
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
    for (; i < n; ++i) sum += Format::one(load_u16(x + 2 * i)) * Format::one(load_u16(y + 2 * i));
    return sum;
}

}  // namespace

VecDotFn vec_dot_neon(TensorType type) {
    switch (type) {
        case TensorType::kF32: return dot_f32;
        case TensorType::kF16: return dot_16bit<F16Format>;
        case TensorType::kBF16: return dot_16bit<BF16Format>;
        default: return integer_vec_dot<WideningInt8Dot>(type);
    }
}

}  // namespace mmojo
