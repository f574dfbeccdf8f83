// The inner part of every matrix product: rows [r0, r1) of a weight matrix (any type of the
// tensor type table) against a batch of activation rows already converted to the weight's
// vec_dot_type. The generic tile here is the readable definition (one vec_dot per row and
// activation); the register-blocked tiles of gemm_<isa>.cpp replace it per CPU level, chosen
// once by select_kernels (kernels/dispatch.h). ops/matmul.h builds the products on top.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/tensor_type.h"

namespace mmojo {

// A read-only matrix of n_rows rows of n_cols elements of `type`, rows `row_bytes` apart.
// For a GGUF 2-D tensor, n_cols = dims[0] and n_rows = dims[1].
struct Matrix {
    TensorType type = TensorType::kF32;
    int64_t n_cols = 0;
    int64_t n_rows = 0;
    size_t row_bytes = 0;
    const uint8_t* data = nullptr;

    const uint8_t* row(int64_t r) const { return data + size_t(r) * row_bytes; }
    bool empty() const { return data == nullptr; }
};

// Builds a Matrix view and checks that this build can compute with the type: the table
// has a vec_dot and a vec_dot_type with a from_float, and n_cols is a multiple of both
// block sizes. Throws std::runtime_error mentioning `name` otherwise.
Matrix make_matrix(const char* name, TensorType type, int64_t n_cols, int64_t n_rows,
                   const uint8_t* data);

// Rows [r0, r1) of w against n_batch activation rows already converted to
// w's vec_dot_type (xq, `xq_row_bytes` apart). Writes y[b * y_stride + r].
using MatmulTileFn = void (*)(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq,
                              size_t xq_row_bytes, int64_t n_batch, float* y, int64_t y_stride);

// The readable tile: one vec_dot per (row, activation) pair, rows taken in small blocks
// so that a block of W stays in cache while every activation row passes over it.
void matmul_tile_generic(const Matrix& w, int64_t r0, int64_t r1, const uint8_t* xq,
                         size_t xq_row_bytes, int64_t n_batch, float* y, int64_t y_stride);

// The tile kernel every product uses: the register-blocked kernel of the CPU level chosen
// by kernels/dispatch.h's select_kernels when that level has one (kernels/gemm_kernels.h), else
// matmul_tile_generic.
MatmulTileFn matmul_tile();   // defined in dispatch.cpp

// Per-thread scratch memory for tile kernels: at least `bytes`, 64-byte aligned, valid
// until the same thread asks again.
uint8_t* matmul_scratch(size_t bytes);

}  // namespace mmojo
