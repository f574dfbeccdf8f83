// Scaled dot-product attention over cached keys and values: softmax(q.k * scale + mask) . V
// for every (row, query head) of a pass (Vaswani et al. 2017, with grouped-query heads:
// query head h reads KV head h / (n_head / n_head_kv)). The keys and values live in cells,
// one cell per cached position holding all KV heads; the runtime owns them
// (runtime/kv_cache.h) and hands the model a KvLayerView of one layer's cells.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/tensor_type.h"

namespace mmojo {

class ThreadPool;

// One layer's cells. Sequence s owns cells [s * cells_per_seq, (s + 1) * cells_per_seq);
// position p of it lives in cell s * cells_per_seq + p % cells_per_seq. A cache that keeps
// every position has cells_per_seq = the sequence's capacity (the modulo never wraps); a
// sliding-window layer keeps a ring of window + n_batch cells, enough for every key a row
// of one pass can see.
struct KvLayerView {
    uint8_t* keys = nullptr;
    uint8_t* values = nullptr;
    TensorType type_k = TensorType::kF16;
    TensorType type_v = TensorType::kF16;
    int64_t n_head_kv = 0;
    int64_t head_dim_k = 0;
    int64_t head_dim_v = 0;
    size_t k_head_bytes = 0;   // one head's keys in type_k
    size_t v_head_bytes = 0;
    int64_t cells_per_seq = 0;

    int64_t cell(int32_t seq, int32_t pos) const {
        return int64_t(seq) * cells_per_seq + pos % cells_per_seq;
    }
    const uint8_t* k(int64_t cell, int64_t head) const {
        return keys + (size_t(cell) * size_t(n_head_kv) + size_t(head)) * k_head_bytes;
    }
    const uint8_t* v(int64_t cell, int64_t head) const {
        return values + (size_t(cell) * size_t(n_head_kv) + size_t(head)) * v_head_bytes;
    }
};

// Converts one position's keys (n_head_kv * head_dim_k floats) and values into its cell.
void kv_store(const KvLayerView& kv, int32_t seq, int32_t pos, const float* keys, const float* values);

struct AttentionParams {
    int64_t n_head = 0;
    int64_t n_head_kv = 0;
    int64_t head_dim_k = 0;
    int64_t head_dim_v = 0;
    float scale = 1.0f;       // applied to q.k, usually 1/sqrt(head_dim_k)
    float softcap = 0.0f;     // > 0: scores = softcap * tanh(scores / softcap)
    int32_t window = 0;       // > 0: a key at position j is visible from i if i - j < window
    bool causal = true;       // false: every position of the sequence (up to seq_end) is visible
    // Attention sinks (gpt-oss): one learned logit per query head that joins the softmax's
    // denominator but has no value, so a head can attend to nothing. n_head floats or null.
    const float* sinks = nullptr;
};

// The rows of a pass: position and sequence of each, and for each sequence the number of
// positions present after this pass (cached + this batch; what a non-causal row sees).
struct AttentionRows {
    const int32_t* pos = nullptr;
    const int32_t* seq = nullptr;
    const int32_t* seq_end = nullptr;   // indexed by sequence
    int64_t n_rows = 0;
};

// q: n_rows rows of n_head * head_dim_k; out: n_rows rows of n_head * head_dim_v. The
// cells already hold this pass's keys and values.
void attention(ThreadPool& pool, const KvLayerView& kv, const AttentionRows& rows,
               const AttentionParams& p, const float* q, float* out);

}  // namespace mmojo
