// Recurrent states and their checkpoints (see recurrent_state.h).
#include "runtime/recurrent_state.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mmojo {

RecurrentState::RecurrentState(std::vector<int64_t> floats_per_layer, uint32_t n_seq, uint32_t n_checkpoints)
    : sizes_(std::move(floats_per_layer)) {
    offsets_.resize(sizes_.size());
    for (size_t l = 0; l < sizes_.size(); ++l) {
        if (sizes_[l] < 0) throw std::runtime_error("recurrent state: negative size for layer " + std::to_string(l));
        offsets_[l] = per_seq_;
        per_seq_ += sizes_[l];
    }
    n_checkpoints_ = per_seq_ > 0 ? n_checkpoints : 0;
    states_.assign(size_t(per_seq_) * n_seq, 0.0f);
    checkpoints_.assign(states_.size() * n_checkpoints_, 0.0f);
    slots_.assign(size_t(n_seq) * n_checkpoints_, Slot{});
}

std::span<float> RecurrentState::state(int layer, int32_t seq) {
    if (layer < 0 || size_t(layer) >= sizes_.size() || sizes_[size_t(layer)] == 0) {
        throw std::runtime_error("recurrent state: layer " + std::to_string(layer) + " has none");
    }
    return {states_.data() + size_t(seq) * size_t(per_seq_) + size_t(offsets_[size_t(layer)]),
            size_t(sizes_[size_t(layer)])};
}

void RecurrentState::clear(int32_t seq) {
    std::fill_n(states_.begin() + std::ptrdiff_t(seq) * per_seq_, per_seq_, 0.0f);
    for (uint32_t i = 0; i < n_checkpoints_; ++i) slot(seq, i) = Slot{};
}

void RecurrentState::checkpoint(int32_t seq, int32_t length) {
    if (n_checkpoints_ == 0) return;
    // The slot of the same length, else an empty one, else the oldest.
    uint32_t target = n_checkpoints_;
    for (uint32_t i = 0; i < n_checkpoints_ && target == n_checkpoints_; ++i) {
        if (slot(seq, i).length == length) target = i;
    }
    for (uint32_t i = 0; i < n_checkpoints_ && target == n_checkpoints_; ++i) {
        if (slot(seq, i).length < 0) target = i;
    }
    if (target == n_checkpoints_) {
        target = 0;
        for (uint32_t i = 1; i < n_checkpoints_; ++i) {
            if (slot(seq, i).stamp < slot(seq, target).stamp) target = i;
        }
    }
    const auto first = states_.begin() + std::ptrdiff_t(seq) * per_seq_;
    std::copy(first, first + per_seq_, checkpoint_data(seq, target));
    slot(seq, target) = Slot{length, ++clock_};
}

int32_t RecurrentState::best_checkpoint(int32_t seq, int32_t max_length) const {
    int32_t best = -1;
    for (uint32_t i = 0; i < n_checkpoints_; ++i) {
        const int32_t len = slot(seq, i).length;
        if (len >= 0 && len <= max_length) best = std::max(best, len);
    }
    return best;
}

void RecurrentState::restore(int32_t seq, int32_t length) {
    bool found = false;
    for (uint32_t i = 0; i < n_checkpoints_; ++i) {
        Slot& s = slot(seq, i);
        if (s.length == length && !found) {
            const float* src = checkpoint_data(seq, i);
            std::copy(src, src + per_seq_, states_.begin() + std::ptrdiff_t(seq) * per_seq_);
            found = true;
        } else if (s.length > length) {
            s = Slot{};
        }
    }
    if (!found) {
        throw std::runtime_error("recurrent state: sequence " + std::to_string(seq) + " has no checkpoint at " +
                                 std::to_string(length) + " positions");
    }
}

}  // namespace mmojo
