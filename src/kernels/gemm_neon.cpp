// Register-blocked matrix products for prompt processing with AArch64 Advanced SIMD and no
// dot-product extension (armv8-a, installed by ops/matmul.cpp at level neon): the panels of
// gemm_neon_common.h (Q4_0, Q8_0, Q4_K, Q6_K) with the widening int8 dot below.
//
// See kernels/simd_kernels.h for why everything here but the lookup is in an anonymous
// namespace and no std:: templates are used.
#include <arm_neon.h>

#include "kernels/gemm_kernels.h"
#include "kernels/gemm_neon_common.h"

namespace mmojo {

namespace {

// The Dot of gemm_neon_common.h without SDOT. Armv8.0 has no int8 multiply by element, so
// a 16-element half of a panel keeps each row's quants in one register, in element order
// (register r = row r): SMULL/SMLAL2 multiply them with the activation register into s16
// pair sums (at most 2 * 128 * 127 = 32512 for activations in -127..127, which every Q8
// quantizer produces), SADDLP/SADALP widen and add them in s32, and sum_rows gathers the
// four rows into the four lanes (one reduction per 32 elements in dot32).
struct WideningQuads {
    static void store16(const int8x16_t rows[4], int8_t* out) {
        for (int r = 0; r < 4; ++r) vst1q_s8(out + 16 * r, rows[r]);
    }
    static int16x8_t pair_sums(int8x16_t w, int8x16_t x) {
        return vmlal_high_s8(vmull_s8(vget_low_s8(w), vget_low_s8(x)), w, x);
    }
    static int32x4_t dot16(int32x4_t acc, const int8x16_t w[4], int8x16_t x) {
        int32x4_t s[4];
        for (int r = 0; r < 4; ++r) s[r] = vpaddlq_s16(pair_sums(w[r], x));
        return vaddq_s32(acc, sum_rows(s));
    }
    static int32x4_t dot32(int32x4_t acc, const int8x16_t w[8], int8x16_t x0, int8x16_t x1) {
        int32x4_t s[4];
        for (int r = 0; r < 4; ++r) s[r] = vpadalq_s16(vpaddlq_s16(pair_sums(w[r], x0)), pair_sums(w[4 + r], x1));
        return vaddq_s32(acc, sum_rows(s));
    }
};

}  // namespace

MatmulTileFn matmul_tile_neon() { return gemm_tile<WideningQuads>; }

}  // namespace mmojo
