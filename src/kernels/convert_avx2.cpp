// AVX2 + F16C row conversions: F16/BF16 <-> F32 and the activation quantizers Q8_0, Q8_1,
// Q8_K (built with -mavx2 -mfma -mf16c -mbmi2; installed by kernels/dispatch.cpp). Each one
// produces the same bits as the generic function of the same name in quant_float.cpp,
// quant_legacy.cpp or quant_kquants.cpp; tests/unit/convert_test.cpp checks that.
//
// Exactness notes:
// - VCVTPH2PS widens exactly but quiets a signaling NaN; the generic keeps its quiet bit
//   clear, so NaN lanes get that bit put back.
// - VCVTPS2PH with immediate 0 rounds to nearest even and keeps NaN payloads the way
//   kernels/float16.h documents, so it is used as is.
// - VCVTPS2DQ rounds half to even and turns NaN / out-of-range into INT32_MIN, which is
//   round_even_to_i32 of the generic Q8_0 quantizer; the packs saturate like saturate_i8.
// - The Q8_0/Q8_1 amax is reduced with MAXPS in the generic's order (it matters for NaN).
//
// See kernels/simd_kernels.h for why everything but the lookups is in an anonymous namespace.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/simd_kernels.h"

namespace mmojo {

namespace {

inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

inline uint16_t to_half(float f) {
    return static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), 0), 0));
}

// 8 halves -> 8 floats, bit-exact with f16_to_f32 (signaling NaNs stay signaling).
inline __m256 widen_f16(__m128i h) {
    const __m256i wide = _mm256_cvtepu16_epi32(h);
    const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(wide, _mm256_set1_epi32(0x7fff)),
                                           _mm256_set1_epi32(0x7c00));
    // VCVTPH2PS set bit 22; keep it only where the half had its quiet bit (9) set.
    const __m256i fix = _mm256_andnot_si256(_mm256_slli_epi32(wide, 13),
                                            _mm256_and_si256(nan, _mm256_set1_epi32(0x400000)));
    return _mm256_castsi256_ps(
        _mm256_xor_si256(_mm256_castps_si256(_mm256_cvtph_ps(h)), fix));
}

// 8 floats -> 8 bfloat16, bit-exact with f32_to_bf16.
inline __m128i narrow_bf16(__m256 x) {
    const __m256i u = _mm256_castps_si256(x);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    const __m256i rounded =
        _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb), 16);
    const __m256i abs = _mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff));
    const __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7f800000));
    const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
    const __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);  // each value fits 16 bits
    const __m256i packed = _mm256_packus_epi32(r, r);            // lanes 0..3 | 4..7 twice
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08));
}

// Rows in steps of 8; the last partial step goes through a zero-padded copy so that it uses
// the same vector code.
void f16_to_float(const void* src, float* dst, int64_t n) {
    const auto* s = static_cast<const uint8_t*>(src);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, widen_f16(load128(s + 2 * i)));
    if (i < n) {
        uint16_t h[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        float f[8];
        std::memcpy(h, s + 2 * i, size_t(n - i) * 2);
        _mm256_storeu_ps(f, widen_f16(load128(h)));
        std::memcpy(dst + i, f, size_t(n - i) * sizeof(float));
    }
}

void f16_from_float(const float* src, void* dst, int64_t n) {
    auto* d = static_cast<uint8_t*>(dst);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 2 * i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), 0));
    }
    if (i < n) {
        float f[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        uint16_t h[8];
        std::memcpy(f, src + i, size_t(n - i) * sizeof(float));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm256_cvtps_ph(_mm256_loadu_ps(f), 0));
        std::memcpy(d + 2 * i, h, size_t(n - i) * 2);
    }
}

inline __m256 widen_bf16(__m128i h) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

void bf16_to_float(const void* src, float* dst, int64_t n) {
    const auto* s = static_cast<const uint8_t*>(src);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, widen_bf16(load128(s + 2 * i)));
    if (i < n) {
        uint16_t h[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        float f[8];
        std::memcpy(h, s + 2 * i, size_t(n - i) * 2);
        _mm256_storeu_ps(f, widen_bf16(load128(h)));
        std::memcpy(dst + i, f, size_t(n - i) * sizeof(float));
    }
}

void bf16_from_float(const float* src, void* dst, int64_t n) {
    auto* d = static_cast<uint8_t*>(dst);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 2 * i), narrow_bf16(_mm256_loadu_ps(src + i)));
    }
    if (i < n) {
        float f[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        uint16_t h[8];
        std::memcpy(f, src + i, size_t(n - i) * sizeof(float));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(h), narrow_bf16(_mm256_loadu_ps(f)));
        std::memcpy(d + 2 * i, h, size_t(n - i) * 2);
    }
}

// One block of 32 as quantize_block_q8 in quant_legacy.cpp: returns d (binary32), writes
// the int8 quants and the wrapping int32 sum of the unsaturated quants.
inline float quantize_block_q8(const float* x, int8_t* qs, int32_t* sum) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v[4];
    for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(x + 8 * k);
    __m256 lane = _mm256_andnot_ps(sign, v[0]);
    for (int k = 1; k < 4; ++k) lane = _mm256_max_ps(lane, _mm256_andnot_ps(sign, v[k]));
    const __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(lane, 1), _mm256_castps256_ps128(lane));
    const __m128 m2 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    const float amax = _mm_cvtss_f32(_mm_max_ss(m2, _mm_shuffle_ps(m2, m2, 1)));

    const float d = amax / 127.0f;
    const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], id));
    __m256i total = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1));
    *sum = _mm_cvtsi128_si32(t);

    // The packs interleave 128-bit lanes; the permute puts the 4-byte groups back in order.
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    const __m256i ordered = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), ordered);
    return d;
}

