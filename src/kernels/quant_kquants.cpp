// Generic kernels of the K-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (super-blocks of 256 with
// per-sub-block 4/6/8-bit scales; layouts in kernels/blocks.h, specification ggml-common.h)
// and of their activation type Q8_K.
//
// Dequantization computes each element as ggml and the `gguf` Python package do: first the
// sub-block scale (d * sc, in binary32), then scale * q, then minus (dmin * m) for the types
// with a minimum.
//
// Dot products with Q8_K first unpack the 256 weight quants to int8, then accumulate
// integer products per sub-block, multiply by the integer sub-block scales, and apply the
// float scales once per super-block:
//   sum_b  d_y d_x sum_i sc_i sum_j q_ij y_ij  -  d_y dmin_x sum_i m_i bsum_i
// The min term uses the precomputed 16-element sums of Q8_K (bsums).
#include <cmath>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/float16.h"
#include "kernels/kernels.h"

namespace mmojo {

namespace {

// Q4_K/Q5_K pack eight 6-bit scales and eight 6-bit mins in 12 bytes:
//   bytes 0..3:  scale 0..3 in bits 0..5, bits 6..7 are the high bits of scale 4..7
//   bytes 4..7:  min 0..3 in bits 0..5,   bits 6..7 are the high bits of min 4..7
//   bytes 8..11: low 4 bits of scale 4..7 (low nibble) and of min 4..7 (high nibble)
inline void unpack_scale_min_k4(const uint8_t* s, int i, int* scale, int* min) {
    if (i < 4) {
        *scale = s[i] & 63;
        *min = s[i + 4] & 63;
    } else {
        *scale = (s[i + 4] & 0x0f) | ((s[i - 4] >> 6) << 4);
        *min = (s[i + 4] >> 4) | ((s[i] >> 6) << 4);
    }
}

// Q3_K: the 6-bit scale i (0..15) of 12 packed bytes, minus its offset 32.
inline int q3_k_scale(const uint8_t* s, int i) {
    const int low = (s[i % 8] >> (4 * (i / 8))) & 0x0f;
    const int high = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
    return (low | (high << 4)) - 32;
}

// The 2-bit field of element e (0..255) in a Q2_K/Q3_K `qs` array: element 128h + 32j + l
// is bits 2j..2j+1 of qs[32h + l].
inline int two_bits(const uint8_t* qs, int e) {
    const int h = e / 128, j = (e % 128) / 32, l = e % 32;
    return (qs[32 * h + l] >> (2 * j)) & 3;
}

// Unpacked quants of one super-block, as small signed integers.
void unpack_quants(const BlockQ2_K& b, int8_t* q) {
    for (int e = 0; e < kQK_K; ++e) q[e] = static_cast<int8_t>(two_bits(b.qs, e));
}

// q = low 2 bits - 4 unless the element's hmask bit is set (bit e/32 of hmask[e%32]).
void unpack_quants(const BlockQ3_K& b, int8_t* q) {
    for (int e = 0; e < kQK_K; ++e) {
        const int high = (b.hmask[e % 32] >> (e / 32)) & 1;
        q[e] = static_cast<int8_t>(two_bits(b.qs, e) - (high ? 0 : 4));
    }
}

// Element 64c + l (l < 32) is the low nibble of qs[32c + l]; 64c + 32 + l the high one.
void unpack_quants(const BlockQ4_K& b, int8_t* q) {
    for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
            q[64 * c + l] = static_cast<int8_t>(b.qs[32 * c + l] & 0x0f);
            q[64 * c + 32 + l] = static_cast<int8_t>(b.qs[32 * c + l] >> 4);
        }
    }
}

// As Q4_K plus bit 4 of element 32i + l from bit i of qh[l].
void unpack_quants(const BlockQ5_K& b, int8_t* q) {
    for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
            const int lo = 64 * c + l, hi = 64 * c + 32 + l;
            q[lo] = static_cast<int8_t>((b.qs[32 * c + l] & 0x0f) | (((b.qh[l] >> (2 * c)) & 1) << 4));
            q[hi] = static_cast<int8_t>((b.qs[32 * c + l] >> 4) | (((b.qh[l] >> (2 * c + 1)) & 1) << 4));
        }
    }
}

