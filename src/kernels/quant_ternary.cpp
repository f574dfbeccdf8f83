// Generic kernels of the ternary formats TQ1_0 (1.69 bits per weight: 5 trits per byte in
// base 3) and TQ2_0 (2.06: one trit per 2 bits), both x = (t - 1) * d with t in 0..2 and an
// f16 d per 256 weights, as made for BitNet b1.58 models. ggml-common.h / ggml-quants.c are
// the specification.
//
// Dot products against Q8_K: sum (t - 1) * a = sum t * a - sum a, where sum a comes from
// Q8_K's bsums.
#include "kernels/blocks_lowbit.h"
#include "kernels/float16.h"
#include "kernels/kernels.h"

namespace mmojo {

namespace {

// Trit n (0 = most significant) of a TQ1_0 byte: the byte is ceil(v * 256 / 243) for the
// base-3 number v = t0 t1 t2 t3 t4, so multiplying by 3^n (mod 256) brings trit n to the
// top and * 3 >> 8 reads it.
inline int tq1_trit(uint8_t byte, int n) {
    static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
    const auto shifted = static_cast<uint8_t>(byte * kPow3[n]);
    return (shifted * 3) >> 8;
}

// The 256 trits of a TQ1_0 block in element order.
void tq1_trits(const BlockTQ1_0& b, int8_t* t) {
    int e = 0;
    for (int n = 0; n < 5; ++n) {
        for (int m = 0; m < 32; ++m) t[e++] = static_cast<int8_t>(tq1_trit(b.qs[m], n));
    }
    for (int n = 0; n < 5; ++n) {
        for (int m = 0; m < 16; ++m) t[e++] = static_cast<int8_t>(tq1_trit(b.qs[32 + m], n));
    }
    for (int n = 0; n < 4; ++n) {
        for (int m = 0; m < 4; ++m) t[e++] = static_cast<int8_t>(tq1_trit(b.qh[m], n));
    }
}

void tq2_trits(const BlockTQ2_0& b, int8_t* t) {
    for (int h = 0; h < 2; ++h) {
        for (int l = 0; l < 4; ++l) {
            for (int m = 0; m < 32; ++m) t[128 * h + 32 * l + m] = static_cast<int8_t>((b.qs[32 * h + m] >> (2 * l)) & 3);
        }
    }
}

template <typename Block, void (*Trits)(const Block&, int8_t*)>
void ternary_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const Block*>(src);
    int8_t t[kQK_K];
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        Trits(blocks[b], t);
        for (int j = 0; j < kQK_K; ++j) dst[b * kQK_K + j] = static_cast<float>(t[j] - 1) * d;
    }
}

template <typename Block, void (*Trits)(const Block&, int8_t*)>
float ternary_dot_q8_k(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const Block*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    int8_t t[kQK_K];
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        Trits(x[b], t);
        int32_t isum = 0;
        for (int j = 0; j < kQK_K; ++j) isum += t[j] * y[b].qs[j];
        for (int i = 0; i < kQK_K / 16; ++i) isum -= y[b].bsums[i];
        sum += f16_to_f32(x[b].d) * y[b].d * static_cast<float>(isum);
    }
    return sum;
}

}  // namespace

void tq1_0_to_float(const void* src, float* dst, int64_t n) {
    ternary_to_float<BlockTQ1_0, tq1_trits>(src, dst, n);
}
void tq2_0_to_float(const void* src, float* dst, int64_t n) {
    ternary_to_float<BlockTQ2_0, tq2_trits>(src, dst, n);
}
float vec_dot_tq1_0_q8_k_generic(int64_t n, const void* x, const void* y) {
    return ternary_dot_q8_k<BlockTQ1_0, tq1_trits>(n, x, y);
}
float vec_dot_tq2_0_q8_k_generic(int64_t n, const void* x, const void* y) {
    return ternary_dot_q8_k<BlockTQ2_0, tq2_trits>(n, x, y);
}

}  // namespace mmojo
