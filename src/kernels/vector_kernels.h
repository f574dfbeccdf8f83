// The float row kernels under softmax, SiLU/SwiGLU, RMSNorm and the attention sums, one
// table per CPU level. The generic table (vector_kernels.cpp) is the definition: std::exp,
// sums in double, one rounding per operation as written. SIMD tables (vector_kernels_<isa>.cpp)
// use a polynomial exp (relative error below 2e-7 of std::exp on normal results, see
// vector_kernels_avx2.cpp), float lanes, FMA and another summation order;
// tests/unit/vector_kernels_test.cpp compares each with the generic one.
//
// select_kernels (kernels/dispatch.h) installs the table of the chosen level once; the ops
// read it through vector_kernels().
#pragma once

#include <cstdint>

#include "kernels/dispatch.h"

namespace mmojo {

struct VectorKernels {
    float (*max)(const float* x, int64_t n);                      // n >= 1
    double (*exp_sum)(float* x, int64_t n, float shift);          // x = exp(x - shift); sum
    void (*silu)(const float* x, float* y, int64_t n);            // y = x / (1 + exp(-x))
    void (*swiglu)(const float* gate, const float* up, float* out, int64_t n);  // silu(g) * u
    double (*sum_squares)(const float* x, int64_t n);             // sum of float(x * x)
    // y = (x * s) * w, or x * s when w is null (two roundings, as llama.cpp's norm + mul).
    void (*scale_mul)(const float* x, float s, const float* w, float* y, int64_t n);
    void (*axpy)(float a, const float* x, float* y, int64_t n);   // y += a * x
};

// The table installed by select_kernels (the generic one before it is called).
const VectorKernels& vector_kernels();
// The table written for exactly `level`, nullptr when there is none (dispatch.cpp; for
// tests and select_kernels).
const VectorKernels* vector_kernels_at_level(CpuLevel level);

const VectorKernels* vector_kernels_generic();   // vector_kernels.cpp
const VectorKernels* vector_kernels_avx2();      // vector_kernels_avx2.cpp (also used at avx512+)

}  // namespace mmojo
