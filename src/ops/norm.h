// Normalizations of float rows.
//
// RMSNorm (Zhang & Sennrich 2019): y = x / sqrt(mean(x^2) + eps) * w.
// LayerNorm (Ba et al. 2016):      y = (x - mean(x)) / sqrt(var(x) + eps) * w + b.
// Sums are taken in double (RMSNorm through kernels/vector_kernels.h); the scale is applied in float and the weight multiplied
// after it, in that order, as llama.cpp's CPU backend does (its norm and mul are two ops).
#pragma once

#include <cstdint>

namespace mmojo {

// n_rows rows of n floats, x and y may alias. weight (n floats) may be null (no scaling).
void rms_norm(const float* x, float* y, int64_t n_rows, int64_t n, const float* weight, float eps);

// As rms_norm; weight and bias may each be null.
void layer_norm(const float* x, float* y, int64_t n_rows, int64_t n, const float* weight,
                const float* bias, float eps);

}  // namespace mmojo
