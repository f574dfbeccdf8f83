// AVX-512 F16/BF16 row conversions (built with the avx512 flags of CMakeLists.txt; installed
// by kernels/dispatch.cpp at levels avx512 and up). Same bits as the generic functions of
// quant_float.cpp, 16 elements per step and the tail through a masked load/store. The
// activation quantizers have no AVX-512 version: their blocks of 32 already fill the AVX2
// ones (convert_avx2.cpp), which these levels use.
//
// See kernels/simd_kernels.h for why everything but the lookups is in an anonymous namespace.
#include <immintrin.h>

#include <cstdint>

#include "kernels/simd_kernels.h"

namespace mmojo {

namespace {

inline __mmask16 tail_mask(int64_t left) {
    return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1u);
}

// 16 halves -> 16 floats, bit-exact with f16_to_f32: VCVTPH2PS quiets signaling NaNs, so
// bit 22 is cleared again where the half's quiet bit (9) was clear.
inline __m512 widen_f16(__m256i h) {
    const __m512i wide = _mm512_cvtepu16_epi32(h);
    const __mmask16 nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(wide, _mm512_set1_epi32(0x7fff)),
                                                  _mm512_set1_epi32(0x7c00));
    const __mmask16 signaling =
        _mm512_mask_testn_epi32_mask(nan, wide, _mm512_set1_epi32(0x0200));
    const __m512i bits = _mm512_castps_si512(_mm512_cvtph_ps(h));
    return _mm512_castsi512_ps(
        _mm512_mask_andnot_epi32(bits, signaling, _mm512_set1_epi32(0x400000), bits));
}

void f16_to_float(const void* src, float* dst, int64_t n) {
    const auto* s = static_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(dst + i, m, widen_f16(_mm256_maskz_loadu_epi16(m, s + i)));
    }
}

void f16_from_float(const float* src, void* dst, int64_t n) {
    auto* d = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), 0);
        _mm256_mask_storeu_epi16(d + i, m, h);
    }
}

void bf16_to_float(const void* src, float* dst, int64_t n) {
    const auto* s = static_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, s + i));
        _mm512_mask_storeu_ps(dst + i, m, _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16)));
    }
}

}  // namespace

ToFloatFn to_float_avx512(TensorType type) {
    switch (type) {
        case TensorType::kF16: return f16_to_float;
        case TensorType::kBF16: return bf16_to_float;
        default: return nullptr;
    }
}

FromFloatFn from_float_avx512(TensorType type) {
    switch (type) {
        case TensorType::kF16: return f16_from_float;
        default: return nullptr;
    }
}

}  // namespace mmojo
