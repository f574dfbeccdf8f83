// Key/value cache storage (see kv_cache.h).
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
    const TensorTypeTraits* dot = traits ? tensor_type_traits(traits->vec_dot_type) : nullptr;
    if (!traits || !traits->from_float || !traits->to_float || !traits->vec_dot || !dot ||
        (traits->vec_dot_type != TensorType::kF32 && !dot->from_float)) {
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
    size_t total = 0;
    for (size_t l = 0; l < layers.size(); ++l) {
        KvLayerShape& shape = layers_[l].shape;
        shape = layers[l];
        if (shape.cells_per_seq <= 0 || shape.cells_per_seq > int64_t(n_ctx_seq())) {
            shape.cells_per_seq = n_ctx_seq();
        }
        check_cache_type("keys", type_k, shape.head_dim_k);
        check_cache_type("values", type_v, shape.head_dim_v);
        const size_t cells = size_t(n_seq) * size_t(shape.cells_per_seq) * size_t(shape.n_head_kv);
        total += cells * (tensor_row_bytes(type_k, shape.head_dim_k) +
                          tensor_row_bytes(type_v, shape.head_dim_v));
    }
    try {
        for (Layer& layer : layers_) {
            const size_t heads = size_t(n_seq) * size_t(layer.shape.cells_per_seq) * size_t(layer.shape.n_head_kv);
            layer.keys.assign(heads * tensor_row_bytes(type_k, layer.shape.head_dim_k), 0);
            layer.values.assign(heads * tensor_row_bytes(type_v, layer.shape.head_dim_v), 0);
        }
    } catch (const std::bad_alloc&) {
        throw std::runtime_error("KV cache: cannot allocate " + std::to_string(total >> 20) +
                                 " MiB for " + std::to_string(n_ctx) +
                                 " positions (lower the context size)");
    }
}

size_t KvCache::memory_bytes() const {
    size_t total = 0;
    for (const Layer& layer : layers_) total += layer.keys.size() + layer.values.size();
    return total;
}

KvLayerView KvCache::view(int layer) {
    Layer& l = layers_[size_t(layer)];
    KvLayerView v;
    v.keys = l.keys.data();
    v.values = l.values.data();
    v.type_k = type_k_;
    v.type_v = type_v_;
    v.n_head_kv = l.shape.n_head_kv;
    v.head_dim_k = l.shape.head_dim_k;
    v.head_dim_v = l.shape.head_dim_v;
    v.k_head_bytes = tensor_row_bytes(type_k_, l.shape.head_dim_k);
    v.v_head_bytes = tensor_row_bytes(type_v_, l.shape.head_dim_v);
    v.cells_per_seq = l.shape.cells_per_seq;
    return v;
}

bool KvCache::can_keep(int layer, int32_t window, int32_t length, int32_t n_keep) const {
    const int64_t cells = layers_[size_t(layer)].shape.cells_per_seq;
    if (n_keep == 0 || n_keep >= length || length <= cells) return true;
    const int64_t oldest_kept = int64_t(length) - cells;   // positions before it are overwritten
    const int64_t oldest_needed = window > 0 ? int64_t(n_keep) - window + 1 : 0;
    return oldest_needed >= oldest_kept;
}

}  // namespace mmojo
