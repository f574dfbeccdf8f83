// Random kernel inputs shared by tests/unit/simd_kernels_test.cpp and tools/simd_selfcheck.cpp
// (the cross-built check that runs under qemu without a test framework): weight rows of every
// type in the table with finite scales, activations from the quantizers, misaligned copies,
// the tolerance scale sum |x_i y_i| of the dequantized rows, and the K-quant rounding bound.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/float16.h"
#include "kernels/matmul_tile.h"
#include "kernels/tensor_type.h"

namespace mmojo::kernel_test {

// |simd - generic| <= kRelTolerance * sum_i |x_i * y_i|: inside a block both kernels compute
// the same integers; they differ only in the order of float additions of per-block terms.
constexpr double kRelTolerance = 1e-5;

// Every row of the type table with a dot product (walked, so a new row is checked too).
inline std::vector<TensorType> dot_types() {
    std::vector<TensorType> types;
    for (const TensorTypeTraits& row : tensor_type_table()) {
        if (row.vec_dot_generic != nullptr) types.push_back(row.type);
    }
    return types;
}

// Byte offsets of the f16 scale fields of one block of each weight type (kernels/blocks.h).
inline std::vector<size_t> f16_fields(TensorType t) {
    switch (t) {
        case TensorType::kQ4_0: case TensorType::kQ5_0: case TensorType::kIQ4_NL: return {0};
        case TensorType::kQ4_1: case TensorType::kQ5_1: return {0, 2};
        case TensorType::kQ4_K: case TensorType::kQ5_K: return {0, 2};
        case TensorType::kIQ4_XS: return {0};
        case TensorType::kQ2_K: return {80, 82};
        case TensorType::kQ3_K: return {108};
        case TensorType::kQ6_K: return {208};
        case TensorType::kIQ2_XXS: case TensorType::kIQ2_XS: case TensorType::kIQ2_S:
        case TensorType::kIQ3_XXS: case TensorType::kIQ3_S: case TensorType::kIQ1_S:
        case TensorType::kQ1_0: case TensorType::kQ2_0: return {0};
        case TensorType::kTQ1_0: return {52};
        case TensorType::kTQ2_0: return {64};
        default: return {};  // IQ1_M: see fix_iq1_m_scale; NVFP4: byte scales, all finite
    }
}

// IQ1_M keeps its f16 scale in the top nibbles of its four u16 scale words (bytes 49, 51,
// 53, 55 of the block's 56): write a finite one there.
inline void fix_iq1_m_scale(uint8_t* block, uint16_t h) {
    for (int i = 0; i < 4; ++i) {
        uint8_t& hi = block[48 + 2 * i + 1];
        hi = uint8_t((hi & 0x0f) | (((h >> (4 * i)) & 0x0f) << 4));
    }
}

// extremes: every element at the block's max magnitude (all quants +-127, the largest
// products).
inline std::vector<float> random_floats(int64_t n, std::mt19937& rng, bool extremes = false) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& f : v) {
        f = u(rng);
        if (extremes) f = f < 0 ? -1.0f : 1.0f;
    }
    return v;
}

inline std::vector<uint8_t> quantize(TensorType t, const std::vector<float>& x) {
    std::vector<uint8_t> out(tensor_row_bytes(t, int64_t(x.size())));
    tensor_type_traits(t)->from_float(x.data(), out.data(), int64_t(x.size()));
    return out;
}

