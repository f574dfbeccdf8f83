// Generic kernels of the plain floating-point types F32, F16 and BF16 (one element per
// "block"). Elements are read with memcpy so that rows may start at any byte.
//
// Dot products accumulate in double (as ggml's scalar fallback does), so the generic result
// is the correctly rounded float of a nearly exact sum; SIMD kernels will use float lanes and
// are tested against these within a tolerance.
#include <cstring>

#include "kernels/float16.h"
#include "kernels/kernels.h"

namespace mmojo {

namespace {

inline uint16_t load_u16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline float load_f32(const uint8_t* p) {
    float v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

}  // namespace

void f32_to_float(const void* src, float* dst, int64_t n) {
    if (n <= 0) return;
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void f32_from_float(const float* src, void* dst, int64_t n) {
    if (n <= 0) return;
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

float vec_dot_f32_generic(int64_t n, const void* x, const void* y) {
    const auto* xb = static_cast<const uint8_t*>(x);
    const auto* yb = static_cast<const uint8_t*>(y);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        sum += static_cast<double>(load_f32(xb + 4 * i)) * load_f32(yb + 4 * i);
    }
    return static_cast<float>(sum);
}

void f16_to_float(const void* src, float* dst, int64_t n) {
    const auto* s = static_cast<const uint8_t*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(load_u16(s + 2 * i));
}

void f16_from_float(const float* src, void* dst, int64_t n) {
    auto* d = static_cast<uint8_t*>(dst);
    for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_f16(src[i]);
        std::memcpy(d + 2 * i, &h, sizeof h);
    }
}

float vec_dot_f16_generic(int64_t n, const void* x, const void* y) {
    const auto* xb = static_cast<const uint8_t*>(x);
    const auto* yb = static_cast<const uint8_t*>(y);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        sum += static_cast<double>(f16_to_f32(load_u16(xb + 2 * i))) *
               f16_to_f32(load_u16(yb + 2 * i));
    }
    return static_cast<float>(sum);
}

void bf16_to_float(const void* src, float* dst, int64_t n) {
    const auto* s = static_cast<const uint8_t*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load_u16(s + 2 * i));
}

void bf16_from_float(const float* src, void* dst, int64_t n) {
    auto* d = static_cast<uint8_t*>(dst);
    for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_bf16(src[i]);
        std::memcpy(d + 2 * i, &h, sizeof h);
    }
}

float vec_dot_bf16_generic(int64_t n, const void* x, const void* y) {
    const auto* xb = static_cast<const uint8_t*>(x);
    const auto* yb = static_cast<const uint8_t*>(y);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        sum += static_cast<double>(bf16_to_f32(load_u16(xb + 2 * i))) *
               bf16_to_f32(load_u16(yb + 2 * i));
    }
    return static_cast<float>(sum);
}

}  // namespace mmojo
