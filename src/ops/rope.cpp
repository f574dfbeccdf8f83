// Rotary position embedding (see rope.h).
#include "ops/rope.h"

#include <cmath>

namespace mmojo {

void rope_angles(const RopeConfig& config, int32_t pos, float* cos_out, float* sin_out) {
    const int32_t half = config.n_dims / 2;
    for (int32_t i = 0; i < half; ++i) {
        double theta = double(pos) * double(config.freq_scale) *
                       std::pow(double(config.freq_base), -2.0 * double(i) / double(config.n_dims));
        if (config.freq_factors) theta /= double(config.freq_factors[i]);
        cos_out[i] = float(std::cos(theta) * double(config.attn_factor));
        sin_out[i] = float(std::sin(theta) * double(config.attn_factor));
    }
}

void rope_apply(const RopeConfig& config, float* x, int64_t n_heads, int64_t head_dim,
                const float* cos_table, const float* sin_table) {
    const int32_t half = config.n_dims / 2;
    // Distance between the two members of a pair, and between consecutive pairs.
    const int64_t partner = config.layout == RopeLayout::kNeox ? half : 1;
    const int64_t step = config.layout == RopeLayout::kNeox ? 1 : 2;
    for (int64_t h = 0; h < n_heads; ++h) {
        float* head = x + h * head_dim;
        for (int32_t i = 0; i < half; ++i) {
            float* a = head + i * step;
            float* b = a + partner;
            const float x0 = *a;
            const float x1 = *b;
            *a = x0 * cos_table[i] - x1 * sin_table[i];
            *b = x0 * sin_table[i] + x1 * cos_table[i];
        }
    }
}

}  // namespace mmojo
