// The key/value cache of a context: for every layer, the keys and values of every cached
// position of every sequence, stored in `type_k` / `type_v` (F16 by default, or F32).
//
// Layout: each layer has its own two arrays of cells (so layers may differ in head count,
// head size or, later, in how many cells they keep, e.g. sliding-window layers). A cell
// holds one position's keys of all KV heads (n_head_kv * head_dim_k elements, one row in
// the cache type) and likewise its values. Sequence s owns the cells
// [s * n_ctx_seq, (s + 1) * n_ctx_seq) and position p of it lives in cell s * n_ctx_seq + p,
// so a sequence's positions are contiguous and masks are plain index ranges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/tensor_type.h"

namespace mmojo {

// What one layer caches per position.
struct KvLayerShape {
    int64_t n_head_kv = 0;
    int64_t head_dim_k = 0;
    int64_t head_dim_v = 0;
};

class KvCache {
public:
    // Throws std::runtime_error when a type cannot be stored (no from_float in the table,
    // no vec_dot, or a head size that is not a multiple of its block size).
    KvCache(std::vector<KvLayerShape> layers, uint32_t n_ctx, uint32_t n_seq, TensorType type_k,
            TensorType type_v);

    uint32_t n_ctx() const { return n_ctx_; }
    uint32_t n_seq() const { return n_seq_; }
    uint32_t n_ctx_seq() const { return n_ctx_ / n_seq_; }
    int n_layer() const { return int(layers_.size()); }
    const KvLayerShape& shape(int layer) const { return layers_[size_t(layer)].shape; }
    TensorType type_k() const { return type_k_; }
    TensorType type_v() const { return type_v_; }
    size_t memory_bytes() const;

    // The cell of position `pos` of sequence `seq`.
    int64_t cell(int32_t seq, int32_t pos) const { return int64_t(seq) * n_ctx_seq() + pos; }

    // Bytes of one head's keys / values, and the start of head `head` in a cell.
    size_t k_head_bytes(int layer) const { return layers_[size_t(layer)].k_head_bytes; }
    size_t v_head_bytes(int layer) const { return layers_[size_t(layer)].v_head_bytes; }
    const uint8_t* k(int layer, int64_t cell, int64_t head) const;
    const uint8_t* v(int layer, int64_t cell, int64_t head) const;

    // Converts one position's keys (n_head_kv * head_dim_k floats) / values into a cell.
    void store_k(int layer, int64_t cell, const float* keys);
    void store_v(int layer, int64_t cell, const float* values);

    // Number of positions cached for a sequence (the next position to fill).
    int32_t seq_length(int32_t seq) const;
    void set_seq_length(int32_t seq, int32_t length);
    void seq_clear(int32_t seq) { set_seq_length(seq, 0); }
    // Keeps only positions < n_keep (a larger n_keep changes nothing).
    void seq_truncate(int32_t seq, int32_t n_keep);

private:
    struct Layer {
        KvLayerShape shape;
        size_t k_head_bytes = 0;
        size_t v_head_bytes = 0;
        size_t k_cell_bytes = 0;
        size_t v_cell_bytes = 0;
        std::vector<uint8_t> keys;
        std::vector<uint8_t> values;
    };

    std::vector<Layer> layers_;
    uint32_t n_ctx_ = 0;
    uint32_t n_seq_ = 1;
    TensorType type_k_;
    TensorType type_v_;
    std::vector<int32_t> lengths_;
};

}  // namespace mmojo
