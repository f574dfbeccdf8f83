// Qwen3-MoE (Qwen team 2025, "Qwen3 Technical Report"; Qwen3-30B-A3B, Qwen3-Coder): the
// Qwen3 attention (per-head RMSNorm of q and k before NEOX RoPE, no biases, head size from
// attention.key_length) and in every block a mixture of experts instead of the dense
// feed-forward: softmax router, top-k (expert_used_count of expert_count), the k weights
// renormalised to sum 1, SwiGLU experts (moe_decoder.h, ops/moe.h).
//
// GGUF tensors: token_embd, output_norm, output (optional), blk.N.{attn_norm, attn_q,
// attn_k, attn_v, attn_output, attn_q_norm, attn_k_norm, ffn_norm, ffn_gate_inp,
// ffn_gate_exps, ffn_up_exps, ffn_down_exps}.weight.
#include <string>
#include <vector>

#include "model/architecture.h"
#include "model/hparams.h"
#include "model/moe_decoder.h"
#include "model/tensor_binder.h"

namespace mmojo {

namespace {

class Qwen3MoeModel final : public MoeDecoderModel {
protected:
    void load_weights(TensorBinder& b) override {
        ModelHparams& hp = hparams_;
        read_common_hparams(*gguf_, hp);
        // llama.cpp's qwen3moe graph always renormalises the chosen weights with softmax
        // gating and never reads a weight scale.
        moe_ = read_moe_hparams(*gguf_, hp, MoeGating::kSoftmax, true);
        moe_.config.gating = MoeGating::kSoftmax;
        moe_.config.normalize = true;
        moe_.config.scale = 1.0f;
        ends_ = bind_decoder_ends(b, hp);
        for (uint32_t l = 0; l < hp.n_layer; ++l) {
            const std::string p = "blk." + std::to_string(l) + ".";
            MoeBlock& blk = blocks_.emplace_back();
            blk.attn_norm = b.vector(p + "attn_norm.weight", hp.n_embd);
            blk.attn = bind_attention(b, p, hp);
            blk.attn.q_norm = b.vector(p + "attn_q_norm.weight", hp.head_dim_k);
            blk.attn.k_norm = b.vector(p + "attn_k_norm.weight", hp.head_dim_k);
            blk.ffn_norm = b.vector(p + "ffn_norm.weight", hp.n_embd);
            bind_moe_ffn(b, p, hp, moe_, l < moe_.n_dense_lead, blk);
        }
        attention_.assign(hp.n_layer, attention_config(hp, RopeLayout::kNeox));
    }
};

}  // namespace

std::unique_ptr<Model> create_qwen3moe_model() { return std::make_unique<Qwen3MoeModel>(); }

}  // namespace mmojo
