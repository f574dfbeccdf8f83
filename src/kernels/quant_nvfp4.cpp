// Generic kernels of NVFP4 (NVIDIA's 4-bit float format, as ModelOpt checkpoints carry it):
// blocks of 64 FP4 (E2M1) values in 4 sub-blocks of 16, each with an unsigned E4M3 scale.
// ggml-common.h / ggml-quants.c are the specification (the format has no tensor-wide second
// scale in GGUF: converters fold it into the weights).
//
// The dot product is against Q8_0 (two activation blocks per NVFP4 block): the doubled E2M1
// values are small integers (kE2M1Doubled), so each sub-block is an integer dot times
// scale * d_activation.
#include "kernels/blocks_lowbit.h"
#include "kernels/float16.h"
#include "kernels/kernels.h"

namespace mmojo {

void nvfp4_to_float(const void* src, float* dst, int64_t n) {
    const auto* blocks = static_cast<const BlockNVFP4*>(src);
    for (int64_t b = 0; b < n / kQK_NVFP4; ++b) {
        for (int s = 0; s < kQK_NVFP4 / kQK_NVFP4_SUB; ++s) {
            const float d = ue4m3_to_float(blocks[b].d[s]);
            float* y = dst + b * kQK_NVFP4 + kQK_NVFP4_SUB * s;
            for (int j = 0; j < kQK_NVFP4_SUB / 2; ++j) {
                const uint8_t byte = blocks[b].qs[8 * s + j];
                y[j] = static_cast<float>(kE2M1Doubled[byte & 0x0f]) * d;
                y[j + 8] = static_cast<float>(kE2M1Doubled[byte >> 4]) * d;
            }
        }
    }
}

float vec_dot_nvfp4_q8_0_generic(int64_t n, const void* vx, const void* vy) {
    const auto* x = static_cast<const BlockNVFP4*>(vx);
    const auto* y = static_cast<const BlockQ8_0*>(vy);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK_NVFP4; ++b) {
        for (int s = 0; s < kQK_NVFP4 / kQK_NVFP4_SUB; ++s) {
            const BlockQ8_0& a = y[2 * b + s / 2];
            const int8_t* aq = a.qs + kQK_NVFP4_SUB * (s % 2);
            int32_t isum = 0;
            for (int j = 0; j < kQK_NVFP4_SUB / 2; ++j) {
                const uint8_t byte = x[b].qs[8 * s + j];
                isum += kE2M1Doubled[byte & 0x0f] * aq[j] + kE2M1Doubled[byte >> 4] * aq[j + 8];
            }
            sum += ue4m3_to_float(x[b].d[s]) * f16_to_f32(a.d) * static_cast<float>(isum);
        }
    }
    return sum;
}

}  // namespace mmojo
