// Generic kernels of the 1-bit lattice formats IQ1_S (1.56 bits per weight) and IQ1_M
// (1.75): each group of 8 weights is one of 2048 ternary points (kernels/iq_grids.h, values
// -1, 0, 1) shifted by +-1/8, times an odd 3-bit scale 2 s + 1 per 32 (IQ1_S) or 16 (IQ1_M)
// weights and an f16 per 256. ggml-common.h / ggml-quants.c are the specification.
//
// Dot products against Q8_K split x * a = scale * (grid * a + shift * a): the first term is
// an integer dot, the second needs only the sum of the activations of each group of 8
// (IQ1_M) or 32 (IQ1_S), which Q8_K's bsums give per 16.
#include <cstring>

#include "kernels/blocks_lowbit.h"
#include "kernels/float16.h"
#include "kernels/iq_grids.h"
#include "kernels/kernels.h"

namespace mmojo {

namespace {

inline int grid_value(uint64_t point, int j) {
    return static_cast<int8_t>(static_cast<uint8_t>((point >> (8 * j)) & 0xff));
}

// One group of 8 of IQ1_S group g (32 weights): the grid point of its l-th 8.
inline uint64_t iq1_s_point(const BlockIQ1_S& b, int g, int l) {
    const uint16_t qh = b.qh[g];
    return kIQ1SGrid[b.qs[4 * g + l] | (((qh >> (3 * l)) & 7) << 8)];
}

inline int iq1_s_scale(const BlockIQ1_S& b, int g) { return 2 * ((b.qh[g] >> 12) & 7) + 1; }
inline bool iq1_s_negative_shift(const BlockIQ1_S& b, int g) { return (b.qh[g] & 0x8000) != 0; }

// IQ1_M: the four u16 scale words.
inline void iq1_m_words(const BlockIQ1_M& b, uint16_t* w) { std::memcpy(w, b.scales, 8); }

inline float iq1_m_d(const uint16_t* w) {
    const uint16_t bits = static_cast<uint16_t>((w[0] >> 12) | ((w[1] >> 8) & 0x00f0) |
                                                ((w[2] >> 4) & 0x0f00) | (w[3] & 0xf000));
    return f16_to_f32(bits);
}

// Scale 2 s + 1 of the 16 weights 16k .. 16k + 15.
inline int iq1_m_scale(const uint16_t* w, int k) { return 2 * ((w[k / 4] >> (3 * (k % 4))) & 7) + 1; }

// Nibble k of qh (the 8 weights 8k ..): high index bits and the shift sign.
inline int iq1_m_nibble(const BlockIQ1_M& b, int k) { return (b.qh[k / 2] >> (4 * (k % 2))) & 0x0f; }

inline uint64_t iq1_m_point(const BlockIQ1_M& b, int k) {
    return kIQ1SGrid[b.qs[k] | ((iq1_m_nibble(b, k) & 7) << 8)];
}

}  // namespace

void iq1_s_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockIQ1_S*>(src);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        for (int g = 0; g < kQK_K / 32; ++g) {
            const float dl = d * static_cast<float>(iq1_s_scale(blocks[b], g));
            const float delta = iq1_s_negative_shift(blocks[b], g) ? -kIQ1Delta : kIQ1Delta;
            for (int l = 0; l < 4; ++l) {
                const uint64_t point = iq1_s_point(blocks[b], g, l);
                float* y = dst + b * kQK_K + 32 * g + 8 * l;
                for (int j = 0; j < 8; ++j) y[j] = dl * (static_cast<float>(grid_value(point, j)) + delta);
            }
        }
    }
}

void iq1_m_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockIQ1_M*>(src);
    uint16_t w[4];
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        iq1_m_words(blocks[b], w);
        const float d = iq1_m_d(w);
        for (int k = 0; k < kQK_K / 8; ++k) {
            const float dl = d * static_cast<float>(iq1_m_scale(w, k / 2));
            const float delta = iq1_m_nibble(blocks[b], k) & 8 ? -kIQ1Delta : kIQ1Delta;
            const uint64_t point = iq1_m_point(blocks[b], k);
            float* y = dst + b * kQK_K + 8 * k;
            for (int j = 0; j < 8; ++j) y[j] = dl * (static_cast<float>(grid_value(point, j)) + delta);
        }
    }
}

float vec_dot_iq1_s_q8_k_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ1_S*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32_t grid_sum = 0, shift_sum = 0;  // sum scale * grid * a, sum scale * +-1 * a
        for (int g = 0; g < kQK_K / 32; ++g) {
            int32_t dot = 0;
            for (int l = 0; l < 4; ++l) {
                const uint64_t point = iq1_s_point(x[b], g, l);
                const int8_t* a = y[b].qs + 32 * g + 8 * l;
                for (int j = 0; j < 8; ++j) dot += grid_value(point, j) * a[j];
            }
            const int scale = iq1_s_scale(x[b], g);
            const int32_t a_sum = y[b].bsums[2 * g] + y[b].bsums[2 * g + 1];
            grid_sum += scale * dot;
            shift_sum += scale * (iq1_s_negative_shift(x[b], g) ? -a_sum : a_sum);
        }
        const float d = f16_to_f32(x[b].d) * y[b].d;
        sum += d * (static_cast<float>(grid_sum) + kIQ1Delta * static_cast<float>(shift_sum));
    }
    return sum;
}

float vec_dot_iq1_m_q8_k_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ1_M*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    uint16_t w[4];
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        iq1_m_words(x[b], w);
        int32_t grid_sum = 0, shift_sum = 0;
        for (int k = 0; k < kQK_K / 8; ++k) {
            const uint64_t point = iq1_m_point(x[b], k);
            const int8_t* a = y[b].qs + 8 * k;
            int32_t dot = 0, a_sum = 0;
            for (int j = 0; j < 8; ++j) {
                dot += grid_value(point, j) * a[j];
                a_sum += a[j];
            }
            const int scale = iq1_m_scale(w, k / 2);
            grid_sum += scale * dot;
            shift_sum += scale * (iq1_m_nibble(x[b], k) & 8 ? -a_sum : a_sum);
        }
        sum += iq1_m_d(w) * y[b].d * (static_cast<float>(grid_sum) + kIQ1Delta * static_cast<float>(shift_sum));
    }
    return sum;
}

}  // namespace mmojo
