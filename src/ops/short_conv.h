// Short causal convolution over time, one filter per channel (depthwise), with a carried
// state: the "conv1d" of Mamba, Gated DeltaNet (Qwen3-Next / Qwen 3.5) and LFM2's short
// convolutions, as ggml's ssm_conv computes it.
//
// For a filter of width W, channel c and token t of a pass whose input rows are x_0..x_{n-1}:
//     y_t[c] = sum_{j=0}^{W-1} w[c][j] * z_{t+j}[c],   z = (state_0 .. state_{W-2}, x_0 .. x_{n-1})
// i.e. the W - 1 inputs before the pass come from the state, and afterwards the state holds
// the last W - 1 rows of z. A pass over a whole prompt and token-by-token passes give the
// same outputs. The sum runs over j in order in float (ggml does the same).
#pragma once

#include <cstdint>

namespace mmojo {

// x: n_tokens rows of n_channels; kernel: n_channels rows of `width` taps (GGUF [width,
// n_channels]); state: width - 1 rows of n_channels, oldest first (zeros before the first
// token), read and updated; out: n_tokens rows of n_channels (must not alias x).
void causal_conv1d(const float* x, int64_t n_tokens, int64_t n_channels, const float* kernel,
                   int64_t width, float* state, float* out);

}  // namespace mmojo