// A weight row of n elements of type t: from the quantizer where the type has one, else
// random quant bytes (extremes: all 0x00 or 0xff) with finite random scales.
inline std::vector<uint8_t> random_weights(TensorType t, int64_t n, std::mt19937& rng,
                                           bool extremes = false) {
    const TensorTypeTraits& row = *tensor_type_traits(t);
    if (row.from_float) return quantize(t, random_floats(n, rng, extremes));
    std::vector<uint8_t> bytes(tensor_row_bytes(t, n));
    for (uint8_t& b : bytes) b = uint8_t(extremes ? (rng() & 1 ? 0xff : 0x00) : rng());
    std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
    for (size_t base = 0; base < bytes.size(); base += row.block_bytes) {
        for (size_t off : f16_fields(t)) {
            const uint16_t h = f32_to_f16(scale(rng));
            std::memcpy(&bytes[base + off], &h, sizeof h);
        }
        if (t == TensorType::kIQ1_M) fix_iq1_m_scale(&bytes[base], f32_to_f16(scale(rng)));
        // MXFP4's E8M0 scale (byte 0): 2^-10 .. 2^5, like real weights (255 would be NaN).
        if (t == TensorType::kMXFP4) bytes[base] = uint8_t(117 + rng() % 16);
    }
    return bytes;
}

// sum_i |x_i y_i| of the dequantized rows, in double.
inline double abs_products(TensorType tx, const uint8_t* x, TensorType ty, const uint8_t* y,
                           int64_t n) {
    std::vector<float> fx(static_cast<size_t>(n)), fy(static_cast<size_t>(n));
    tensor_type_traits(tx)->to_float(x, fx.data(), n);
    tensor_type_traits(ty)->to_float(y, fy.data(), n);
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += std::fabs(double(fx[size_t(i)]) * fy[size_t(i)]);
    return s;
}

// Copies `bytes` to an address `offset` bytes past a 64-byte boundary.
struct Misaligned {
    std::vector<uint8_t> storage;
    uint8_t* data;
    Misaligned(const std::vector<uint8_t>& bytes, size_t offset) : storage(bytes.size() + 128) {
        const auto addr = reinterpret_cast<uintptr_t>(storage.data());
        data = storage.data() + ((64 - addr % 64) % 64) + offset;
        std::memcpy(data, bytes.data(), bytes.size());
    }
};

// ---- K-quant rounding (tests/unit/kernel_precision_test.cpp explains the bound) ----

// An activation row of normal random numbers, quantized to Q8_K as a model's would be.
inline std::vector<uint8_t> random_activations(int64_t n, std::mt19937& rng) {
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& f : v) f = g(rng);
    std::vector<uint8_t> out(tensor_row_bytes(TensorType::kQ8_K, n));
    tensor_type_traits(TensorType::kQ8_K)->from_float(v.data(), out.data(), n);
    return out;
}

// A K-quant weight row: random bytes with f16 scales in [0.001, 0.01): every quant and
// 6-bit scale pattern occurs.
inline std::vector<uint8_t> random_kquant_row(TensorType t, int64_t n, std::mt19937& rng) {
    std::vector<uint8_t> bytes(tensor_row_bytes(t, n));
    for (uint8_t& b : bytes) b = uint8_t(rng());
    std::uniform_real_distribution<float> scale(0.001f, 0.01f);
    std::vector<size_t> fields;
    switch (t) {
        case TensorType::kQ2_K: fields = {80, 82}; break;
        case TensorType::kQ3_K: fields = {108}; break;
        case TensorType::kQ4_K: case TensorType::kQ5_K: fields = {0, 2}; break;
        default: fields = {208}; break;   // Q6_K
    }
    for (size_t base = 0; base < bytes.size(); base += tensor_type_traits(t)->block_bytes) {
        for (size_t off : fields) {
            const uint16_t h = f32_to_f16(scale(rng));
            std::memcpy(&bytes[base + off], &h, sizeof h);
        }
    }
    return bytes;
}

