// AArch64 Advanced SIMD (armv8-a) dot products of the low-bit formats: kernels/kernels_lowbit_neon.h
// with widening multiplies (SMULL/SMLAL into s16, then SADDLP). Two products per s16 lane stay
// below 2 * 62 * 127: no overflow for weights up to IQ3_XXS's 62 and activations in -127..127.
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "kernels/blocks_lowbit.h"
#include "kernels/iq_grids.h"
#include "kernels/simd_kernels.h"

namespace mmojo {

namespace {

struct WideningDot16 {
    static int32x4_t dot16(int8x16_t x, int8x16_t y) {
        return vpaddlq_s16(vmlal_high_s8(vmull_s8(vget_low_s8(x), vget_low_s8(y)), x, y));
    }
};

#include "kernels/kernels_lowbit_neon.h"

}  // namespace

VecDotFn vec_dot_lowbit_neon(TensorType type) { return lowbit_lookup<WideningDot16>(type); }

}  // namespace mmojo
