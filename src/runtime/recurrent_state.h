// The recurrent state of a context: for every recurrent layer (Mamba2, Gated DeltaNet,
// short convolutions) a fixed number of floats per sequence, updated in place by each pass,
// plus one checkpoint per sequence: a copy of all its layers' states at a known length. A
// recurrent state cannot be rolled back to an arbitrary position, only to its checkpoint
// (or to the empty start), so the SequenceStore asks it how far back it can go.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mmojo {

class RecurrentState {
public:
    // floats_per_layer[l]: state size of layer l per sequence (0 for layers without one).
    RecurrentState(std::vector<int64_t> floats_per_layer, uint32_t n_seq);

    bool empty() const { return per_seq_ == 0; }
    std::span<float> state(int layer, int32_t seq);
    // Zeroes the sequence's states and forgets its checkpoint (the state before position 0).
    void clear(int32_t seq);
    // Copies the sequence's states as the state after `length` positions.
    void checkpoint(int32_t seq, int32_t length);
    // Length of the checkpoint of `seq`, or -1 when it has none.
    int32_t checkpoint_length(int32_t seq) const { return checkpoint_lengths_[size_t(seq)]; }
    // Puts the checkpoint back (checkpoint_length(seq) must be >= 0).
    void restore(int32_t seq);
    size_t memory_bytes() const { return (states_.size() + checkpoints_.size()) * sizeof(float); }

private:
    std::vector<int64_t> offsets_;   // of each layer within a sequence's block
    std::vector<int64_t> sizes_;
    int64_t per_seq_ = 0;
    std::vector<float> states_;       // n_seq blocks of per_seq_ floats
    std::vector<float> checkpoints_;  // the same shape
    std::vector<int32_t> checkpoint_lengths_;
};

}  // namespace mmojo
