// Element-wise operations on float rows: softmax, SiLU/SwiGLU (Shazeer 2020), GELU,
// soft-capping, addition and multiplication.
//
// GELU: llama.cpp's CPU backend uses the tanh approximation
//     gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
// through a table: for -10 < x < 10, x is rounded to F16 and the F16-rounded value of the
// formula at that point is returned; at or below -10 the result is 0, at or above 10 it is
// x. `gelu` does the same (so that models using it match llama.cpp); `gelu_tanh` is the
// plain formula in float.
#pragma once

#include <cstdint>

namespace mmojo {

// In place: x = exp(x - max) / sum(exp(x - max)). Through kernels/vector_kernels.h: the generic
// level sums std::exp in double, SIMD levels use a polynomial exp and float lanes.
void softmax(float* x, int64_t n);

float silu(float x);                    // x * sigmoid(x)
float gelu_tanh(float x);               // the tanh approximation, in float
float gelu(float x);                    // the same through llama.cpp's F16 table

void silu(const float* x, float* y, int64_t n);
void gelu(const float* x, float* y, int64_t n);
// out = silu(gate) * up, and out = gelu(gate) * up (GeGLU).
void swiglu(const float* gate, const float* up, float* out, int64_t n);
void geglu(const float* gate, const float* up, float* out, int64_t n);

// In place: x = cap * tanh(x / cap) (gemma2's logit soft-capping).
void softcap(float* x, int64_t n, float cap);

void add(const float* a, const float* b, float* out, int64_t n);   // out = a + b
void mul(const float* a, const float* b, float* out, int64_t n);   // out = a * b
void scale(float* x, int64_t n, float factor);                       // x *= factor

}  // namespace mmojo
