// Per-sequence state of a context (see sequence_store.h).
#include "runtime/sequence_store.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mmojo {

namespace {

std::vector<int64_t> recurrent_sizes(const std::vector<LayerStateSpec>& layers) {
    std::vector<int64_t> sizes;
    for (const LayerStateSpec& s : layers) {
        sizes.push_back(s.kind == LayerStateSpec::Kind::kRecurrent ? s.n_floats : 0);
    }
    return sizes;
}

}  // namespace

KvCache SequenceStore::make_kv(const std::vector<LayerStateSpec>& layers, uint32_t n_ctx, uint32_t n_seq,
                               uint32_t n_batch, TensorType type_k, TensorType type_v) {
    std::vector<KvLayerShape> shapes;
    for (size_t l = 0; l < layers.size(); ++l) {
        const LayerStateSpec& s = layers[l];
        if (s.kind != LayerStateSpec::Kind::kKeyValue || s.shares_with >= 0) continue;
        KvLayerShape shape;
        shape.n_head_kv = s.n_head_kv;
        shape.head_dim_k = s.head_dim_k;
        shape.head_dim_v = s.head_dim_v;
        if (s.window > 0) shape.cells_per_seq = int64_t(s.window) + n_batch;   // capped by KvCache
        shapes.push_back(shape);
    }
    return KvCache(std::move(shapes), n_ctx, n_seq, type_k, type_v);
}

SequenceStore::SequenceStore(const std::vector<LayerStateSpec>& layers, uint32_t n_ctx, uint32_t n_seq,
                             uint32_t n_batch, TensorType type_k, TensorType type_v)
    : n_ctx_(n_ctx), n_seq_(n_seq), kv_(make_kv(layers, n_ctx, n_seq, n_batch, type_k, type_v)),
      recurrent_(recurrent_sizes(layers), n_seq) {
    int next_kv = 0;
    for (size_t l = 0; l < layers.size(); ++l) {
        LayerSlot slot{layers[l], -1};
        if (slot.spec.kind == LayerStateSpec::Kind::kKeyValue) {
            if (slot.spec.shares_with < 0) {
                slot.kv_index = next_kv++;
            } else {
                const int32_t owner = slot.spec.shares_with;
                if (size_t(owner) >= l || layers_[size_t(owner)].kv_index < 0) {
                    throw std::runtime_error("layer " + std::to_string(l) + " shares the keys and values of layer " +
                                             std::to_string(owner) + ", which is not an earlier key/value layer");
                }
                slot.kv_index = layers_[size_t(owner)].kv_index;
                slot.spec.window = layers_[size_t(owner)].spec.window;
            }
        }
        layers_.push_back(slot);
    }
    lengths_.assign(n_seq, 0);
}

void SequenceStore::check_seq(int32_t seq) const {
    if (seq < 0 || uint32_t(seq) >= n_seq_) {
        throw std::runtime_error("sequence " + std::to_string(seq) + " does not exist (the context has " +
                                 std::to_string(n_seq_) + ")");
    }
}

int32_t SequenceStore::seq_length(int32_t seq) const {
    check_seq(seq);
    return lengths_[size_t(seq)];
}

KvLayerView SequenceStore::key_values(int layer) {
    const int index = layers_.at(size_t(layer)).kv_index;
    if (index < 0) throw std::runtime_error("layer " + std::to_string(layer) + " keeps no keys and values");
    return kv_.view(index);
}

std::span<float> SequenceStore::recurrent(int layer, int32_t seq) {
    check_seq(seq);
    return recurrent_.state(layer, seq);
}

void SequenceStore::set_seq_length(int32_t seq, int32_t length) {
    check_seq(seq);
    if (length < 0 || uint32_t(length) > n_ctx_seq()) {
        throw std::runtime_error("sequence length " + std::to_string(length) + " is outside the " +
                                 std::to_string(n_ctx_seq()) + " positions of a sequence");
    }
    lengths_[size_t(seq)] = length;
}

void SequenceStore::seq_clear(int32_t seq) {
    check_seq(seq);
    lengths_[size_t(seq)] = 0;
    if (!recurrent_.empty()) recurrent_.clear(seq);
}

int32_t SequenceStore::seq_truncate(int32_t seq, int32_t n_keep) {
    const int32_t length = seq_length(seq);
    int32_t keep = std::clamp(n_keep, 0, length);
    if (keep == length && keep > 0) return length;
    // Lower `keep` until every layer can return to it; 0 always works.
    for (bool changed = true; changed && keep > 0;) {
        changed = false;
        for (const LayerSlot& slot : layers_) {
            int32_t can = keep;
            if (slot.spec.kind == LayerStateSpec::Kind::kRecurrent) {
                can = std::max(0, recurrent_.best_checkpoint(seq, keep));
            } else if (!kv_.can_keep(slot.kv_index, slot.spec.window, length, keep)) {
                can = 0;
            }
            if (can < keep) {
                keep = can;
                changed = true;
            }
        }
    }
    if (keep == 0) {
        seq_clear(seq);
        return 0;
    }
    if (!recurrent_.empty()) recurrent_.restore(seq, keep);
    lengths_[size_t(seq)] = keep;
    return keep;
}

void SequenceStore::seq_checkpoint(int32_t seq) {
    check_seq(seq);
    if (!recurrent_.empty()) recurrent_.checkpoint(seq, lengths_[size_t(seq)]);
}

}  // namespace mmojo
