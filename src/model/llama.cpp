// LLaMA (Touvron et al. 2023, "LLaMA: Open and Efficient Foundation Language Models") and
// the models that share its graph: Llama 2/3 (GQA, Llama-3 `rope_freqs`), Mistral-style
// dense files, TinyLlama, stories260K.
//
//   x_0 = E[token]
//   h_l = x_l + W_o Attention(RoPE(W_q n), RoPE(W_k n), W_v n),  n = RMSNorm(x_l) * g_attn
//   x_{l+1} = h_l + W_down (silu(W_gate m) * W_up m),           m = RMSNorm(h_l) * g_ffn
//   logits = W_out (RMSNorm(x_L) * g_out)          (W_out = E when output.weight is absent)
//
// GGUF tensor names: token_embd, output_norm, output, rope_freqs, blk.N.{attn_norm, attn_q,
// attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down}.weight, with optional
// .bias for the projections. RoPE uses the normal pair layout (2i, 2i+1).
#include <stdexcept>
#include <string>

#include "model/architecture.h"
#include "model/blocks.h"
#include "model/hparams.h"
#include "model/tensor_binder.h"

namespace mmojo {

namespace {

class LlamaModel final : public PreNormDecoder {
protected:
    void load_weights(TensorBinder& binder) override;

private:
    std::vector<float> rope_freqs_;  // [n_rot / 2] frequency divisors, or empty
};

void LlamaModel::load_weights(TensorBinder& b) {
    ModelHparams& hp = hparams_;
    read_common_hparams(*gguf_, hp);
    if (hp.rope_scaling == "yarn" || hp.rope_scaling == "longrope") {
        throw std::runtime_error(gguf_->name() + ": rope scaling type '" + hp.rope_scaling +
                                 "' is not supported for llama models yet");
    }
    if (b.has("blk.0.ffn_gate_inp.weight")) {
        throw std::runtime_error(gguf_->name() +
                                 ": mixture-of-experts llama models are not supported");
    }
    if (hp.n_vocab == 0) {
        const GgufTensorInfo* embd = gguf_->find_tensor("token_embd.weight");
        if (embd && embd->dims.size() == 2) hp.n_vocab = uint32_t(embd->dims[1]);
    }
    if (hp.n_ff == 0) {
        const GgufTensorInfo* up = gguf_->find_tensor("blk.0.ffn_up.weight");
        if (up && up->dims.size() == 2) hp.n_ff = uint32_t(up->dims[1]);
    }

    ends_ = bind_decoder_ends(b, hp);
    rope_freqs_ = b.optional_vector("rope_freqs.weight", hp.n_rot / 2);
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
        blocks_.push_back(bind_pre_norm_block(b, "blk." + std::to_string(l) + ".", hp));
    }

    attention_ = attention_config(hp, RopeLayout::kNormal);
    const float scale = gguf_->get_f32_or(hp.arch + ".attention.scale", 0.0f);
    if (scale != 0.0f) attention_.scale = scale;
    attention_.rope.freq_factors = rope_freqs_.empty() ? nullptr : rope_freqs_.data();
}

}  // namespace

std::unique_ptr<Model> create_llama_model() { return std::make_unique<LlamaModel>(); }

}  // namespace mmojo
