// Phi-3 (Abdin et al. 2024, "Phi-3 Technical Report"): the LLaMA decoder with fused
// projections and LongRoPE (Ding et al. 2024):
//
//   [q | k | v] = W_qkv n,             n = RMSNorm(x_l) * g_attn   (rows: q, then k, then v)
//   h_l = x_l + W_o Attention(RoPE(q), RoPE(k), v)
//   [g | u] = W_up m,                  m = RMSNorm(h_l) * g_ffn     (rows: gate, then up)
//   x_{l+1} = h_l + W_down (silu(g) * u)
//   logits = W_out (RMSNorm(x_L) * g_out)                (W_out = E when output is absent)
//
// LongRoPE: every rotary frequency i is divided by rope_factors_short[i] when the context
// per sequence is at most rope.scaling.original_context_length, else by
// rope_factors_long[i]; cos and sin are multiplied by rope.scaling.attn_factor. RoPE is
// NEOX-style. The converter's attention.sliding_window is ignored (as llama.cpp does).
//
// GGUF tensors: token_embd, output_norm, output (optional), rope_factors_{short,long}
// (optional, [n_rot/2]), blk.N.{attn_norm, attn_qkv, attn_output, ffn_norm, ffn_up,
// ffn_down}.weight.
#include <string>
#include <vector>

#include "model/architecture.h"
#include "model/blocks.h"
#include "model/hparams.h"
#include "model/tensor_binder.h"
#include "model/sequence_state.h"

namespace mmojo {

namespace {

class Phi3Model final : public PreNormDecoder {
protected:
    void load_weights(TensorBinder& binder) override;
    AttentionConfig pass_attention(const SequenceState& state) const override;

private:
    std::vector<float> factors_short_, factors_long_;   // [n_rot / 2] each, or empty
};

void Phi3Model::load_weights(TensorBinder& b) {
    ModelHparams& hp = hparams_;
    read_common_hparams(*gguf_, hp);
    const int64_t n_qkv = int64_t(hp.n_head) * hp.head_dim_k +
                          int64_t(hp.n_head_kv) * (hp.head_dim_k + hp.head_dim_v);
    ends_ = bind_decoder_ends(b, hp);
    factors_short_ = b.optional_vector("rope_factors_short.weight", hp.n_rot / 2);
    factors_long_ = b.optional_vector("rope_factors_long.weight", hp.n_rot / 2);
    blocks_.resize(hp.n_layer);
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        PreNormBlock& blk = blocks_[l];
        blk.attn_norm = b.vector(p + "attn_norm.weight", hp.n_embd);
        blk.attn.wqkv = b.matrix(p + "attn_qkv.weight", hp.n_embd, n_qkv);
        blk.attn.wo = b.matrix(p + "attn_output.weight", int64_t(hp.n_head) * hp.head_dim_v, hp.n_embd);
        blk.ffn_norm = b.vector(p + "ffn_norm.weight", hp.n_embd);
        blk.ffn.up = b.matrix(p + "ffn_up.weight", hp.n_embd, 2 * int64_t(hp.n_ff));
        blk.ffn.down = b.matrix(p + "ffn_down.weight", hp.n_ff, hp.n_embd);
    }
    attention_ = attention_config(hp, RopeLayout::kNeox);
    attention_.rope.attn_factor = gguf_->get_f32_or(hp.arch + ".rope.scaling.attn_factor", 1.0f);
}

AttentionConfig Phi3Model::pass_attention(const SequenceState& state) const {
    // LongRoPE's factor set follows the context size per sequence.
    AttentionConfig attention = attention_;
    const bool long_context = state.n_ctx_seq() > hparams_.n_ctx_orig;
    const std::vector<float>& factors = long_context ? factors_long_ : factors_short_;
    attention.rope.freq_factors = factors.empty() ? nullptr : factors.data();
    return attention;
}

}  // namespace

std::unique_ptr<Model> create_phi3_model() { return std::make_unique<Phi3Model>(); }

}  // namespace mmojo