// q - 32 with q = 4 low bits from ql and 2 high bits from qh (see BlockQ6_K).
void unpack_quants(const BlockQ6_K& b, int8_t* q) {
    for (int h = 0; h < 2; ++h) {
        for (int r = 0; r < 128; ++r) {
            const int low = r < 64 ? (b.ql[64 * h + r] & 0x0f) : (b.ql[64 * h + r - 64] >> 4);
            const int high = (b.qh[32 * h + r % 32] >> (2 * (r / 32))) & 3;
            q[128 * h + r] = static_cast<int8_t>((low | (high << 4)) - 32);
        }
    }
}

// sum_j a[j] * b[j] over n int8 pairs.
inline int32_t dot_i8(const int8_t* a, const int8_t* b, int n) {
    int32_t s = 0;
    for (int j = 0; j < n; ++j) s += a[j] * b[j];
    return s;
}

// nearest_int of ggml-quants.c: adding 1.5 * 2^23 leaves the integer, rounded to nearest
// even by the FPU, in the low mantissa bits. Valid for |v| <= 2^22 - 1 (always the case
// here: |v| <= 127 for finite inputs); NaN gives a payload-dependent value, as in llama.cpp.
inline int32_t nearest_int(float v) {
    const uint32_t bits = f32_bits(v + 12582912.0f);
    return static_cast<int32_t>(bits & 0x007fffffu) - 0x00400000;
}

}  // namespace

void q2_k_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockQ2_K*>(src);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        const float dmin = f16_to_f32(blocks[b].dmin);
        float* y = dst + b * kQK_K;
        for (int i = 0; i < kQK_K / 16; ++i) {
            const float dl = d * static_cast<float>(blocks[b].scales[i] & 0x0f);
            const float ml = dmin * static_cast<float>(blocks[b].scales[i] >> 4);
            for (int e = 16 * i; e < 16 * i + 16; ++e) {
                const float scaled = dl * static_cast<float>(two_bits(blocks[b].qs, e));
                y[e] = scaled - ml;
            }
        }
    }
}

namespace {

// Q4_K and Q5_K: unsigned quants in 8 sub-blocks of 32, each with a 6-bit scale and minimum.
template <typename Block>
void k4_like_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const Block*>(src);
    int8_t q[kQK_K];
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        const float dmin = f16_to_f32(blocks[b].dmin);
        unpack_quants(blocks[b], q);
        float* y = dst + b * kQK_K;
        for (int i = 0; i < 8; ++i) {
            int sc = 0, mn = 0;
            unpack_scale_min_k4(blocks[b].scales, i, &sc, &mn);
            const float dl = d * static_cast<float>(sc);
            const float ml = dmin * static_cast<float>(mn);
            for (int e = 32 * i; e < 32 * i + 32; ++e) {
                const float scaled = dl * static_cast<float>(q[e]);
                y[e] = scaled - ml;
            }
        }
    }
}

// Q3_K and Q6_K: signed quants in 16 sub-blocks of 16, each with an integer scale
// scale(block, i) and no minimum.
template <typename Block, typename Scale>
void signed16_to_float(const void* src, float* dst, int64_t n, Scale scale) {
    const auto* blocks = static_cast<const Block*>(src);
    int8_t q[kQK_K];
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        unpack_quants(blocks[b], q);
        float* y = dst + b * kQK_K;
        for (int i = 0; i < kQK_K / 16; ++i) {
            const float dl = d * static_cast<float>(scale(blocks[b], i));
            for (int e = 16 * i; e < 16 * i + 16; ++e) y[e] = dl * static_cast<float>(q[e]);
        }
    }
}

template <typename Block, typename Scale>
float vec_dot_signed16(int64_t n, const void* vx, const void* vy, Scale scale) {
    const auto* x = static_cast<const Block*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    int8_t q[kQK_K];
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        unpack_quants(x[b], q);
        int32_t isum = 0;
        for (int i = 0; i < kQK_K / 16; ++i) {
            isum += scale(x[b], i) * dot_i8(q + 16 * i, y[b].qs + 16 * i, 16);
        }
        sum += y[b].d * f16_to_f32(x[b].d) * static_cast<float>(isum);
    }
    return sum;
}

int q3_k_block_scale(const BlockQ3_K& b, int i) { return q3_k_scale(b.scales, i); }
int q6_k_block_scale(const BlockQ6_K& b, int i) { return b.scales[i]; }

}  // namespace

void q3_k_to_float(const void* src, float* dst, int64_t n) {
    signed16_to_float<BlockQ3_K>(src, dst, n, q3_k_block_scale);
}

void q4_k_to_float(const void* src, float* dst, int64_t n) {
    k4_like_to_float<BlockQ4_K>(src, dst, n);
}

