// AVX2 + FMA float row kernels (see kernels/vector_kernels.h for the contract; built with
// -mavx2 -mfma -mf16c -mbmi2). Tails of fewer than 8 elements go through a zero-padded
// copy (or, for max, a scalar loop) so that every element sees the same vector code.
//
// exp(x) = 2^n e^r with n = round(x log2 e) and r = x - n ln 2 (ln 2 split in a short
// high part, exact in the product, and a low part; Cody & Waite), |r| <= ln2 / 2, and e^r
// by its Taylor polynomial of degree 7 (truncation below 6e-9 relative). 2^n is applied as
// two powers of two so that n from -150 to 128 needs no special case: results underflow
// gradually to 0 and overflow to inf. x is clamped to [-104, 89] (beyond, the result is 0
// or inf anyway, and -inf / +inf land there); NaN passes through.
//
// See kernels/simd_kernels.h for why everything but the lookup is in an anonymous namespace.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/vector_kernels.h"

namespace mmojo {

namespace {

inline __m256 exp_ps(__m256 x) {
    const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-104.0f)), _mm256_set1_ps(89.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i half = _mm256_srai_epi32(ni, 1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), bias), 23));
    const __m256 result = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    return _mm256_blendv_ps(result, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

inline __m256 silu_ps(__m256 x) {
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), x));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

// Loads / stores of the last n < 8 elements, zero-padded.
inline __m256 load_tail(const float* x, int64_t n) {
    float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(buf, x, size_t(n) * sizeof(float));
    return _mm256_loadu_ps(buf);
}

inline void store_tail(float* y, __m256 v, int64_t n) {
    float buf[8];
    _mm256_storeu_ps(buf, v);
    std::memcpy(y, buf, size_t(n) * sizeof(float));
}

inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

float max_avx2(const float* x, int64_t n) {
    float m = x[0];
    int64_t i = 0;
    if (n >= 8) {
        __m256 acc = _mm256_loadu_ps(x);
        for (i = 8; i + 8 <= n; i += 8) acc = _mm256_max_ps(_mm256_loadu_ps(x + i), acc);
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        m = _mm_cvtss_f32(h);
    }
    for (; i < n; ++i) m = x[i] > m ? x[i] : m;
    return m;
}

double exp_sum_avx2(float* x, int64_t n, float shift) {
    const __m256 s = _mm256_set1_ps(shift);
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
        _mm256_storeu_ps(x + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    double sum = hsum_ps(acc);
    if (i < n) {
        const __m256 e = exp_ps(_mm256_sub_ps(load_tail(x + i, n - i), s));
        float buf[8];
        _mm256_storeu_ps(buf, e);
        for (int64_t k = 0; k < n - i; ++k) sum += double(buf[k]);
        std::memcpy(x + i, buf, size_t(n - i) * sizeof(float));
    }
    return sum;
}

void silu_avx2(const float* x, float* y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, silu_ps(_mm256_loadu_ps(x + i)));
    if (i < n) store_tail(y + i, silu_ps(load_tail(x + i, n - i)), n - i);
}

void swiglu_avx2(const float* gate, const float* up, float* out, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(out + i, _mm256_mul_ps(silu_ps(_mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
    }
    if (i < n) {
        const __m256 v = _mm256_mul_ps(silu_ps(load_tail(gate + i, n - i)), load_tail(up + i, n - i));
        store_tail(out + i, v, n - i);
    }
}

// Float squares (as the generic), summed in two double accumulators of 4 lanes.
double sum_squares_avx2(const float* x, int64_t n) {
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 sq = _mm256_mul_ps(v, v);
        lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(sq)));
        hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(sq, 1)));
    }
    const __m256d both = _mm256_add_pd(lo, hi);
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(both), _mm256_extractf128_pd(both, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    double sum = _mm_cvtsd_f64(s);
    for (; i < n; ++i) {
        const float sq = x[i] * x[i];
        sum += double(sq);
    }
    return sum;
}

void scale_mul_avx2(const float* x, float s, const float* w, float* y, int64_t n) {
    const __m256 vs = _mm256_set1_ps(s);
    int64_t i = 0;
    if (w) {
        for (; i + 8 <= n; i += 8) {
            const __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), _mm256_loadu_ps(w + i));
            _mm256_storeu_ps(y + i, v);
        }
        if (i < n) {
            const __m256 v = _mm256_mul_ps(_mm256_mul_ps(load_tail(x + i, n - i), vs), load_tail(w + i, n - i));
            store_tail(y + i, v, n - i);
        }
    } else {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
        if (i < n) store_tail(y + i, _mm256_mul_ps(load_tail(x + i, n - i), vs), n - i);
    }
}

void axpy_avx2(float a, const float* x, float* y, int64_t n) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    }
    if (i < n) {
        const __m256 v = _mm256_fmadd_ps(va, load_tail(x + i, n - i), load_tail(y + i, n - i));
        store_tail(y + i, v, n - i);
    }
}

const VectorKernels kAvx2 = {max_avx2,         exp_sum_avx2,   silu_avx2, swiglu_avx2,
                             sum_squares_avx2, scale_mul_avx2, axpy_avx2};

}  // namespace

const VectorKernels* vector_kernels_avx2() { return &kAvx2; }

}  // namespace mmojo
