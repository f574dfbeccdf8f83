// Prompt-processing tile of the lattice formats at level avx2: kernels/gemm_lowbit_x86.h with the
// same integer dot as kernels/kernels_lowbit_avx2.cpp.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/gemm_kernels.h"
#include "kernels/blocks_lowbit.h"
#include "kernels/iq_grids.h"

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

MatmulTileFn matmul_tile_lowbit_avx2(TensorType type) { return lowbit_tile_lookup<DotAvx2>(type); }

}  // namespace mmojo
