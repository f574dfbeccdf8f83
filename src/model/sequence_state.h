// What a model keeps per sequence between forward passes, seen from the model: each layer
// declares the kind of state it needs (Model::state_layers), the runtime owns the memory
// (runtime/sequence_store.h) and hands the forward pass this interface. Three kinds fit
// without special cases anywhere above the model:
//   - keys and values of every position (the KV cache of a full-attention layer);
//   - keys and values of the last `window` positions only (a ring of cells: sliding-window
//     layers keep a fixed amount per sequence);
//   - a fixed-size recurrent state per sequence (Mamba2, Gated DeltaNet, short
//     convolutions), which cannot be rolled back to an arbitrary position, only to a
//     checkpoint;
// and a layer may read the keys and values of an earlier layer instead of storing its own.
// Rolling back (the server keeps a slot's common prompt prefix) asks every layer how far it
// can go; see SequenceStore::seq_truncate.
#pragma once

#include <cstdint>
#include <span>

#include "ops/attention.h"

namespace mmojo {

struct LayerStateSpec {
    enum class Kind { kKeyValue, kRecurrent };
    Kind kind = Kind::kKeyValue;
    // kKeyValue: heads and head sizes of what is cached per position.
    int64_t n_head_kv = 0;
    int64_t head_dim_k = 0;
    int64_t head_dim_v = 0;
    // kKeyValue: > 0 when the layer only ever reads the last `window` positions; its cells
    // then form a ring instead of covering the whole sequence.
    int32_t window = 0;
    // kKeyValue: >= 0 to read the keys and values of that earlier layer and store none.
    int32_t shares_with = -1;
    // kRecurrent: floats of state per sequence.
    int64_t n_floats = 0;

    static LayerStateSpec key_value(int64_t n_head_kv, int64_t head_dim_k, int64_t head_dim_v,
                                    int32_t window = 0) {
        LayerStateSpec s;
        s.n_head_kv = n_head_kv;
        s.head_dim_k = head_dim_k;
        s.head_dim_v = head_dim_v;
        s.window = window;
        return s;
    }
    static LayerStateSpec shared(int32_t layer) {
        LayerStateSpec s;
        s.shares_with = layer;
        return s;
    }
    static LayerStateSpec recurrent(int64_t n_floats) {
        LayerStateSpec s;
        s.kind = Kind::kRecurrent;
        s.n_floats = n_floats;
        return s;
    }
};

class SequenceState {
public:
    virtual ~SequenceState() = default;
    virtual uint32_t n_seq() const = 0;
    // Positions one sequence may hold (its share of the context).
    virtual uint32_t n_ctx_seq() const = 0;
    // Positions of `seq` evaluated before this pass (the next position to fill).
    virtual int32_t seq_length(int32_t seq) const = 0;
    // The cells of a kKeyValue layer (of the layer it shares with, for a shared one).
    virtual KvLayerView key_values(int layer) = 0;
    // The state of a kRecurrent layer for one sequence, read and updated in place.
    virtual std::span<float> recurrent(int layer, int32_t seq) = 0;
};

}  // namespace mmojo
