// Generic kernels of Q1_0 (1 bit per weight plus an f16 per 128: x = +-d) and Q2_0 (2 bits
// plus an f16 per 64: x = (q - 1) * d, levels -1, 0, 1, 2), the native formats of recent
// 1- and 2-bit models. llama.cpp's ggml-common.h / ggml-quants.c are the specification.
//
// Both dot against Q8_0 activations (4 or 2 activation blocks per weight block): an integer
// sum per activation block, then one multiply by d * d_activation.
#include "kernels/blocks_lowbit.h"
#include "kernels/float16.h"
#include "kernels/kernels.h"

namespace mmojo {

namespace {

inline bool q1_bit(const BlockQ1_0& b, int j) { return ((b.qs[j / 8] >> (j % 8)) & 1) != 0; }
inline int q2_level(const BlockQ2_0& b, int j) { return ((b.qs[j / 4] >> (2 * (j % 4))) & 3) - 1; }

}  // namespace

void q1_0_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockQ1_0*>(src);
    for (int64_t b = 0; b < n / kQK1_0; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        for (int j = 0; j < kQK1_0; ++j) dst[b * kQK1_0 + j] = q1_bit(blocks[b], j) ? d : -d;
    }
}

void q2_0_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockQ2_0*>(src);
    for (int64_t b = 0; b < n / kQK2_0; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        for (int j = 0; j < kQK2_0; ++j) dst[b * kQK2_0 + j] = static_cast<float>(q2_level(blocks[b], j)) * d;
    }
}

float vec_dot_q1_0_q8_0_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ1_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK1_0; ++b) {
        const float d = f16_to_f32(x[b].d);
        for (int k = 0; k < kQK1_0 / kQK; ++k) {
            const BlockQ8_0& a = y[b * (kQK1_0 / kQK) + k];
            int32_t isum = 0;
            for (int j = 0; j < kQK; ++j) isum += q1_bit(x[b], kQK * k + j) ? a.qs[j] : -a.qs[j];
            sum += d * f16_to_f32(a.d) * static_cast<float>(isum);
        }
    }
    return sum;
}

float vec_dot_q2_0_q8_0_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ2_0*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK2_0; ++b) {
        const float d = f16_to_f32(x[b].d);
        for (int k = 0; k < kQK2_0 / kQK; ++k) {
            const BlockQ8_0& a = y[b * (kQK2_0 / kQK) + k];
            int32_t isum = 0;
            for (int j = 0; j < kQK; ++j) isum += q2_level(x[b], kQK * k + j) * a.qs[j];
            sum += d * f16_to_f32(a.d) * static_cast<float>(isum);
        }
    }
    return sum;
}

}  // namespace mmojo
