// AArch64 dot products with the dot-product extension (armv8.2-a+dotprod, FEAT_DotProd) of
// the integer types (installed by kernels/dispatch.cpp at level neondot): the shared kernels
// of kernels_neon_common.h (Q4_0 ... IQ4_XS) instantiated with the SDOT-based int8 dot
// below. The float types fall back to the neon kernels. SDOT adds four int8 x int8
// products to each s32 lane with no intermediate rounding or saturation, so the integer
// block sums are exact for any int8 inputs.
//
// See kernels/simd_kernels.h for why everything here but the lookup is in an anonymous
// namespace.
#include <arm_neon.h>

#include "kernels/kernels_neon_common.h"
#include "kernels/simd_kernels.h"

namespace mmojo {

namespace {

// The int8 dot policy of kernels_neon_common.h with SDOT.
struct SdotInt8Dot {
    static int32x4_t dot32(int8x16_t x0, int8x16_t x1, int8x16_t y0, int8x16_t y1) {
        return vdotq_s32(vdotq_s32(vdupq_n_s32(0), x0, y0), x1, y1);
    }
    static int32x4_t dot16(int8x16_t x, int8x16_t y) { return vdotq_s32(vdupq_n_s32(0), x, y); }
    // Two SDOTs per Q4_0 / Q8_0 block: alternate two float chains so the FMA latency is not
    // the bottleneck.
    static constexpr int kBlockAccumulators = 2;
};

}  // namespace

VecDotFn vec_dot_neondot(TensorType type) { return integer_vec_dot<SdotInt8Dot>(type); }

}  // namespace mmojo
