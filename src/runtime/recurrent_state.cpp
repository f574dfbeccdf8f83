// Recurrent states and their checkpoints (see recurrent_state.h).
#include "runtime/recurrent_state.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mmojo {

RecurrentState::RecurrentState(std::vector<int64_t> floats_per_layer, uint32_t n_seq)
    : sizes_(std::move(floats_per_layer)) {
    offsets_.resize(sizes_.size());
    for (size_t l = 0; l < sizes_.size(); ++l) {
        if (sizes_[l] < 0) throw std::runtime_error("recurrent state: negative size for layer " + std::to_string(l));
        offsets_[l] = per_seq_;
        per_seq_ += sizes_[l];
    }
    states_.assign(size_t(per_seq_) * n_seq, 0.0f);
    checkpoints_.assign(states_.size(), 0.0f);
    checkpoint_lengths_.assign(n_seq, -1);
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
    checkpoint_lengths_[size_t(seq)] = -1;
}

void RecurrentState::checkpoint(int32_t seq, int32_t length) {
    const auto first = states_.begin() + std::ptrdiff_t(seq) * per_seq_;
    std::copy(first, first + per_seq_, checkpoints_.begin() + std::ptrdiff_t(seq) * per_seq_);
    checkpoint_lengths_[size_t(seq)] = length;
}

void RecurrentState::restore(int32_t seq) {
    const auto first = checkpoints_.begin() + std::ptrdiff_t(seq) * per_seq_;
    std::copy(first, first + per_seq_, states_.begin() + std::ptrdiff_t(seq) * per_seq_);
}

}  // namespace mmojo
