// AVX-512 (F/BW/VL/DQ) + AVX512-VNNI dot products of the 32-element formats against Q8_0
// (installed by quant/dispatch.cpp at level avx512vnni; other types fall back to the AVX2
// kernels). Each kernel computes what the generic kernel of the same name in quant_*.cpp
// computes; tests/unit/simd_kernels_test.cpp compares the two.
//
// VPDPBUSD multiplies 4 unsigned bytes by 4 signed bytes and adds the four products to an
// s32 lane without intermediate saturation. Signed x signed products move the sign of x onto
// y (y negated where x < 0) so that |x| is the unsigned operand; exact for x in -127..127
// and any y except -128 combined with negative x, i.e. for the quants every Q8 quantizer
// produces (-127..127). Two blocks fill a 512-bit register; their 8-lane sums are scaled by
// their own d_x * d_y in float.
//
// See quant/simd_kernels.h for why everything here but the lookup is in an anonymous
// namespace.
#include <immintrin.h>

#include <cstdint>

#include "quant/blocks.h"
#include "quant/simd_kernels.h"

// GCC 12's AVX-512 intrinsics fill don't-care lanes from a self-initialised variable
// (_mm512_undefined_*), which -Wuninitialized reports at -O3 once inlined; the lanes are
// never read, so the warning is a false positive in this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace mmojo {

namespace {

inline float half(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i load256(const void* p) {
    return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

inline __m512i join(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// 16 s32 lanes: lane k sums x*y over bytes 4k..4k+3, both signed.
inline __m512i dot_s8(__m512i x, __m512i y) {
    const __mmask64 negative = _mm512_movepi8_mask(x);
    const __m512i y_signed = _mm512_mask_sub_epi8(y, negative, _mm512_setzero_si512(), y);
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(x), y_signed);
}

// The same for one block in 256 bits.
inline __m256i dot_s8(__m256i x, __m256i y) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(x, x),
                               _mm256_sign_epi8(y, x));
}

// Lanes 0..7 = a, lanes 8..15 = b.
inline __m512 two_scales(float a, float b) {
    return _mm512_insertf32x8(_mm512_set1_ps(a), _mm256_set1_ps(b), 1);
}

inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Q4_0 quants minus 8 in element order (low nibbles are elements 0..15, high 16..31).
inline __m256i q4_0_values(const uint8_t* qs) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i mask = _mm_set1_epi8(0x0f);
    const __m128i lo = _mm_and_si128(b, mask);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), mask);
    return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
}

// Sum over blocks of d_x d_y dot(values(x_b), y_b); `values` gives a block's 32 signed
// quants. Two blocks per step in 512 bits, an odd last block in 256 bits.
template <typename BlockX, typename Values>
inline float dot_blocks_q8_0(int64_t n, const void* vx, const void* vy, Values values) {
    const auto* x = static_cast<const BlockX*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    const int64_t nb = n / kQK;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 3 < nb; b += 4) {
        const __m512i p0 = dot_s8(join(values(x[b]), values(x[b + 1])),
                                  join(load256(y[b].qs), load256(y[b + 1].qs)));
        const __m512i p1 = dot_s8(join(values(x[b + 2]), values(x[b + 3])),
                                  join(load256(y[b + 2].qs), load256(y[b + 3].qs)));
        const __m512 d0 = two_scales(half(x[b].d) * half(y[b].d), half(x[b + 1].d) * half(y[b + 1].d));
        const __m512 d1 = two_scales(half(x[b + 2].d) * half(y[b + 2].d), half(x[b + 3].d) * half(y[b + 3].d));
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), d0, acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p1), d1, acc1);
    }
    for (; b + 1 < nb; b += 2) {
        const __m512i p0 = dot_s8(join(values(x[b]), values(x[b + 1])),
                                  join(load256(y[b].qs), load256(y[b + 1].qs)));
        const __m512 d0 = two_scales(half(x[b].d) * half(y[b].d), half(x[b + 1].d) * half(y[b + 1].d));
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0), d0, acc0);
    }
    acc0 = _mm512_add_ps(acc0, acc1);
    __m256 acc = _mm256_add_ps(_mm512_castps512_ps256(acc0), _mm512_extractf32x8_ps(acc0, 1));
    if (b < nb) {
        const __m256i p = dot_s8(values(x[b]), load256(y[b].qs));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(half(x[b].d) * half(y[b].d)), acc);
    }
    return hsum_ps(acc);
}

float dot_q4_0_q8_0(int64_t n, const void* vx, const void* vy) {
    return dot_blocks_q8_0<BlockQ4_0>(n, vx, vy,
                                      [](const BlockQ4_0& b) { return q4_0_values(b.qs); });
}

float dot_q8_0_q8_0(int64_t n, const void* vx, const void* vy) {
    return dot_blocks_q8_0<BlockQ8_0>(n, vx, vy, [](const BlockQ8_0& b) { return load256(b.qs); });
}

}  // namespace

VecDotFn vec_dot_avx512vnni(TensorType type) {
    switch (type) {
        case TensorType::kQ4_0: return dot_q4_0_q8_0;
        case TensorType::kQ8_0: return dot_q8_0_q8_0;
        default: return nullptr;
    }
}

}  // namespace mmojo
