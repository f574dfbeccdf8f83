// SmolLM3 (Hugging Face 2025, "SmolLM3: smol, multilingual, long-context reasoner"): the
// LLaMA decoder (llama.cpp) in which every fourth block attends without positions ("NoPE"):
//
//   x_0 = E[token]
//   h_l = x_l + W_o Attention(R_l(W_q n), R_l(W_k n), W_v n),  n = RMSNorm(x_l) * g_attn
//   x_{l+1} = h_l + W_down (silu(W_gate m) * W_up m),         m = RMSNorm(h_l) * g_ffn
//   logits = W_out (RMSNorm(x_L) * g_out)            (W_out = E when output.weight is absent)
//
// R_l is RoPE (pairs (2i, 2i+1)) unless (l + 1) % 4 == 0, where it is the identity. The
// GGUF carries no key for the period: llama.cpp fixes it at 4 for this architecture
// (hparams.n_no_rope_layer_step), and so do we. The scale is attention.scale when given,
// else 1/sqrt(head_dim).
//
// GGUF tensors: token_embd, output_norm, output (optional), blk.N.{attn_norm, attn_q,
// attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down}.weight.
#include <string>

#include "model/architecture.h"
#include "model/blocks.h"
#include "model/hparams.h"
#include "model/tensor_binder.h"

namespace mmojo {

namespace {

constexpr uint32_t kNoRopePeriod = 4;

class SmolLm3Model final : public PreNormDecoder {
protected:
    void load_weights(TensorBinder& b) override {
        ModelHparams& hp = hparams_;
        read_common_hparams(*gguf_, hp);
        attention_ = attention_config(hp, RopeLayout::kNormal);
        const float scale = gguf_->get_f32_or(hp.arch + ".attention.scale", 0.0f);
        if (scale != 0.0f) attention_.scale = scale;
        no_rope_ = attention_;
        no_rope_.use_rope = false;

        ends_ = bind_decoder_ends(b, hp);
        for (uint32_t l = 0; l < hp.n_layer; ++l) {
            PreNormBlock& blk = blocks_.emplace_back(bind_pre_norm_block(b, "blk." + std::to_string(l) + ".", hp));
            if ((l + 1) % kNoRopePeriod == 0) blk.attention = &no_rope_;
        }
    }

private:
    AttentionConfig no_rope_;   // the NoPE blocks' settings
};

}  // namespace

std::unique_ptr<Model> create_smollm3_model() { return std::make_unique<SmolLm3Model>(); }

}  // namespace mmojo
