// The recurrent state of a context: for every recurrent layer (Gated DeltaNet, short
// convolutions, Mamba2) a fixed number of floats per sequence, updated in place by each
// pass, plus a few checkpoints per sequence: copies of all its layers' states at known
// lengths. A recurrent state cannot be rolled back to an arbitrary position, only to one of
// its checkpoints (or to the empty start), so the SequenceStore asks it how far back it can
// go. The server checkpoints at the end of each prompt and every n_batch prompt tokens
// (server/scheduler.cpp); when the slots are full the oldest is replaced.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mmojo {

class RecurrentState {
public:
    static constexpr uint32_t kDefaultCheckpoints = 4;

    // floats_per_layer[l]: state size of layer l per sequence (0 for layers without one).
    // n_checkpoints: copies kept per sequence (0: none, rolling back always starts again).
    RecurrentState(std::vector<int64_t> floats_per_layer, uint32_t n_seq,
                   uint32_t n_checkpoints = kDefaultCheckpoints);

    bool empty() const { return per_seq_ == 0; }
    std::span<float> state(int layer, int32_t seq);
    // Zeroes the sequence's states and forgets its checkpoints (the state before position 0).
    void clear(int32_t seq);
    // Copies the sequence's states as the state after `length` positions (replacing a
    // checkpoint of the same length, else the oldest).
    void checkpoint(int32_t seq, int32_t length);
    // The longest checkpoint of `seq` at most `max_length` long, or -1 when there is none.
    int32_t best_checkpoint(int32_t seq, int32_t max_length) const;
    // Puts the checkpoint of that length back (one best_checkpoint answered) and forgets
    // the longer ones: they belong to a continuation that is being rewritten.
    void restore(int32_t seq, int32_t length);
    size_t memory_bytes() const { return (states_.size() + checkpoints_.size()) * sizeof(float); }

private:
    struct Slot {
        int32_t length = -1;   // -1: empty
        uint64_t stamp = 0;    // when it was written (the oldest is replaced first)
    };
    Slot& slot(int32_t seq, uint32_t i) { return slots_[size_t(seq) * n_checkpoints_ + i]; }
    const Slot& slot(int32_t seq, uint32_t i) const { return slots_[size_t(seq) * n_checkpoints_ + i]; }
    float* checkpoint_data(int32_t seq, uint32_t i) {
        return checkpoints_.data() + (size_t(seq) * n_checkpoints_ + i) * size_t(per_seq_);
    }

    std::vector<int64_t> offsets_;   // of each layer within a sequence's block
    std::vector<int64_t> sizes_;
    int64_t per_seq_ = 0;
    uint32_t n_checkpoints_ = 0;
    uint64_t clock_ = 0;
    std::vector<float> states_;       // n_seq blocks of per_seq_ floats
    std::vector<float> checkpoints_;  // n_seq * n_checkpoints blocks
    std::vector<Slot> slots_;
};

}  // namespace mmojo
