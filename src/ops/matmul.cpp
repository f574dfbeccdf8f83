// Matrix x activation-batch products through the quant table (see matmul.h).
#include "ops/matmul.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "base/thread_pool.h"

namespace mmojo {

namespace {

// Below this many multiply-adds a product runs on the calling thread: waking the pool
// costs a few microseconds, more than the whole product of a tiny model's layer.
constexpr int64_t kMinParallelWork = int64_t(1) << 16;
// Rows of W handed to a thread at a time.
constexpr int64_t kRowGrain = 16;

}  // namespace

size_t quantize_rows(ThreadPool& pool, TensorType type, const float* x, int64_t n_batch,
                     int64_t n_cols, std::vector<uint8_t>& out) {
    const size_t row_bytes = tensor_row_bytes(type, n_cols);
    out.resize(row_bytes * size_t(n_batch));
    const FromFloatFn from_float = tensor_type_traits(type)->from_float;
    auto convert = [&](int64_t begin, int64_t end, int) {
        for (int64_t b = begin; b < end; ++b) {
            from_float(x + b * n_cols, out.data() + size_t(b) * row_bytes, n_cols);
        }
    };
    if (n_batch * n_cols < kMinParallelWork) {
        convert(0, n_batch, 0);
    } else {
        pool.parallel_for(n_batch, 1, convert);
    }
    return row_bytes;
}

Activations::Activations(ThreadPool& pool, const float* x, int64_t n_rows, int64_t n_cols)
    : pool_(pool), x_(x), n_rows_(n_rows), n_cols_(n_cols) {}

const uint8_t* Activations::rows(TensorType type, size_t& row_bytes) {
    if (type == TensorType::kF32) {
        row_bytes = size_t(n_cols_) * sizeof(float);
        return reinterpret_cast<const uint8_t*>(x_);
    }
    for (Converted& c : converted_) {
        if (c.type == type) {
            row_bytes = c.row_bytes;
            return c.bytes.data();
        }
    }
    Converted& c = converted_.emplace_back();
    c.type = type;
    c.row_bytes = quantize_rows(pool_, type, x_, n_rows_, n_cols_, c.bytes);
    row_bytes = c.row_bytes;
    return c.bytes.data();
}

void matmul(ThreadPool& pool, const Matrix& w, Activations& x, float* y) {
    const int64_t n_batch = x.n_rows();
    if (n_batch <= 0) return;
    if (x.n_cols() != w.n_cols) {
        throw std::runtime_error("matmul: activations of " + std::to_string(x.n_cols()) +
                                 " columns against a matrix of " + std::to_string(w.n_cols));
    }
    size_t xq_row_bytes = 0;
    const uint8_t* xq = x.rows(tensor_type_traits(w.type)->vec_dot_type, xq_row_bytes);

    const MatmulTileFn tile = matmul_tile();
    if (w.n_rows * w.n_cols * n_batch < kMinParallelWork) {
        tile(w, 0, w.n_rows, xq, xq_row_bytes, n_batch, y, w.n_rows);
        return;
    }
    pool.parallel_for(w.n_rows, kRowGrain, [&](int64_t r0, int64_t r1, int) {
        tile(w, r0, r1, xq, xq_row_bytes, n_batch, y, w.n_rows);
    });
}

void matmul(ThreadPool& pool, const Matrix& w, const float* x, int64_t n_batch, float* y) {
    Activations activations(pool, x, n_batch, w.n_cols);
    matmul(pool, w, activations, y);
}

void matmul_group(ThreadPool& pool, const std::vector<MatmulOutput>& products, Activations& x) {
    const int64_t n_batch = x.n_rows();
    if (n_batch <= 0 || products.empty()) return;
    struct Part {
        const Matrix* w;
        float* y;
        const uint8_t* xq;
        size_t xq_row_bytes;
        int64_t first_row;   // of the concatenation of all matrices' rows
    };
    std::vector<Part> parts;
    int64_t total_rows = 0;
    int64_t work = 0;
    for (const MatmulOutput& p : products) {
        if (x.n_cols() != p.w->n_cols) {
            throw std::runtime_error("matmul: activations of " + std::to_string(x.n_cols()) +
                                     " columns against a matrix of " + std::to_string(p.w->n_cols));
        }
        Part part{p.w, p.y, nullptr, 0, total_rows};
        part.xq = x.rows(tensor_type_traits(p.w->type)->vec_dot_type, part.xq_row_bytes);
        parts.push_back(part);
        total_rows += p.w->n_rows;
        work += p.w->n_rows * p.w->n_cols * n_batch;
    }

    const MatmulTileFn tile = matmul_tile();
    // Rows [begin, end) of the concatenation, matrix by matrix.
    auto run_rows = [&](int64_t begin, int64_t end, int) {
        for (const Part& part : parts) {
            const int64_t r0 = std::max(begin, part.first_row) - part.first_row;
            const int64_t r1 = std::min(end, part.first_row + part.w->n_rows) - part.first_row;
            if (r0 < r1) tile(*part.w, r0, r1, part.xq, part.xq_row_bytes, n_batch, part.y, part.w->n_rows);
        }
    };
    if (work < kMinParallelWork) {
        run_rows(0, total_rows, 0);
    } else {
        pool.parallel_for(total_rows, kRowGrain, run_rows);
    }
}

}  // namespace mmojo
