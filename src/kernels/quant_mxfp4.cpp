// Generic MXFP4 kernels (see mxfp4.h): dequantization, and the dot product with Q8_0
// activations (blocks of 32 as well): per block the int32 sum of level * q8, times
// 2^(e - 128) * d_q8.
#include "kernels/blocks.h"
#include "kernels/float16.h"
#include "kernels/mxfp4.h"

namespace mmojo {

void mxfp4_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockMXFP4*>(src);
    for (int64_t b = 0; b < n / 32; ++b) {
        const float d = mxfp4_half_scale(blocks[b].e);
        float* y = dst + b * 32;
        for (int j = 0; j < 16; ++j) {
            y[j] = d * float(kMxfp4Levels[blocks[b].qs[j] & 0x0f]);
            y[j + 16] = d * float(kMxfp4Levels[blocks[b].qs[j] >> 4]);
        }
    }
}

float vec_dot_mxfp4_q8_0_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockMXFP4*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / 32; ++b) {
        int32_t isum = 0;
        for (int j = 0; j < 16; ++j) {
            isum += kMxfp4Levels[x[b].qs[j] & 0x0f] * y[b].qs[j];
            isum += kMxfp4Levels[x[b].qs[j] >> 4] * y[b].qs[j + 16];
        }
        sum += float(isum) * (mxfp4_half_scale(x[b].e) * f16_to_f32(y[b].d));
    }
    return sum;
}

}  // namespace mmojo
