// Everything a context keeps per sequence between passes: how many positions each sequence
// has, the key/value cells of the attention layers (kv_cache.h) and the recurrent states
// (recurrent_state.h), laid out from the model's LayerStateSpec list. The forward pass sees
// it as a SequenceState (model/sequence_state.h); the Context and, through it, the server's
// slots see only lengths: clear, truncate (which answers how much it kept) and checkpoint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/sequence_state.h"
#include "runtime/kv_cache.h"
#include "runtime/recurrent_state.h"

namespace mmojo {

class SequenceStore : public SequenceState {
public:
    // n_ctx positions split evenly among n_seq sequences. A sliding-window layer gets a ring
    // of window + n_batch cells per sequence (every key one pass of n_batch rows can see),
    // or n_ctx_seq cells when that is fewer. Throws std::runtime_error for a layer list it
    // cannot build (a shared layer naming a later or non-KV layer) and for the KV cache's
    // reasons (kv_cache.h).
    SequenceStore(const std::vector<LayerStateSpec>& layers, uint32_t n_ctx, uint32_t n_seq,
                  uint32_t n_batch, TensorType type_k, TensorType type_v);

    uint32_t n_seq() const override { return n_seq_; }
    uint32_t n_ctx_seq() const override { return n_ctx_ / n_seq_; }
    int32_t seq_length(int32_t seq) const override;
    KvLayerView key_values(int layer) override;
    std::span<float> recurrent(int layer, int32_t seq) override;

    // After a pass: the sequence now holds `length` positions.
    void set_seq_length(int32_t seq, int32_t length);
    // Forgets the sequence: no positions, recurrent states zeroed.
    void seq_clear(int32_t seq);
    // Cuts the sequence back to at most n_keep positions and returns how many it kept: the
    // largest count <= n_keep that every layer can return to (any count for a full KV
    // cache; for a ring, one whose look-back window was not overwritten; for a recurrent
    // layer, its longest checkpoint that short), else 0. The caller evaluates the positions after that again.
    int32_t seq_truncate(int32_t seq, int32_t n_keep);
    // Remembers the present state of the sequence as a point seq_truncate can return to
    // (recurrent layers copy their state; key/value layers need nothing).
    void seq_checkpoint(int32_t seq);

    bool has_recurrent() const { return !recurrent_.empty(); }
    size_t memory_bytes() const { return kv_.memory_bytes() + recurrent_.memory_bytes(); }
    const KvCache& kv_cache() const { return kv_; }

private:
    struct LayerSlot {
        LayerStateSpec spec;
        int kv_index = -1;   // into kv_ (for a shared layer, the owner's)
    };
    static KvCache make_kv(const std::vector<LayerStateSpec>& layers, uint32_t n_ctx, uint32_t n_seq,
                           uint32_t n_batch, TensorType type_k, TensorType type_v);
    void check_seq(int32_t seq) const;

    uint32_t n_ctx_ = 0;
    uint32_t n_seq_ = 1;
    std::vector<LayerSlot> layers_;
    KvCache kv_;
    RecurrentState recurrent_;
    std::vector<int32_t> lengths_;
};

}  // namespace mmojo
