// The key/value cache of a context: for every key/value layer, the keys and values of the
// cached positions of every sequence, stored in `type_k` / `type_v` (F16 by default, or F32).
// One implementation of a model's per-sequence state (model/sequence_state.h); the
// SequenceStore (sequence_store.h) owns it beside the recurrent states.
//
// Layout: each layer has its own two arrays of cells, so layers may differ in head count,
// head size and in how many cells a sequence gets: all n_ctx_seq positions, or a ring of
// `cells_per_seq` cells for a sliding-window layer. A cell holds one position's keys of all
// KV heads (n_head_kv * head_dim_k elements in the cache type) and likewise its values; see
// ops/attention.h (KvLayerView) for where a position's cell is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/tensor_type.h"
#include "ops/attention.h"

namespace mmojo {

// What one layer caches per position, and in how many cells per sequence (0: one per
// position of the sequence).
struct KvLayerShape {
    int64_t n_head_kv = 0;
    int64_t head_dim_k = 0;
    int64_t head_dim_v = 0;
    int64_t cells_per_seq = 0;
};

class KvCache {
public:
    // Throws std::runtime_error when a type cannot be stored (no from_float in the table,
    // no vec_dot, or a head size that is not a multiple of its block size), or when the
    // memory cannot be had.
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

    // The cells of one layer, for the forward pass (ops/attention.h).
    KvLayerView view(int layer);

    // Whether a sequence of `length` positions can be cut back to `n_keep` in `layer`: a
    // ring has overwritten the positions before length - cells_per_seq, and a row at
    // n_keep looks back window - 1 positions.
    bool can_keep(int layer, int32_t window, int32_t length, int32_t n_keep) const;

private:
    struct Layer {
        KvLayerShape shape;
        std::vector<uint8_t> keys;
        std::vector<uint8_t> values;
    };

    std::vector<Layer> layers_;
    uint32_t n_ctx_ = 0;
    uint32_t n_seq_ = 1;
    TensorType type_k_;
    TensorType type_v_;
};

}  // namespace mmojo
