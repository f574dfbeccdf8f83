// Generic kernels of the 2-bit lattice formats IQ2_XXS (2.06 bits per weight), IQ2_XS (2.31)
// and IQ2_S (2.56): each group of 8 weights is one point of an E8-like lattice of
// magnitudes {8, 25, 43} (kernels/iq_grids.h) with 8 signs, times a 4-bit scale per 32 (or 16)
// weights and an f16 per 256. ggml-common.h / ggml-quants.c are the specification.
//
// Dot products against Q8_K activations sum grid * sign * q8 in integers per scale group and
// multiply by (2 s + 1) there, so a super-block costs one float multiply:
// (0.5 + s) / 4 = (2 s + 1) / 8.
#include <cstring>

#include "kernels/blocks_lowbit.h"
#include "kernels/float16.h"
#include "kernels/iq_grids.h"
#include "kernels/kernels.h"

namespace mmojo {

namespace {

inline int grid_byte(uint64_t point, int j) { return static_cast<int>((point >> (8 * j)) & 0xff); }

// The two 32-bit words of IQ2_XXS group g: indices (a) and signs + scale (b).
inline void iq2_xxs_words(const BlockIQ2_XXS& b, int g, uint32_t& a, uint32_t& w) {
    uint8_t bytes[8];
    std::memcpy(bytes, reinterpret_cast<const uint8_t*>(&b) + offsetof(BlockIQ2_XXS, qs) + 8 * g, 8);
    std::memcpy(&a, bytes, 4);
    std::memcpy(&w, bytes + 4, 4);
}

// Writes the 8 signed grid magnitudes of one group of 8 (before any scale).
inline void signed_point(uint64_t point, uint8_t signs, int* q) {
    for (int j = 0; j < 8; ++j) q[j] = (signs >> j) & 1 ? -grid_byte(point, j) : grid_byte(point, j);
}

// The 32 signed magnitudes of group g and its scale nibbles (for the two halves of 16).
void iq2_xxs_group(const BlockIQ2_XXS& b, int g, int* q, int* s0, int* s1) {
    uint32_t a, w;
    iq2_xxs_words(b, g, a, w);
    for (int l = 0; l < 4; ++l) {
        signed_point(kIQ2XXSGrid[(a >> (8 * l)) & 0xff], kSignsIQ2.v[(w >> (7 * l)) & 127], q + 8 * l);
    }
    *s0 = *s1 = static_cast<int>(w >> 28);
}

void iq2_xs_group(const BlockIQ2_XS& b, int g, int* q, int* s0, int* s1) {
    for (int l = 0; l < 4; ++l) {
        const uint16_t v = b.qs[4 * g + l];
        signed_point(kIQ2XSGrid[v & 511], kSignsIQ2.v[v >> 9], q + 8 * l);
    }
    *s0 = b.scales[g] & 0x0f;
    *s1 = b.scales[g] >> 4;
}

void iq2_s_group(const BlockIQ2_S& b, int g, int* q, int* s0, int* s1) {
    for (int l = 0; l < 4; ++l) {
        const int index = b.qs[4 * g + l] | (((b.qh[g] >> (2 * l)) & 3) << 8);
        signed_point(kIQ2SGrid[index], b.qs[kQK_K / 8 + 4 * g + l], q + 8 * l);
    }
    *s0 = b.scales[g] & 0x0f;
    *s1 = b.scales[g] >> 4;
}

// Shared loops: GroupFn unpacks group g of a block into 32 signed magnitudes and two scales.
template <typename Block, void (*GroupFn)(const Block&, int, int*, int*, int*)>
void iq2_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const Block*>(src);
    int q[32];
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        for (int g = 0; g < kQK_K / 32; ++g) {
            int s[2];
            GroupFn(blocks[b], g, q, &s[0], &s[1]);
            float* y = dst + b * kQK_K + 32 * g;
            for (int j = 0; j < 32; ++j) {
                // The order of ggml's reference: db = d * (0.5 + s) * 0.25, then db * |q|, sign.
                const float db = d * (0.5f + static_cast<float>(s[j / 16])) * 0.25f;
                const float v = db * static_cast<float>(q[j] < 0 ? -q[j] : q[j]);
                y[j] = q[j] < 0 ? -v : v;
            }
        }
    }
}

template <typename Block, void (*GroupFn)(const Block&, int, int*, int*, int*)>
float iq2_dot_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const Block*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    int q[32];
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int32_t isum = 0;
        for (int g = 0; g < kQK_K / 32; ++g) {
            int s0, s1;
            GroupFn(x[b], g, q, &s0, &s1);
            const int8_t* a = y[b].qs + 32 * g;
            int32_t lo = 0, hi = 0;
            for (int j = 0; j < 16; ++j) lo += q[j] * a[j];
            for (int j = 16; j < 32; ++j) hi += q[j] * a[j];
            isum += (2 * s0 + 1) * lo + (2 * s1 + 1) * hi;
        }
        sum += f16_to_f32(x[b].d) * y[b].d * static_cast<float>(isum);
    }
    return 0.125f * sum;
}

}  // namespace

void iq2_xxs_to_float(const void* src, float* dst, int64_t n) {
    iq2_to_float<BlockIQ2_XXS, iq2_xxs_group>(src, dst, n);
}
void iq2_xs_to_float(const void* src, float* dst, int64_t n) {
    iq2_to_float<BlockIQ2_XS, iq2_xs_group>(src, dst, n);
}
void iq2_s_to_float(const void* src, float* dst, int64_t n) {
    iq2_to_float<BlockIQ2_S, iq2_s_group>(src, dst, n);
}

float vec_dot_iq2_xxs_q8_k_generic(int64_t n, const void* x, const void* y) {
    return iq2_dot_q8_k<BlockIQ2_XXS, iq2_xxs_group>(n, x, y);
}
float vec_dot_iq2_xs_q8_k_generic(int64_t n, const void* x, const void* y) {
    return iq2_dot_q8_k<BlockIQ2_XS, iq2_xs_group>(n, x, y);
}
float vec_dot_iq2_s_q8_k_generic(int64_t n, const void* x, const void* y) {
    return iq2_dot_q8_k<BlockIQ2_S, iq2_s_group>(n, x, y);
}

}  // namespace mmojo
