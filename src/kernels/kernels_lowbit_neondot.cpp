// AArch64 dot products of the low-bit formats with the dot-product extension
// (armv8.2-a+dotprod): kernels/kernels_lowbit_neon.h with SDOT, exact for any int8 inputs.
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "kernels/blocks_lowbit.h"
#include "kernels/iq_grids.h"
#include "kernels/simd_kernels.h"

namespace mmojo {

namespace {

struct SdotDot16 {
    static int32x4_t dot16(int8x16_t x, int8x16_t y) { return vdotq_s32(vdupq_n_s32(0), x, y); }
};

#include "kernels/kernels_lowbit_neon.h"

}  // namespace

VecDotFn vec_dot_lowbit_neondot(TensorType type) { return lowbit_lookup<SdotDot16>(type); }

}  // namespace mmojo
