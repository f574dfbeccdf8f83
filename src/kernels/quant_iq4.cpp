// Generic kernels of the non-linear 4-bit formats IQ4_NL (blocks of 32, one f16 scale) and
// IQ4_XS (super-blocks of 256 with 6-bit sub-block scales). Both map each 4-bit index
// through the 16-entry table kIQ4NLValues (kernels/blocks.h); ggml-common.h is the
// specification.
//
// Dot products look the levels up as int8 and multiply them with the int8 activations
// (Q8_0 for IQ4_NL, Q8_K for IQ4_XS), scaling once per block or sub-block.
#include "kernels/blocks.h"
#include "kernels/float16.h"
#include "kernels/kernels.h"

namespace mmojo {

namespace {

// The 6-bit scale of IQ4_XS sub-block i (0..7), minus its offset 32.
inline int iq4_xs_scale(const BlockIQ4_XS& b, int i) {
    const int low = (b.scales_l[i / 2] >> (4 * (i % 2))) & 0x0f;
    const int high = (b.scales_h >> (2 * i)) & 3;
    return (low | (high << 4)) - 32;
}

// The 32 levels of a group of 16 bytes: low nibbles are elements 0..15, high 16..31.
inline void unpack_iq4_group(const uint8_t* qs, int8_t* q) {
    for (int j = 0; j < 16; ++j) {
        q[j] = kIQ4NLValues[qs[j] & 0x0f];
        q[j + 16] = kIQ4NLValues[qs[j] >> 4];
    }
}

}  // namespace

void iq4_nl_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockIQ4_NL*>(src);
    int8_t q[kQK];
    for (int64_t b = 0; b < n / kQK; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        unpack_iq4_group(blocks[b].qs, q);
        float* y = dst + b * kQK;
        for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(q[j]);
    }
}

void iq4_xs_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockIQ4_XS*>(src);
    int8_t q[32];
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        float* y = dst + b * kQK_K;
        for (int i = 0; i < kQK_K / 32; ++i) {
            const float dl = d * static_cast<float>(iq4_xs_scale(blocks[b], i));
            unpack_iq4_group(blocks[b].qs + 16 * i, q);
            for (int j = 0; j < 32; ++j) y[32 * i + j] = dl * static_cast<float>(q[j]);
        }
    }
}

float vec_dot_iq4_nl_q8_0_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ4_NL*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    int8_t q[kQK];
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        unpack_iq4_group(x[b].qs, q);
        int32_t isum = 0;
        for (int j = 0; j < kQK; ++j) isum += q[j] * y[b].qs[j];
        sum += static_cast<float>(isum) * (f16_to_f32(x[b].d) * f16_to_f32(y[b].d));
    }
    return sum;
}

float vec_dot_iq4_xs_q8_k_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ4_XS*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    int8_t q[32];
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32_t isum = 0;
        for (int i = 0; i < kQK_K / 32; ++i) {
            unpack_iq4_group(x[b].qs + 16 * i, q);
            int32_t group = 0;
            for (int j = 0; j < 32; ++j) group += q[j] * y[b].qs[32 * i + j];
            isum += iq4_xs_scale(x[b], i) * group;
        }
        sum += f16_to_f32(x[b].d) * y[b].d * static_cast<float>(isum);
    }
    return sum;
}

}  // namespace mmojo