// The bound of tests/unit/kernel_precision_test.cpp's comment for weight row w and
// activation row x of n elements.
inline double block_bound(TensorType t, const uint8_t* w, const uint8_t* x, int64_t n) {
    const TensorTypeTraits& row = *tensor_type_traits(t);
    const size_t x_bytes = tensor_row_bytes(TensorType::kQ8_K, kQK_K);
    double sum = 0.0;
    int64_t blocks = 0;
    for (int64_t b = 0; b * kQK_K < n; ++b, ++blocks) {
        std::vector<uint8_t> block(w + size_t(b) * row.block_bytes, w + size_t(b + 1) * row.block_bytes);
        const uint8_t* xb = x + size_t(b) * x_bytes;
        sum += std::fabs(double(row.vec_dot_generic(kQK_K, block.data(), xb)));
        // The min term: the block with its quants (and Q5_K's high bits) zeroed.
        if (t == TensorType::kQ4_K || t == TensorType::kQ5_K || t == TensorType::kQ2_K) {
            if (t == TensorType::kQ4_K) std::memset(block.data() + offsetof(BlockQ4_K, qs), 0, sizeof(BlockQ4_K::qs));
            if (t == TensorType::kQ5_K) std::memset(block.data() + offsetof(BlockQ5_K, qh), 0, sizeof(BlockQ5_K::qh) + sizeof(BlockQ5_K::qs));
            if (t == TensorType::kQ2_K) std::memset(block.data() + offsetof(BlockQ2_K, qs), 0, sizeof(BlockQ2_K::qs));
            sum += std::fabs(double(row.vec_dot_generic(kQK_K, block.data(), xb)));
        }
    }
    return double(blocks + 4) * std::ldexp(1.0, -24) * sum + 1e-30;
}

// The largest |tile - generic| / bound over `tile` (rows [0, 32) of random matrices of
// 1, 3 and 8 super-blocks per row) times n_batch random activation rows.
inline double worst_ratio(MatmulTileFn tile, TensorType t, int64_t n_batch, std::mt19937& rng) {
    const TensorTypeTraits& row = *tensor_type_traits(t);
    constexpr int64_t kRows = 32;
    double worst = 0.0;
    for (int64_t blocks : {1, 3, 8}) {
        const int64_t n_cols = blocks * kQK_K;
        std::vector<uint8_t> w_bytes;
        for (int64_t r = 0; r < kRows; ++r) {
            const std::vector<uint8_t> one = random_kquant_row(t, n_cols, rng);
            w_bytes.insert(w_bytes.end(), one.begin(), one.end());
        }
        const Matrix w = make_matrix("w", t, n_cols, kRows, w_bytes.data());
        const size_t x_row = tensor_row_bytes(TensorType::kQ8_K, n_cols);
        std::vector<uint8_t> x_bytes;
        for (int64_t b = 0; b < n_batch; ++b) {
            const std::vector<uint8_t> one = random_activations(n_cols, rng);
            x_bytes.insert(x_bytes.end(), one.begin(), one.end());
        }
        std::vector<float> got(size_t(n_batch * kRows));
        tile(w, 0, kRows, x_bytes.data(), x_row, n_batch, got.data(), kRows);
        for (int64_t b = 0; b < n_batch; ++b) {
            const uint8_t* x = x_bytes.data() + size_t(b) * x_row;
            for (int64_t r = 0; r < kRows; ++r) {
                const double want = row.vec_dot_generic(n_cols, w.row(r), x);
                const double err = std::fabs(double(got[size_t(b * kRows + r)]) - want);
                worst = std::max(worst, err / block_bound(t, w.row(r), x, n_cols));
            }
        }
    }
    return worst;
}

// The largest |kernel - generic| / bound of a K-quant vec_dot kernel over rows of 1, 2, 5
// and 16 super-blocks.
inline double worst_vec_dot_ratio(VecDotFn kernel, TensorType t, std::mt19937& rng) {
    const TensorTypeTraits& row = *tensor_type_traits(t);
    double worst = 0.0;
    for (int64_t blocks : {1, 2, 5, 16}) {
        const int64_t n = blocks * kQK_K;
        for (int rep = 0; rep < 40; ++rep) {
            const std::vector<uint8_t> w = random_kquant_row(t, n, rng);
            const std::vector<uint8_t> x = random_activations(n, rng);
            const double err = std::fabs(double(kernel(n, w.data(), x.data())) -
                                         double(row.vec_dot_generic(n, w.data(), x.data())));
            worst = std::max(worst, err / block_bound(t, w.data(), x.data(), n));
        }
    }
    return worst;
}

}  // namespace mmojo::kernel_test
