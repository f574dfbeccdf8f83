// Key/value cache storage and sequence bookkeeping (see kv_cache.h).
#include "runtime/kv_cache.h"

#include <new>
#include <stdexcept>
#include <string>

namespace mmojo {

namespace {

std::string type_name(TensorType type) {
    const char* name = tensor_type_name(uint32_t(type));
    return name ? name : "type " + std::to_string(uint32_t(type));
}

// Checks that `type` can hold heads of `head_dim` elements and be read back by attention.
void check_cache_type(const char* which, TensorType type, int64_t head_dim) {
    const TensorTypeTraits* traits = tensor_type_traits(type);
    if (!traits || !traits->from_float || !traits->to_float || !traits->vec_dot) {
        throw std::runtime_error(std::string("KV cache: type ") + type_name(type) +
                                 " cannot be used for " + which);
    }
    const TensorTypeTraits* dot = tensor_type_traits(traits->vec_dot_type);
    if (!dot || (traits->vec_dot_type != TensorType::kF32 && !dot->from_float)) {
        throw std::runtime_error(std::string("KV cache: type ") + type_name(type) +
                                 " cannot be used for " + which);
    }
    if (head_dim % traits->block_size != 0 || head_dim % dot->block_size != 0) {
        throw std::runtime_error(std::string("KV cache: ") + which + " of type " +
                                 type_name(type) + " need a head size that is a multiple of " +
                                 std::to_string(traits->block_size) + ", the model has " +
                                 std::to_string(head_dim));
    }
}

}  // namespace

KvCache::KvCache(std::vector<KvLayerShape> layers, uint32_t n_ctx, uint32_t n_seq,
                 TensorType type_k, TensorType type_v)
    : n_ctx_(n_ctx), n_seq_(n_seq), type_k_(type_k), type_v_(type_v) {
    if (n_seq == 0 || n_ctx < n_seq) {
        throw std::runtime_error("KV cache: " + std::to_string(n_ctx) +
                                 " positions cannot be shared by " + std::to_string(n_seq) +
                                 " sequences");
    }
    layers_.resize(layers.size());
    const size_t n_cells = size_t(n_seq) * n_ctx_seq();
    for (size_t l = 0; l < layers.size(); ++l) {
        Layer& layer = layers_[l];
        layer.shape = layers[l];
        check_cache_type("keys", type_k, layer.shape.head_dim_k);
        check_cache_type("values", type_v, layer.shape.head_dim_v);
        layer.k_head_bytes = tensor_row_bytes(type_k, layer.shape.head_dim_k);
        layer.v_head_bytes = tensor_row_bytes(type_v, layer.shape.head_dim_v);
        layer.k_cell_bytes = layer.k_head_bytes * size_t(layer.shape.n_head_kv);
        layer.v_cell_bytes = layer.v_head_bytes * size_t(layer.shape.n_head_kv);
    }
    size_t total = 0;
    for (const Layer& layer : layers_) {
        total += (layer.k_cell_bytes + layer.v_cell_bytes) * n_cells;
    }
    try {
        for (Layer& layer : layers_) {
            layer.keys.assign(layer.k_cell_bytes * n_cells, 0);
            layer.values.assign(layer.v_cell_bytes * n_cells, 0);
        }
    } catch (const std::bad_alloc&) {
        throw std::runtime_error("KV cache: cannot allocate " + std::to_string(total >> 20) +
                                 " MiB for " + std::to_string(n_ctx) +
                                 " positions (lower the context size)");
    }
    lengths_.assign(n_seq, 0);
}

size_t KvCache::memory_bytes() const {
    size_t total = 0;
    for (const Layer& layer : layers_) total += layer.keys.size() + layer.values.size();
    return total;
}

const uint8_t* KvCache::k(int layer, int64_t cell, int64_t head) const {
    const Layer& l = layers_[size_t(layer)];
    return l.keys.data() + size_t(cell) * l.k_cell_bytes + size_t(head) * l.k_head_bytes;
}

const uint8_t* KvCache::v(int layer, int64_t cell, int64_t head) const {
    const Layer& l = layers_[size_t(layer)];
    return l.values.data() + size_t(cell) * l.v_cell_bytes + size_t(head) * l.v_head_bytes;
}

void KvCache::store_k(int layer, int64_t cell, const float* keys) {
    Layer& l = layers_[size_t(layer)];
    const FromFloatFn from_float = tensor_type_traits(type_k_)->from_float;
    for (int64_t h = 0; h < l.shape.n_head_kv; ++h) {
        from_float(keys + h * l.shape.head_dim_k,
                   l.keys.data() + size_t(cell) * l.k_cell_bytes + size_t(h) * l.k_head_bytes,
                   l.shape.head_dim_k);
    }
}

void KvCache::store_v(int layer, int64_t cell, const float* values) {
    Layer& l = layers_[size_t(layer)];
    const FromFloatFn from_float = tensor_type_traits(type_v_)->from_float;
    for (int64_t h = 0; h < l.shape.n_head_kv; ++h) {
        from_float(values + h * l.shape.head_dim_v,
                   l.values.data() + size_t(cell) * l.v_cell_bytes + size_t(h) * l.v_head_bytes,
                   l.shape.head_dim_v);
    }
}

namespace {

void check_seq(int32_t seq, uint32_t n_seq) {
    if (seq < 0 || uint32_t(seq) >= n_seq) {
        throw std::runtime_error("KV cache: sequence " + std::to_string(seq) +
                                 " does not exist (the context has " + std::to_string(n_seq) +
                                 ")");
    }
}

}  // namespace

int32_t KvCache::seq_length(int32_t seq) const {
    check_seq(seq, n_seq_);
    return lengths_[size_t(seq)];
}

void KvCache::set_seq_length(int32_t seq, int32_t length) {
    check_seq(seq, n_seq_);
    if (length < 0 || uint32_t(length) > n_ctx_seq()) {
        throw std::runtime_error("KV cache: length " + std::to_string(length) +
                                 " is outside the " + std::to_string(n_ctx_seq()) +
                                 " positions of a sequence");
    }
    lengths_[size_t(seq)] = length;
}

void KvCache::seq_truncate(int32_t seq, int32_t n_keep) {
    if (n_keep < 0) n_keep = 0;
    if (n_keep < seq_length(seq)) set_seq_length(seq, n_keep);
}

}  // namespace mmojo
