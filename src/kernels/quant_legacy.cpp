// Generic kernels of the 32-element "legacy" formats Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the
// activation format Q8_1 (layouts in kernels/blocks.h; ggml-common.h is the specification).
//
// Dequantization computes exactly what ggml and the `gguf` Python package compute
// (d * q, then + m as a separate rounding), so the results are bit-identical.
//
// Dot products multiply small integers within a block and scale once per block:
//   Q4_0 . Q8_0 = sum_b d_x d_y sum_j (q_x - 8) q_y
//   Q4_1 . Q8_1 = sum_b d_x d_y sum_j q_x q_y + m_x s_y        (s_y = d_y sum_j q_y)
// which is the float dot product of the two dequantized rows up to float rounding (and, for
// the Q8_1 pair, up to the f16 rounding of s_y, a property of the format).
#include <cmath>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/float16.h"
#include "kernels/kernels.h"

namespace mmojo {

namespace {

// The 4-bit quant of element j (0..31) of a Q4/Q5/IQ4_NL block: low nibbles hold elements
// 0..15, high nibbles 16..31.
inline int nibble(const uint8_t* qs, int j) {
    return j < kQK / 2 ? (qs[j] & 0x0f) : (qs[j - kQK / 2] >> 4);
}

inline uint32_t load_u32le(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// The 5-bit quant of element j of a Q5 block: nibble plus bit j of qh as bit 4.
inline int quant5(const uint8_t* qs, uint32_t qh, int j) {
    return nibble(qs, j) | static_cast<int>(((qh >> j) & 1u) << 4);
}

// x86 MAXPS semantics: returns a if a > b, else b (so a NaN in `a` is dropped, one in `b`
// propagates). Used to reproduce the AVX reduction order of llama.cpp's quantizer.
inline float max_ps(float a, float b) { return a > b ? a : b; }

// max |x| over a block of 32, reduced in the order of llama.cpp's AVX quantize_row_q8_0/q8_1:
// 8 lanes over 4 vectors, then 8 -> 4 -> 2 -> 1. For finite inputs this is simply max |x|;
// the order only matters for NaN, where it makes us agree with the reference.
float block_amax(const float* x) {
    float lane[8];
    for (int k = 0; k < 8; ++k) lane[k] = std::fabs(x[k]);
    for (int v = 1; v < 4; ++v) {
        for (int k = 0; k < 8; ++k) lane[k] = max_ps(lane[k], std::fabs(x[8 * v + k]));
    }
    float m4[4];
    for (int k = 0; k < 4; ++k) m4[k] = max_ps(lane[4 + k], lane[k]);
    const float m2a = max_ps(m4[0], m4[2]);
    const float m2b = max_ps(m4[1], m4[3]);
    return max_ps(m2a, m2b);
}

// Round to nearest, ties to even, then convert to int32 as x86 `cvtps2dq` does: NaN and
// values outside int32 give INT32_MIN ("integer indefinite").
inline int32_t round_even_to_i32(float v) {
    if (std::fabs(v) < 4194304.0f) {  // 2^22: adding 1.5 * 2^23 rounds to an integer, RNE
        const float r = (v + 12582912.0f) - 12582912.0f;
        return static_cast<int32_t>(r);
    }
    if (!(v >= -2147483648.0f && v < 2147483648.0f)) return INT32_MIN;
    return static_cast<int32_t>(v);  // |v| >= 2^22 is already an integer
}

// Saturating int32 -> int8, as the x86 packs (packssdw + packsswb) do.
inline int8_t saturate_i8(int32_t v) {
    return static_cast<int8_t>(v < -128 ? -128 : (v > 127 ? 127 : v));
}

// Quantizes one block of 32 floats to int8 the way llama.cpp's x86 (AVX/AVX2/AVX-512
// builds) quantize_row_q8_0 and quantize_row_q8_1 do, which is what produced the reference
// outputs:
//   amax = max |x|;  d = amax / 127 (binary32), stored as f16 rounded to nearest even (F16C);
//   id = amax != 0 ? 127 / amax : 0   (note: 127/amax, not 1/d as quantize_row_q8_0_ref);
//   q = round-half-to-even(x * id)    (roundps with _MM_ROUND_NEAREST; the reference
//                                      scalar code and gguf-py round half away from zero).
// Returns d in binary32 (Q8_1 needs it unrounded) and the int32 sum of the quants,
// summed with wrap-around as the vector adds do.
float quantize_block_q8(const float* x, int8_t* qs, int32_t* sum) {
    const float amax = block_amax(x);
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    uint32_t total = 0;
    for (int j = 0; j < kQK; ++j) {
        const int32_t q = round_even_to_i32(x[j] * id);
        total += static_cast<uint32_t>(q);
        qs[j] = saturate_i8(q);
    }
    *sum = static_cast<int32_t>(total);
    return d;
}

}  // namespace

void q4_0_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockQ4_0*>(src);
    for (int64_t b = 0; b < n / kQK; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        float* y = dst + b * kQK;
        for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(nibble(blocks[b].qs, j) - 8);
    }
}

void q4_1_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockQ4_1*>(src);
    for (int64_t b = 0; b < n / kQK; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        const float m = f16_to_f32(blocks[b].m);
        float* y = dst + b * kQK;
        for (int j = 0; j < kQK; ++j) {
            const float scaled = d * static_cast<float>(nibble(blocks[b].qs, j));
            y[j] = scaled + m;  // two roundings, never fused, as ggml and numpy compute it
        }
    }
}

