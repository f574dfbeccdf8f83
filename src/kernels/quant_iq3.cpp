// Generic kernels of the 3-bit lattice formats IQ3_XXS (3.06 bits per weight) and IQ3_S
// (3.44): each group of 4 weights is one point of a grid of 256 (IQ3_XXS, magnitudes 4..62)
// or 512 (IQ3_S, odd magnitudes 1..15) points (kernels/iq_grids.h), with one sign per weight
// and a 4-bit scale per 32 weights. ggml-common.h / ggml-quants.c are the specification.
//
// Dot products against Q8_K sum grid * sign * q8 in integers per group of 32 and apply the
// integer scale there: IQ3_XXS's (0.5 + s) / 2 = (2 s + 1) / 4, IQ3_S's 1 + 2 s.
#include <cstddef>
#include <cstring>

#include "kernels/blocks_lowbit.h"
#include "kernels/float16.h"
#include "kernels/iq_grids.h"
#include "kernels/kernels.h"

namespace mmojo {

namespace {

inline int grid_byte(uint32_t point, int j) { return static_cast<int>((point >> (8 * j)) & 0xff); }

// The 32 signed magnitudes of group g; returns its scale nibble.
int iq3_xxs_group(const BlockIQ3_XXS& b, int g, int* q) {
    uint32_t w;
    std::memcpy(&w, b.qs + kQK_K / 4 + 4 * g, 4);
    for (int l = 0; l < 4; ++l) {
        const uint8_t signs = kSignsIQ2.v[(w >> (7 * l)) & 127];
        for (int h = 0; h < 2; ++h) {
            const uint32_t point = kIQ3XXSGrid[b.qs[8 * g + 2 * l + h]];
            for (int j = 0; j < 4; ++j) {
                const int e = 4 * h + j;
                q[8 * l + e] = (signs >> e) & 1 ? -grid_byte(point, j) : grid_byte(point, j);
            }
        }
    }
    return static_cast<int>(w >> 28);
}

int iq3_s_group(const BlockIQ3_S& b, int g, int* q) {
    for (int k = 0; k < 8; ++k) {
        const int index = b.qs[8 * g + k] | (((b.qh[g] >> k) & 1) << 8);
        const uint32_t point = kIQ3SGrid[index];
        const uint8_t signs = b.signs[4 * g + k / 2];
        for (int j = 0; j < 4; ++j) {
            const int e = 4 * (k % 2) + j;  // element within the 8 of this sign byte
            q[4 * k + j] = (signs >> e) & 1 ? -grid_byte(point, j) : grid_byte(point, j);
        }
    }
    return (b.scales[g / 2] >> (4 * (g % 2))) & 0x0f;
}

// Writes 32 values db * |q| with q's sign, in the order of ggml's reference.
inline void scale_group(float db, const int* q, float* y) {
    for (int j = 0; j < 32; ++j) {
        const float v = db * static_cast<float>(q[j] < 0 ? -q[j] : q[j]);
        y[j] = q[j] < 0 ? -v : v;
    }
}

inline int32_t dot32(const int* q, const int8_t* a) {
    int32_t s = 0;
    for (int j = 0; j < 32; ++j) s += q[j] * a[j];
    return s;
}

}  // namespace

void iq3_xxs_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockIQ3_XXS*>(src);
    int q[32];
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        for (int g = 0; g < kQK_K / 32; ++g) {
            const int s = iq3_xxs_group(blocks[b], g, q);
            scale_group(d * (0.5f + static_cast<float>(s)) * 0.5f, q, dst + b * kQK_K + 32 * g);
        }
    }
}

void iq3_s_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockIQ3_S*>(src);
    int q[32];
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        for (int g = 0; g < kQK_K / 32; ++g) {
            const int s = iq3_s_group(blocks[b], g, q);
            scale_group(d * static_cast<float>(1 + 2 * s), q, dst + b * kQK_K + 32 * g);
        }
    }
}

float vec_dot_iq3_xxs_q8_k_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ3_XXS*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    int q[32];
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32_t isum = 0;
        for (int g = 0; g < kQK_K / 32; ++g) {
            const int s = iq3_xxs_group(x[b], g, q);
            isum += (2 * s + 1) * dot32(q, y[b].qs + 32 * g);
        }
        sum += f16_to_f32(x[b].d) * y[b].d * static_cast<float>(isum);
    }
    return 0.25f * sum;
}

float vec_dot_iq3_s_q8_k_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockIQ3_S*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    int q[32];
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32_t isum = 0;
        for (int g = 0; g < kQK_K / 32; ++g) {
            const int s = iq3_s_group(x[b], g, q);
            isum += (1 + 2 * s) * dot32(q, y[b].qs + 32 * g);
        }
        sum += f16_to_f32(x[b].d) * y[b].d * static_cast<float>(isum);
    }
    return sum;
}

}  // namespace mmojo
