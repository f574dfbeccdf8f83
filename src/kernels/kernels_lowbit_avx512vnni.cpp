// AVX512-VNNI dot products and prompt tiles of the low-bit formats (kernels/kernels_lowbit_x86.h,
// kernels/gemm_lowbit_x86.h) with VPDPBUSD on 256-bit registers (AVX512VL), which sums 4
// unsigned x signed byte products into s32 without intermediate saturation; the group scale is
// applied with VPMULLD.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/blocks_lowbit.h"
#include "kernels/gemm_kernels.h"
#include "kernels/iq_grids.h"
#include "kernels/simd_kernels.h"

namespace mmojo {

namespace {

struct DotVnni {
    static __m256i scaled(__m256i x, __m256i y, int s_lo, int s_hi) {
        const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), x, y);
        if (s_lo == 1 && s_hi == 1) return sums;
        return _mm256_mullo_epi32(sums, _mm256_set_m128i(_mm_set1_epi32(s_hi), _mm_set1_epi32(s_lo)));
    }
};

#include "kernels/kernels_lowbit_x86.h"
#include "kernels/gemm_lowbit_x86.h"

}  // namespace

VecDotFn vec_dot_lowbit_avx512vnni(TensorType type) { return lowbit_lookup<DotVnni>(type); }
MatmulTileFn matmul_tile_lowbit_avx512vnni(TensorType type) { return lowbit_tile_lookup<DotVnni>(type); }

}  // namespace mmojo