void q5_0_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockQ5_0*>(src);
    for (int64_t b = 0; b < n / kQK; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        const uint32_t qh = load_u32le(blocks[b].qh);
        float* y = dst + b * kQK;
        for (int j = 0; j < kQK; ++j) {
            y[j] = d * static_cast<float>(quant5(blocks[b].qs, qh, j) - 16);
        }
    }
}

void q5_1_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockQ5_1*>(src);
    for (int64_t b = 0; b < n / kQK; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        const float m = f16_to_f32(blocks[b].m);
        const uint32_t qh = load_u32le(blocks[b].qh);
        float* y = dst + b * kQK;
        for (int j = 0; j < kQK; ++j) {
            const float scaled = d * static_cast<float>(quant5(blocks[b].qs, qh, j));
            y[j] = scaled + m;
        }
    }
}

void q8_0_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockQ8_0*>(src);
    for (int64_t b = 0; b < n / kQK; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        float* y = dst + b * kQK;
        for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(blocks[b].qs[j]);
    }
}

void q8_1_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockQ8_1*>(src);
    for (int64_t b = 0; b < n / kQK; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        float* y = dst + b * kQK;
        for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(blocks[b].qs[j]);
    }
}

void q8_0_from_float(const float* src, void* dst, int64_t n) {
    auto* blocks = static_cast<BlockQ8_0*>(dst);
    for (int64_t b = 0; b < n / kQK; ++b) {
        int8_t qs[kQK];
        int32_t sum = 0;
        const float d = quantize_block_q8(src + b * kQK, qs, &sum);
        blocks[b].d = f32_to_f16(d);
        std::memcpy(blocks[b].qs, qs, sizeof qs);
    }
}

// Q8_1 as llama.cpp's AVX2 quantize_row_q8_1: s = f16(d * sum(q)) with d the unrounded
// binary32 scale (not the stored f16 d) and the sum taken before int8 saturation.
void q8_1_from_float(const float* src, void* dst, int64_t n) {
    auto* blocks = static_cast<BlockQ8_1*>(dst);
    for (int64_t b = 0; b < n / kQK; ++b) {
        int8_t qs[kQK];
        int32_t sum = 0;
        const float d = quantize_block_q8(src + b * kQK, qs, &sum);
        blocks[b].d = f32_to_f16(d);
        blocks[b].s = f32_to_f16(d * static_cast<float>(sum));
        std::memcpy(blocks[b].qs, qs, sizeof qs);
    }
}

float vec_dot_q4_0_q8_0_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ4_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        int32_t isum = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            isum += ((x[b].qs[j] & 0x0f) - 8) * y[b].qs[j];
            isum += ((x[b].qs[j] >> 4) - 8) * y[b].qs[j + kQK / 2];
        }
        sum += static_cast<float>(isum) * (f16_to_f32(x[b].d) * f16_to_f32(y[b].d));
    }
    return sum;
}

float vec_dot_q4_1_q8_1_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ4_1*>(vx);
    const auto* y = static_cast<const BlockQ8_1*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        int32_t isum = 0;
        for (int j = 0; j < kQK / 2; ++j) {
            isum += (x[b].qs[j] & 0x0f) * y[b].qs[j];
            isum += (x[b].qs[j] >> 4) * y[b].qs[j + kQK / 2];
        }
        const float scaled = static_cast<float>(isum) * (f16_to_f32(x[b].d) * f16_to_f32(y[b].d));
        const float offset = f16_to_f32(x[b].m) * f16_to_f32(y[b].s);
        sum += scaled + offset;
    }
    return sum;
}

float vec_dot_q5_0_q8_0_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ5_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        const uint32_t qh = load_u32le(x[b].qh);
        int32_t isum = 0;
        for (int j = 0; j < kQK; ++j) isum += (quant5(x[b].qs, qh, j) - 16) * y[b].qs[j];
        sum += static_cast<float>(isum) * (f16_to_f32(x[b].d) * f16_to_f32(y[b].d));
    }
    return sum;
}

float vec_dot_q5_1_q8_1_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ5_1*>(vx);
    const auto* y = static_cast<const BlockQ8_1*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        const uint32_t qh = load_u32le(x[b].qh);
        int32_t isum = 0;
        for (int j = 0; j < kQK; ++j) isum += quant5(x[b].qs, qh, j) * y[b].qs[j];
        const float scaled = static_cast<float>(isum) * (f16_to_f32(x[b].d) * f16_to_f32(y[b].d));
        const float offset = f16_to_f32(x[b].m) * f16_to_f32(y[b].s);
        sum += scaled + offset;
    }
    return sum;
}

float vec_dot_q8_0_q8_0_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ8_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        int32_t isum = 0;
        for (int j = 0; j < kQK; ++j) isum += x[b].qs[j] * y[b].qs[j];
        sum += static_cast<float>(isum) * (f16_to_f32(x[b].d) * f16_to_f32(y[b].d));
    }
    return sum;
}

}  // namespace mmojo
