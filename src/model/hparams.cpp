// Hyperparameters from `<arch>.*` keys (see hparams.h). Defaults follow llama.cpp's
// loader: head_count_kv = head_count, key/value length = embedding_length / head_count,
// rope dimension count = key length, rope base 10000, scaling type "linear" with factor 1.
#include "model/hparams.h"

#include <stdexcept>

namespace mmojo {

namespace {

[[noreturn]] void bad_value(const std::string& key, const std::string& why) {
    throw std::runtime_error("model key '" + key + "': " + why);
}

}  // namespace

uint32_t read_uniform_u32(const GgufFile& file, const std::string& key, int64_t fallback) {
    const GgufValue* value = file.find(key);
    if (!value) {
        if (fallback < 0) throw std::runtime_error("missing required model key '" + key + "'");
        return uint32_t(fallback);
    }
    if (value->type == GgufValueType::kArray) {
        const std::vector<int64_t> values = file.get_int_array(key);
        if (values.empty()) bad_value(key, "empty array");
        for (int64_t v : values) {
            if (v != values.front()) {
                bad_value(key, "different values per layer are not supported yet");
            }
        }
        if (values.front() < 0 || values.front() > int64_t(UINT32_MAX)) bad_value(key, "out of range");
        return uint32_t(values.front());
    }
    return file.get_u32(key);
}

std::vector<bool> read_sliding_layers(const GgufFile& file, const std::string& arch, uint32_t n_layer,
                                      uint32_t period, bool dense_first) {
    const std::string key = arch + ".attention.sliding_window_pattern";
    std::vector<bool> sliding(n_layer, false);
    const GgufValue* value = file.find(key);
    if (value && value->type == GgufValueType::kArray) {
        const GgufArray& array = value->as_array();
        if (array.values.size() != n_layer) {
            bad_value(key, std::to_string(array.values.size()) + " entries for " + std::to_string(n_layer) + " blocks");
        }
        for (uint32_t l = 0; l < n_layer; ++l) sliding[l] = array.values[l].as_bool();
        return sliding;
    }
    if (value) period = file.get_u32(key);
    for (uint32_t l = 0; l < n_layer; ++l) {
        sliding[l] = period == 0 || (dense_first ? l % period != 0 : l % period < period - 1);
    }
    return sliding;
}

void read_common_hparams(const GgufFile& file, ModelHparams& hp) {
    const std::string p = hp.arch + ".";

    hp.n_ctx_train = read_uniform_u32(file, p + "context_length", -1);
    hp.n_embd = read_uniform_u32(file, p + "embedding_length", -1);
    hp.n_layer = read_uniform_u32(file, p + "block_count", -1);
    hp.n_ff = read_uniform_u32(file, p + "feed_forward_length", 0);
    hp.n_head = read_uniform_u32(file, p + "attention.head_count", -1);
    hp.n_head_kv = read_uniform_u32(file, p + "attention.head_count_kv", hp.n_head);
    if (hp.n_embd == 0) bad_value(p + "embedding_length", "must be positive");
    if (hp.n_layer == 0) bad_value(p + "block_count", "must be positive");
    if (hp.n_head == 0) bad_value(p + "attention.head_count", "must be positive");
    if (hp.n_head_kv == 0 || hp.n_head % hp.n_head_kv != 0) {
        bad_value(p + "attention.head_count_kv",
                  std::to_string(hp.n_head_kv) + " does not divide the " +
                      std::to_string(hp.n_head) + " attention heads");
    }

    const bool has_key_length = file.has(p + "attention.key_length");
    if (!has_key_length && hp.n_embd % hp.n_head != 0) {
        bad_value(p + "attention.head_count", std::to_string(hp.n_head) +
                                                   " heads do not divide embedding_length " +
                                                   std::to_string(hp.n_embd));
    }
    hp.head_dim_k = read_uniform_u32(file, p + "attention.key_length", hp.n_embd / hp.n_head);
    hp.head_dim_v = read_uniform_u32(file, p + "attention.value_length", hp.n_embd / hp.n_head);
    if (hp.head_dim_k == 0) bad_value(p + "attention.key_length", "must be positive");
    if (hp.head_dim_v == 0) bad_value(p + "attention.value_length", "must be positive");

    if (file.has(p + "attention.layer_norm_rms_epsilon")) {
        hp.norm_eps = file.get_f32(p + "attention.layer_norm_rms_epsilon");
    } else if (file.has(p + "attention.layer_norm_epsilon")) {
        hp.norm_eps = file.get_f32(p + "attention.layer_norm_epsilon");
    }
    if (!(hp.norm_eps >= 0.0f)) bad_value(p + "attention.layer_norm_rms_epsilon", "must be >= 0");

    hp.n_rot = read_uniform_u32(file, p + "rope.dimension_count", hp.head_dim_k);
    if (hp.n_rot % 2 != 0 || hp.n_rot > hp.head_dim_k) {
        bad_value(p + "rope.dimension_count", std::to_string(hp.n_rot) +
                                                  " must be even and at most the head size " +
                                                  std::to_string(hp.head_dim_k));
    }
    hp.rope_freq_base = file.get_f32_or(p + "rope.freq_base", 10000.0f);
    if (!(hp.rope_freq_base > 0.0f)) bad_value(p + "rope.freq_base", "must be positive");
    hp.rope_scaling = file.get_string_or(p + "rope.scaling.type", "linear");
    if (hp.rope_scaling != "none" && hp.rope_scaling != "linear" && hp.rope_scaling != "yarn" &&
        hp.rope_scaling != "longrope") {
        bad_value(p + "rope.scaling.type", "unknown type '" + hp.rope_scaling + "'");
    }
    float factor = file.get_f32_or(p + "rope.scaling.factor", 0.0f);
    if (factor == 0.0f) {
        const float linear = file.get_f32_or(p + "rope.scale_linear", 0.0f);
        if (linear != 0.0f) factor = linear;
    }
    if (!(factor >= 0.0f)) bad_value(p + "rope.scaling.factor", "must not be negative");
    hp.rope_freq_scale = (factor == 0.0f || hp.rope_scaling == "none") ? 1.0f : 1.0f / factor;
    hp.n_ctx_orig = read_uniform_u32(file, p + "rope.scaling.original_context_length", hp.n_ctx_train);

    if (file.has(p + "vocab_size")) {
        hp.n_vocab = read_uniform_u32(file, p + "vocab_size", -1);
    } else if (file.has("tokenizer.ggml.tokens")) {
        hp.n_vocab = uint32_t(file.get_array("tokenizer.ggml.tokens").values.size());
    }
}

}  // namespace mmojo
