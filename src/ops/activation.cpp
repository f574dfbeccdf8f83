// Element-wise operations (see activation.h).
#include "ops/activation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/vector_kernels.h"
#include "kernels/tensor_type.h"

namespace mmojo {

namespace {

constexpr float kSqrt2OverPi = 0.79788456080286535588f;
constexpr float kGeluCubic = 0.044715f;

// gelu_tanh of every F16 value, itself rounded to F16 and widened back: 65536 floats
// indexed by the F16 bit pattern of the input.
const std::vector<float>& gelu_f16_table() {
    static const std::vector<float> table = [] {
        const TensorTypeTraits* f16 = tensor_type_traits(TensorType::kF16);
        std::vector<float> values(65536);
        for (uint32_t bits = 0; bits < 65536; ++bits) {
            const uint16_t h = uint16_t(bits);
            float x = 0.0f;
            f16->to_float(&h, &x, 1);
            const float g = gelu_tanh(x);
            uint16_t rounded = 0;
            f16->from_float(&g, &rounded, 1);
            f16->to_float(&rounded, &values[bits], 1);
        }
        return values;
    }();
    return table;
}

}  // namespace

void softmax(float* x, int64_t n) {
    if (n <= 0) return;
    const VectorKernels& k = vector_kernels();
    const double sum = k.exp_sum(x, n, k.max(x, n));
    k.scale_mul(x, float(1.0 / sum), nullptr, x, n);
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

float gelu_tanh(float x) {
    return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kGeluCubic * x * x)));
}

float gelu(float x) {
    if (x <= -10.0f) return 0.0f;
    if (x >= 10.0f) return x;
    static const TensorTypeTraits* f16 = tensor_type_traits(TensorType::kF16);
    uint16_t h = 0;
    f16->from_float(&x, &h, 1);
    return gelu_f16_table()[h];
}

void silu(const float* x, float* y, int64_t n) { vector_kernels().silu(x, y, n); }

void gelu(const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = gelu(x[i]);
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
    vector_kernels().swiglu(gate, up, out, n);
}

void geglu(const float* gate, const float* up, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = gelu(gate[i]) * up[i];
}

void softcap(float* x, int64_t n, float cap) {
    for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

void add(const float* a, const float* b, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void mul(const float* a, const float* b, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
}

void scale(float* x, int64_t n, float factor) { vector_kernels().scale_mul(x, factor, nullptr, x, n); }

}  // namespace mmojo
