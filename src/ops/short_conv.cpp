// Depthwise causal convolution with a carried state (see short_conv.h).
#include "ops/short_conv.h"

#include <algorithm>
#include <vector>

namespace mmojo {

void causal_conv1d(const float* x, int64_t n_tokens, int64_t n_channels, const float* kernel,
                   int64_t width, float* state, float* out) {
    const int64_t n_state = width - 1;
    // z row r: the state for r < n_state, else input row r - n_state.
    auto z = [&](int64_t r) { return r < n_state ? state + r * n_channels : x + (r - n_state) * n_channels; };
    std::vector<float> acc(static_cast<size_t>(n_channels));
    for (int64_t t = 0; t < n_tokens; ++t) {
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int64_t j = 0; j < width; ++j) {
            const float* zr = z(t + j);
            for (int64_t c = 0; c < n_channels; ++c) acc[size_t(c)] += kernel[c * width + j] * zr[c];
        }
        std::copy(acc.begin(), acc.end(), out + t * n_channels);
    }
    // The new state: the last n_state rows of z (rows n_tokens .. n_tokens + n_state - 1).
    if (n_tokens >= n_state) {
        std::copy(x + (n_tokens - n_state) * n_channels, x + n_tokens * n_channels, state);
    } else {
        // Shift the old state up by n_tokens rows and append the inputs.
        const int64_t keep = n_state - n_tokens;
        std::copy(state + n_tokens * n_channels, state + n_state * n_channels, state);
        std::copy(x, x + n_tokens * n_channels, state + keep * n_channels);
    }
}

}  // namespace mmojo
