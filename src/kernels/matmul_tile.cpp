// The generic matrix tile and the Matrix constructor (see matmul_tile.h).
#include "kernels/matmul_tile.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>


namespace mmojo {

namespace {

// Rows kept hot in the generic tile.
constexpr int64_t kTileRows = 8;

std::string type_name(TensorType type) {
    const char* name = tensor_type_name(uint32_t(type));
    return name ? name : "type " + std::to_string(uint32_t(type));
}

}  // namespace

Matrix make_matrix(const char* name, TensorType type, int64_t n_cols, int64_t n_rows,
                   const uint8_t* data) {
    const TensorTypeTraits* traits = tensor_type_traits(type);
    if (!traits || !traits->vec_dot || !traits->to_float) {
        throw std::runtime_error(std::string("tensor '") + name + "' has type " +
                                 type_name(type) + ", which this build cannot compute with");
    }
    const TensorTypeTraits* dot_traits = tensor_type_traits(traits->vec_dot_type);
    if (!dot_traits || (traits->vec_dot_type != TensorType::kF32 && !dot_traits->from_float)) {
        throw std::runtime_error(std::string("tensor '") + name + "' of type " +
                                 type_name(type) + " needs activations of type " +
                                 type_name(traits->vec_dot_type) +
                                 ", which this build cannot produce");
    }
    if (n_cols <= 0 || n_rows <= 0 || n_cols % traits->block_size != 0 ||
        n_cols % dot_traits->block_size != 0) {
        throw std::runtime_error(std::string("tensor '") + name + "' has rows of " +
                                 std::to_string(n_cols) + " elements, not a multiple of the " +
                                 type_name(type) + " block size " +
                                 std::to_string(traits->block_size));
    }
    Matrix m;
    m.type = type;
    m.n_cols = n_cols;
    m.n_rows = n_rows;
    m.row_bytes = tensor_row_bytes(type, n_cols);
    m.data = data;
    return m;
}


uint8_t* matmul_scratch(size_t bytes) {
    struct Buffer {
        std::unique_ptr<uint8_t[]> data;
        size_t size = 0;
    };
    thread_local Buffer buffer;
    constexpr size_t kAlign = 64;
    if (buffer.size < bytes) {
        buffer.data = std::make_unique<uint8_t[]>(bytes + kAlign);
        buffer.size = bytes;
    }
    const auto address = reinterpret_cast<uintptr_t>(buffer.data.get());
    return buffer.data.get() + (kAlign - address % kAlign) % kAlign;
}

void matmul_tile_generic(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq,
                         size_t xq_row_bytes, int64_t n_batch, float* y, int64_t y_stride) {
    const VecDotFn dot = tensor_type_traits(w.type)->vec_dot;
    for (int64_t rb = r0; rb < r1; rb += kTileRows) {
        const int64_t re = std::min(r1, rb + kTileRows);
        for (int64_t b = 0; b < n_batch; ++b) {
            const uint8_t* xb = xq + size_t(b) * xq_row_bytes;
            float* yb = y + b * y_stride;
            for (int64_t r = rb; r < re; ++r) {
                // Ask for the next row while this one is read: a dot product does too much
                // work per byte for the out-of-order window alone to keep enough cache misses
                // in flight. One row ahead measured best (Q5_0 generation 8.3 -> 10.3 t/s;
                // the whole next tile at once, 8.3; 4 KiB ahead, 8.7).
                if (b == 0 && r + 1 < r1) {
                    const uint8_t* next = w.row(r + 1);
                    for (size_t o = 0; o < w.row_bytes; o += 64) __builtin_prefetch(next + o, 0, 3);
                }
                yb[r] = dot(w.n_cols, w.row(r), xb);
            }
        }
    }
}

}  // namespace mmojo