void q5_k_to_float(const void* src, float* dst, int64_t n) {
    k4_like_to_float<BlockQ5_K>(src, dst, n);
}

void q6_k_to_float(const void* src, float* dst, int64_t n) {
    signed16_to_float<BlockQ6_K>(src, dst, n, q6_k_block_scale);
}

void q8_k_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockQ8_K*>(src);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float d = blocks[b].d;
        float* y = dst + b * kQK_K;
        for (int j = 0; j < kQK_K; ++j) y[j] = d * static_cast<float>(blocks[b].qs[j]);
    }
}

// Q8_K as llama.cpp quantizes activations on x86 (quantize_row_q8_K is the reference
// quantize_row_q8_K_ref there; only the wasm build has its own):
//   max = the element of largest magnitude, with its sign (first one on ties);
//   all zero -> d = 0, quants 0;
//   iscale = -127 / max; q = min(127, nearest_int(iscale * x)) with ties to even;
//   d = 1 / iscale (so d has the opposite sign of max and the quants are negated), kept in
//   binary32. bsums are the 16-element sums of the quants.
void q8_k_from_float(const float* src, void* dst, int64_t n) {
    auto* blocks = static_cast<BlockQ8_K*>(dst);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float* x = src + b * kQK_K;
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < kQK_K; ++j) {
            const float ax = std::fabs(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        BlockQ8_K out;
        if (amax == 0.0f) {
            std::memset(&out, 0, sizeof out);
            std::memcpy(&blocks[b], &out, sizeof out);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < kQK_K; ++j) {
            const int32_t v = nearest_int(iscale * x[j]);
            out.qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
        }
        for (int i = 0; i < kQK_K / 16; ++i) {
            int sum = 0;
            for (int j = 16 * i; j < 16 * i + 16; ++j) sum += out.qs[j];
            out.bsums[i] = static_cast<int16_t>(sum);
        }
        out.d = 1.0f / iscale;
        std::memcpy(&blocks[b], &out, sizeof out);
    }
}

float vec_dot_q2_k_q8_k_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockQ2_K*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    int8_t q[kQK_K];
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        unpack_quants(x[b], q);
        int32_t isum = 0, summs = 0;
        for (int i = 0; i < kQK_K / 16; ++i) {
            isum += (x[b].scales[i] & 0x0f) * dot_i8(q + 16 * i, y[b].qs + 16 * i, 16);
            summs += (x[b].scales[i] >> 4) * y[b].bsums[i];
        }
        const float dall = y[b].d * f16_to_f32(x[b].d);
        const float dmin = y[b].d * f16_to_f32(x[b].dmin);
        sum += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
    }
    return sum;
}

float vec_dot_q3_k_q8_k_generic(int64_t n, const void* vx, const void* vy) {
    return vec_dot_signed16<BlockQ3_K>(n, vx, vy, q3_k_block_scale);
}

namespace {

// Shared by Q4_K and Q5_K, whose quants are unsigned with a per-sub-block min.
template <typename Block>
float vec_dot_k4_like(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const Block*>(vx);
    const auto* y = static_cast<const BlockQ8_K*>(vy);
    int8_t q[kQK_K];
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        unpack_quants(x[b], q);
        int32_t isum = 0, summs = 0;
        for (int i = 0; i < 8; ++i) {
            int sc = 0, mn = 0;
            unpack_scale_min_k4(x[b].scales, i, &sc, &mn);
            isum += sc * dot_i8(q + 32 * i, y[b].qs + 32 * i, 32);
            summs += mn * (y[b].bsums[2 * i] + y[b].bsums[2 * i + 1]);
        }
        const float dall = y[b].d * f16_to_f32(x[b].d);
        const float dmin = y[b].d * f16_to_f32(x[b].dmin);
        sum += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
    }
    return sum;
}

}  // namespace

float vec_dot_q4_k_q8_k_generic(int64_t n, const void* vx, const void* vy) {
    return vec_dot_k4_like<BlockQ4_K>(n, vx, vy);
}

float vec_dot_q5_k_q8_k_generic(int64_t n, const void* vx, const void* vy) {
    return vec_dot_k4_like<BlockQ5_K>(n, vx, vy);
}

float vec_dot_q6_k_q8_k_generic(int64_t n, const void* vx, const void* vy) {
    return vec_dot_signed16<BlockQ6_K>(n, vx, vy, q6_k_block_scale);
}

}  // namespace mmojo