void q8_0_from_float(const float* src, void* dst, int64_t n) {
    auto* blocks = static_cast<BlockQ8_0*>(dst);
    for (int64_t b = 0; b < n / kQK; ++b) {
        int32_t sum = 0;
        const float d = quantize_block_q8(src + b * kQK, blocks[b].qs, &sum);
        blocks[b].d = to_half(d);
    }
}

void q8_1_from_float(const float* src, void* dst, int64_t n) {
    auto* blocks = static_cast<BlockQ8_1*>(dst);
    for (int64_t b = 0; b < n / kQK; ++b) {
        int32_t sum = 0;
        const float d = quantize_block_q8(src + b * kQK, blocks[b].qs, &sum);
        blocks[b].d = to_half(d);
        blocks[b].s = to_half(d * static_cast<float>(sum));
    }
}

inline float hmax_ps(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

// Q8_K as q8_k_from_float in quant_kquants.cpp. The generic keeps the first element of
// largest magnitude (NaNs never win), so the vector pass finds that magnitude and a scalar
// scan finds the element.
void q8_k_from_float(const float* src, void* dst, int64_t n) {
    auto* blocks = static_cast<BlockQ8_K*>(dst);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float* x = src + b * kQK_K;
        BlockQ8_K& out = blocks[b];
        __m256 acc = _mm256_setzero_ps();
        // MAXPS returns its second operand when either is NaN: NaN inputs are skipped.
        for (int j = 0; j < kQK_K; j += 8) acc = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)), acc);
        const float amax = hmax_ps(acc);
        if (amax == 0.0f) {
            std::memset(&out, 0, sizeof out);
            continue;
        }
        float max = 0.0f;
        for (int j = 0; j < kQK_K; ++j) {
            uint32_t bits;
            std::memcpy(&bits, x + j, sizeof bits);
            float ax;
            bits &= 0x7fffffffu;
            std::memcpy(&ax, &bits, sizeof ax);
            if (ax == amax) {
                max = x[j];
                break;
            }
        }
        const float iscale = -127.0f / max;
        const __m256 vscale = _mm256_set1_ps(iscale);
        // nearest_int rounds half to even like VCVTPS2DQ for every |v| < 2^22 (finite
        // inputs never leave that range); for a NaN it gives the low mantissa bits minus
        // 2^22, taken here from the bits directly. No float add, so nothing can be fused.
        const __m256i mant = _mm256_set1_epi32(0x007fffff);
        const __m256i offset = _mm256_set1_epi32(0x00400000);
        const __m256i low_byte = _mm256_set1_epi32(0xff);
        const __m256i top = _mm256_set1_epi32(127);
        __m256i sums[8];
        for (int j = 0; j < kQK_K; j += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; ++k) {
                const __m256 v = _mm256_mul_ps(vscale, _mm256_loadu_ps(x + j + 8 * k));
                const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
                const __m256i from_bits = _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(v), mant), offset);
                const __m256i i = _mm256_blendv_epi8(_mm256_cvtps_epi32(v), from_bits, nan);
                // static_cast<int8_t> keeps the low byte; packus of 0..255 is exact.
                q[k] = _mm256_and_si256(_mm256_min_epi32(i, top), low_byte);
            }
            const __m256i p = _mm256_packus_epi16(_mm256_packus_epi32(q[0], q[1]), _mm256_packus_epi32(q[2], q[3]));
            const __m256i bytes = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.qs + j), bytes);
            // s32 sums of 4 signed quants: 4 for elements j..j+15 (low lane), 4 for j+16.. .
            sums[j / 32] = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), bytes),
                                             _mm256_set1_epi16(1));
        }
        // Two rounds of HADD leave [g0 g2 g4 g6 | g1 g3 g5 g7] for 8 groups of 16.
        for (int h = 0; h < 2; ++h) {
            const __m256i a = _mm256_hadd_epi32(sums[4 * h], sums[4 * h + 1]);
            const __m256i c = _mm256_hadd_epi32(sums[4 * h + 2], sums[4 * h + 3]);
            const __m256i g = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(a, c),
                                                          _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            const __m256i s16 = _mm256_packs_epi32(g, g);  // |sum| <= 2048: exact
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out.bsums + 8 * h),
                             _mm256_castsi256_si128(_mm256_permute4x64_epi64(s16, 0x08)));
        }
        out.d = 1.0f / iscale;
    }
}

}  // namespace

ToFloatFn to_float_avx2(TensorType type) {
    switch (type) {
        case TensorType::kF16: return f16_to_float;
        case TensorType::kBF16: return bf16_to_float;
        default: return nullptr;
    }
}

FromFloatFn from_float_avx2(TensorType type) {
    switch (type) {
        case TensorType::kF16: return f16_from_float;
        case TensorType::kBF16: return bf16_from_float;
        case TensorType::kQ8_0: return q8_0_from_float;
        case TensorType::kQ8_1: return q8_1_from_float;
        case TensorType::kQ8_K: return q8_k_from_float;
        default: return nullptr;
    }
}

}  // namespace mmojo
