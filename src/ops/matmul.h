// Matrix products of a weight matrix (any tensor type of the quant table) with a batch of
// float activation rows: Y[b][r] = sum_c W[r][c] * X[b][c].
//
// As GGUF's formats are designed for, every activation row is converted ONCE to the
// weight type's `vec_dot_type` (Q8_0 for Q4_0, Q8_K for the k-quants, F16 for F16, F32 for
// F32, ...) with the table's from_float, and then each weight row is dotted with it by the
// table's vec_dot. Rows of W are split across the thread pool. The inner part, rows
// [r0, r1) of W against all quantized activation rows, is one function (`MatmulTileFn`), so
// a tiled or SIMD kernel can replace it without touching callers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/matmul_tile.h"

namespace mmojo {

class ThreadPool;

// A batch of float activation rows together with its conversions to the dot types of the
// weights it meets. Products with several weights of the same vec_dot_type (Q, K and V;
// gate and up) convert the rows once. `x` must outlive this object.
class Activations {
public:
    Activations(ThreadPool& pool, const float* x, int64_t n_rows, int64_t n_cols);

    int64_t n_rows() const { return n_rows_; }
    int64_t n_cols() const { return n_cols_; }
    // The rows in `type` (F32: the floats themselves), converted on first use;
    // `row_bytes` receives the distance between rows.
    const uint8_t* rows(TensorType type, size_t& row_bytes);

private:
    struct Converted {
        TensorType type;
        size_t row_bytes;
        std::vector<uint8_t> bytes;
    };
    ThreadPool& pool_;
    const float* x_;
    int64_t n_rows_;
    int64_t n_cols_;
    std::vector<Converted> converted_;
};

// Y = X * W^T. x: n_batch rows of w.n_cols floats (contiguous); y: n_batch rows of
// w.n_rows floats (contiguous). Uses every thread of the pool when the product is large
// enough to pay for the hand-off.
void matmul(ThreadPool& pool, const Matrix& w, const float* x, int64_t n_batch, float* y);
// The same with activations that may already be converted (x.n_cols() == w.n_cols).
void matmul(ThreadPool& pool, const Matrix& w, Activations& x, float* y);

// Several products of the same activations, y[i] = X * w[i]^T, in one hand-off to the pool
// (Q, K and V; gate and up): the rows of all matrices are split across the threads
// together, so a generated token pays for one synchronization instead of several.
struct MatmulOutput {
    const Matrix* w;
    float* y;   // x.n_rows() rows of w->n_rows floats
};
void matmul_group(ThreadPool& pool, const std::vector<MatmulOutput>& products, Activations& x);

// Converts n_batch rows of n_cols floats to `type` (the vec_dot_type of a weight),
// row after row, into `out` (resized). Returns the bytes of one converted row.
size_t quantize_rows(ThreadPool& pool, TensorType type, const float* x, int64_t n_batch,
                     int64_t n_cols, std::vector<uint8_t>& out);

}  // namespace mmojo
