// Rotary position embedding (see rope.h).
#include "ops/rope.h"

#include <algorithm>
#include <cmath>

namespace mmojo {

void rope_angles(const RopeConfig& config, int32_t pos, float* cos_out, float* sin_out) {
    const int32_t half = config.n_dims / 2;
    double magnitude = double(config.attn_factor);
    if (config.yarn_ext_factor != 0.0f) magnitude *= 1.0 + 0.1 * std::log(1.0 / double(config.freq_scale));
    for (int32_t i = 0; i < half; ++i) {
        double theta = double(pos) * std::pow(double(config.freq_base), -2.0 * double(i) / double(config.n_dims));
        if (config.freq_factors) theta /= double(config.freq_factors[i]);
        double scaled = theta * double(config.freq_scale);
        if (config.yarn_ext_factor != 0.0f) {
            const double y = (double(i) - config.yarn_low) / std::max(0.001, double(config.yarn_high - config.yarn_low));
            const double r = double(config.yarn_ext_factor) * (1.0 - std::clamp(y, 0.0, 1.0));
            scaled = scaled * (1.0 - r) + theta * r;
        }
        cos_out[i] = float(std::cos(scaled) * magnitude);
        sin_out[i] = float(std::sin(scaled) * magnitude);
    }
}

void rope_yarn_corr_dims(int32_t n_dims, uint32_t n_ctx_orig, float freq_base, float beta_fast,
                         float beta_slow, float& low, float& high) {
    const auto dim = [&](float beta) {
        return float(n_dims) * std::log(float(n_ctx_orig) / (beta * 2.0f * 3.14159265358979f)) /
               (2.0f * std::log(freq_base));
    };
    low = std::max(0.0f, std::floor(dim(beta_fast)));
    high = std::min(float(n_dims - 1), std::ceil(dim(beta_slow)));
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
