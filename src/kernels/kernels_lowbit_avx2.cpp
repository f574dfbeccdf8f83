// AVX2 dot products and prompt tiles of the low-bit formats (kernels/kernels_lowbit_x86.h,
// kernels/gemm_lowbit_x86.h) with VPMADDUBSW + VPMADDWD. Unsigned x signed pairs stay below
// the s16 saturation: the largest magnitudes are 62 (IQ3_XXS) and 12 (NVFP4) against
// |y| <= 127, two products per pair.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/blocks_lowbit.h"
#include "kernels/gemm_kernels.h"
#include "kernels/iq_grids.h"
#include "kernels/simd_kernels.h"

namespace mmojo {

namespace {

struct DotAvx2 {
    static __m256i scaled(__m256i x, __m256i y, int s_lo, int s_hi) {
        const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(s_hi)),
                                               _mm_set1_epi16(static_cast<int16_t>(s_lo)));
        return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), scale);
    }
};

#include "kernels/kernels_lowbit_x86.h"
#include "kernels/gemm_lowbit_x86.h"

}  // namespace

VecDotFn vec_dot_lowbit_avx2(TensorType type) { return lowbit_lookup<DotAvx2>(type); }
MatmulTileFn matmul_tile_lowbit_avx2(TensorType type) { return lowbit_tile_lookup<DotAvx2>(type); }

}  // namespace mmojo
