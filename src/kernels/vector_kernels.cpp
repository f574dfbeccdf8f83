// Generic float row kernels (the readable definition, see vector_kernels.h).
#include "kernels/vector_kernels.h"

#include <cmath>

namespace mmojo {

namespace {

float max_generic(const float* x, int64_t n) {
    float m = x[0];
    for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
    return m;
}

double exp_sum_generic(float* x, int64_t n, float shift) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - shift);
        sum += double(x[i]);
    }
    return sum;
}

void silu_generic(const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (1.0f + std::exp(-x[i]));
}

void swiglu_generic(const float* gate, const float* up, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const float silu = gate[i] / (1.0f + std::exp(-gate[i]));
        out[i] = silu * up[i];
    }
}

double sum_squares_generic(const float* x, int64_t n) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += double(x[i] * x[i]);
    return sum;
}

void scale_mul_generic(const float* x, float s, const float* w, float* y, int64_t n) {
    if (w) {
        for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * s) * w[i];
    } else {
        for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s;
    }
}

void axpy_generic(float a, const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

const VectorKernels kGeneric = {max_generic,         exp_sum_generic,   silu_generic, swiglu_generic,
                                sum_squares_generic, scale_mul_generic, axpy_generic};

}  // namespace

const VectorKernels* vector_kernels_generic() { return &kGeneric; }

}  // namespace mmojo
