// Register-blocked matrix products for prompt processing with the dot-product extension
// (armv8.2-a+dotprod, installed by ops/matmul.cpp at level neondot): the panels of
// gemm_neon_common.h (Q4_0, Q8_0, Q4_K, Q6_K) with the lane-indexed SDOT below.
//
// See kernels/simd_kernels.h for why everything here but the lookup is in an anonymous
// namespace and no std:: templates are used.
#include <arm_neon.h>

#include "kernels/gemm_kernels.h"
#include "kernels/gemm_neon_common.h"

namespace mmojo {

namespace {

// The Dot of gemm_neon_common.h with SDOT by element. A 16-element half of a panel is
// stored as four registers, register g holding elements 4g..4g+3 of rows 0..3 (a 4 x 4
// transpose of 32-bit groups); SDOT with lane g of the activation register (its elements
// 4g..4g+3) then adds row r's group g into lane r. Four SDOTs per 16 elements of 4 rows,
// with no horizontal sums, and exact for any int8 inputs.
struct SdotQuads {
    static void store16(const int8x16_t rows[4], int8_t* out) {
        const int32x4_t r0 = vreinterpretq_s32_s8(rows[0]), r1 = vreinterpretq_s32_s8(rows[1]);
        const int32x4_t r2 = vreinterpretq_s32_s8(rows[2]), r3 = vreinterpretq_s32_s8(rows[3]);
        // t01 = (r0.0 r1.0 r0.2 r1.2), u01 = (r0.1 r1.1 r0.3 r1.3), the same for rows 2, 3;
        // then the 64-bit halves are paired up: (r0.g r1.g r2.g r3.g).
        const int64x2_t t01 = vreinterpretq_s64_s32(vtrn1q_s32(r0, r1));
        const int64x2_t u01 = vreinterpretq_s64_s32(vtrn2q_s32(r0, r1));
        const int64x2_t t23 = vreinterpretq_s64_s32(vtrn1q_s32(r2, r3));
        const int64x2_t u23 = vreinterpretq_s64_s32(vtrn2q_s32(r2, r3));
        vst1q_s8(out, vreinterpretq_s8_s64(vtrn1q_s64(t01, t23)));
        vst1q_s8(out + 16, vreinterpretq_s8_s64(vtrn1q_s64(u01, u23)));
        vst1q_s8(out + 32, vreinterpretq_s8_s64(vtrn2q_s64(t01, t23)));
        vst1q_s8(out + 48, vreinterpretq_s8_s64(vtrn2q_s64(u01, u23)));
    }
    static int32x4_t dot16(int32x4_t acc, const int8x16_t w[4], int8x16_t x) {
        acc = vdotq_laneq_s32(acc, w[0], x, 0);
        acc = vdotq_laneq_s32(acc, w[1], x, 1);
        acc = vdotq_laneq_s32(acc, w[2], x, 2);
        return vdotq_laneq_s32(acc, w[3], x, 3);
    }
    static int32x4_t dot32(int32x4_t acc, const int8x16_t w[8], int8x16_t x0, int8x16_t x1) {
        return dot16(dot16(acc, w, x0), w + 4, x1);
    }
};

}  // namespace

MatmulTileFn matmul_tile_neondot() { return gemm_tile<SdotQuads>; }

}  // namespace mmojo
