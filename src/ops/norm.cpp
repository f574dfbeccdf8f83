// RMSNorm and LayerNorm over float rows (see norm.h).
#include "ops/norm.h"

#include <cmath>

#include "kernels/vector_kernels.h"

namespace mmojo {

void rms_norm(const float* x, float* y, int64_t n_rows, int64_t n, const float* weight, float eps) {
    const VectorKernels& k = vector_kernels();
    for (int64_t row = 0; row < n_rows; ++row) {
        const float* xr = x + row * n;
        const float mean_sq = float(k.sum_squares(xr, n) / double(n));
        const float scale = 1.0f / std::sqrt(mean_sq + eps);
        k.scale_mul(xr, scale, weight, y + row * n, n);
    }
}

void layer_norm(const float* x, float* y, int64_t n_rows, int64_t n, const float* weight,
                const float* bias, float eps) {
    for (int64_t row = 0; row < n_rows; ++row) {
        const float* xr = x + row * n;
        float* yr = y + row * n;
        double sum = 0.0;
        for (int64_t i = 0; i < n; ++i) sum += double(xr[i]);
        const float mean = float(sum / double(n));
        double sum_sq = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            const float centered = xr[i] - mean;
            yr[i] = centered;
            sum_sq += double(centered * centered);
        }
        const float variance = float(sum_sq / double(n));
        const float scale = 1.0f / std::sqrt(variance + eps);
        for (int64_t i = 0; i < n; ++i) {
            float v = yr[i] * scale;
            if (weight) v *= weight[i];
            if (bias) v += bias[i];
            yr[i] = v;
        }
    }
}

}  // namespace mmojo
