// Mistral 3 dense text models (Ministral 3, Mistral Small 3.x as "mistral3" files): the
// LLaMA decoder (llama.cpp) with YaRN-scaled RoPE and attention temperature tuning:
//
//   x_0 = E[token]
//   q = RoPE_yarn(W_q n) * t(p),  k = RoPE_yarn(W_k n),  v = W_v n,   n = RMSNorm(x_l) * g_attn
//   t(p) = 1 + beta * ln(floor(p / n_orig) + 1)        (beta: attention.temperature_scale)
//   h_l = x_l + W_o Attention(q, k, v) (+ b_o)
//   x_{l+1} = h_l + W_down (silu(W_gate m) * (W_up m + b_up)) (+ b_down),  m = RMSNorm(h_l) * g_ffn
//   logits = W_out (RMSNorm(x_L) * g_out)            (W_out = E when output.weight is absent)
//
// RoPE pairs (2i, 2i+1), optionally divided by rope_freqs; YaRN (rope.scaling.type "yarn",
// factor, original_context_length n_orig, yarn_beta_fast/slow, yarn_log_multiplier) as
// apply_yarn in blocks.h describes; t(p) only when attention.temperature_scale is present
// (llama.cpp's floor scale is the original context length). Scale attention.scale or
// 1/sqrt(head_dim).
//
// GGUF tensors: those of llama plus the optional blk.N.attn_output.bias,
// ffn_{up,down}.bias and rope_freqs. The mixture-of-experts variant is not supported.
#include <stdexcept>
#include <string>

#include "model/architecture.h"
#include "model/blocks.h"
#include "model/hparams.h"
#include "model/tensor_binder.h"

namespace mmojo {

namespace {

class Mistral3Model final : public PreNormDecoder {
protected:
    void load_weights(TensorBinder& b) override {
        ModelHparams& hp = hparams_;
        const GgufFile& f = *gguf_;
        read_common_hparams(f, hp);
        if (b.has("blk.0.ffn_gate_inp.weight")) {
            throw std::runtime_error(f.name() + ": mixture-of-experts mistral3 models are not supported");
        }
        if (b.has("blk.0.ffn_gate.bias")) {
            throw std::runtime_error(f.name() + ": a bias on ffn_gate is not supported");
        }
        if (hp.rope_scaling == "longrope") {
            throw std::runtime_error(f.name() + ": rope scaling type 'longrope' is not supported for mistral3");
        }

        ends_ = bind_decoder_ends(b, hp);
        rope_freqs_ = b.optional_vector("rope_freqs.weight", hp.n_rot / 2);
        for (uint32_t l = 0; l < hp.n_layer; ++l) {
            const std::string p = "blk." + std::to_string(l) + ".";
            PreNormBlock& blk = blocks_.emplace_back(bind_pre_norm_block(b, p, hp));
            blk.ffn.b_up = b.optional_vector(p + "ffn_up.bias", hp.n_ff);
            blk.ffn.b_down = b.optional_vector(p + "ffn_down.bias", hp.n_embd);
        }

        attention_ = attention_config(hp, RopeLayout::kNormal);
        const float scale = f.get_f32_or(hp.arch + ".attention.scale", 0.0f);
        if (scale != 0.0f) attention_.scale = scale;
        attention_.rope.freq_factors = rope_freqs_.empty() ? nullptr : rope_freqs_.data();
        apply_yarn(f, hp, attention_.rope);
        attention_.temperature_scale = f.get_f32_or(hp.arch + ".attention.temperature_scale", 0.0f);
        if (attention_.temperature_scale != 0.0f) {
            if (hp.n_ctx_orig == 0) {
                throw std::runtime_error(f.name() + ": attention.temperature_scale needs "
                                         "rope.scaling.original_context_length (or context_length) > 0");
            }
            attention_.temperature_floor = int32_t(hp.n_ctx_orig);
        }
    }

private:
    std::vector<float> rope_freqs_;   // [n_rot / 2] frequency divisors, or empty
};

}  // namespace

std::unique_ptr<Model> create_mistral3_model() { return std::make_unique<Mistral3Model>(); }

}  // namespace mmojo
