// Qwen2 (Yang et al. 2024, "Qwen2 Technical Report"): the LLaMA decoder with biases on the
// q, k and v projections and NEOX-style RoPE (pairs (i, i + head_dim/2)).
//
//   x_0 = E[token]
//   h_l = x_l + W_o Attention(RoPE(W_q n + b_q), RoPE(W_k n + b_k), W_v n + b_v),
//         n = RMSNorm(x_l) * g_attn
//   x_{l+1} = h_l + W_down (silu(W_gate m) * W_up m),   m = RMSNorm(h_l) * g_ffn
//   logits = W_out (RMSNorm(x_L) * g_out)               (W_out = E when output is absent)
//
// GGUF tensors: token_embd, output_norm, output (optional), blk.N.{attn_norm, attn_q,
// attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down}.weight and
// blk.N.attn_{q,k,v}.bias.
#include <string>
#include <vector>

#include "model/architecture.h"
#include "model/blocks.h"
#include "model/hparams.h"
#include "model/tensor_binder.h"

namespace mmojo {

namespace {

class Qwen2Model final : public PreNormDecoder {
public:
    explicit Qwen2Model(bool qk_norm) : qk_norm_(qk_norm) {}

protected:
    void load_weights(TensorBinder& binder) override;

private:
    bool qk_norm_;                    // qwen3: attn_q_norm / attn_k_norm are required
};

void Qwen2Model::load_weights(TensorBinder& b) {
    ModelHparams& hp = hparams_;
    read_common_hparams(*gguf_, hp);
    ends_ = bind_decoder_ends(b, hp);
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        PreNormBlock& blk = blocks_.emplace_back(bind_pre_norm_block(b, p, hp));
        if (qk_norm_) {
            blk.attn.q_norm = b.vector(p + "attn_q_norm.weight", hp.head_dim_k);
            blk.attn.k_norm = b.vector(p + "attn_k_norm.weight", hp.head_dim_k);
        }
    }
    attention_ = attention_config(hp, RopeLayout::kNeox);
}

}  // namespace

std::unique_ptr<Model> create_qwen2_model() { return std::make_unique<Qwen2Model>(false); }

std::unique_ptr<Model> create_qwen_model_with_qk_norm() { return std::make_unique<Qwen2Model>(true); }

}  // namespace mmojo
