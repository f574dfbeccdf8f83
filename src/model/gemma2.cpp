// Gemma 2 (Gemma Team 2024, "Gemma 2: Improving Open Language Models at a Practical
// Size"), and the shared Gemma graph that gemma3.cpp configures:
//
//   x_0 = E[token] * sqrt(n_embd)
//   h_l = x_l + RMSNorm(Attention(n)) * g_post_attn,      n = RMSNorm(x_l) * g_attn
//   x_{l+1} = h_l + RMSNorm(FFN(m)) * g_post_ffw,         m = RMSNorm(h_l) * g_ffn
//   FFN(m) = W_down (gelu_tanh(W_gate m) * W_up m)
//   logits = cap_f * tanh(E (RMSNorm(x_L) * g_out) / cap_f)        (tied output)
//
// Attention scores are soft-capped, cap_a * tanh(s / cap_a), before the mask and softmax.
// Local and global blocks alternate: with a window pattern of period p, block l is local
// (a key j is visible from i only when i - j < sliding_window) unless (l + 1) % p == 0.
// The stored norm weights are already the multipliers (the converter writes 1 + w).
// RoPE is NEOX-style; q is scaled by 1/sqrt(head_dim), or 1/sqrt(n_embd / n_head) for
// the 27B layer counts (46 blocks for gemma2, 62 for gemma3), as llama.cpp does.
//
// GGUF tensors: token_embd, output_norm, blk.N.{attn_norm, attn_q, attn_k, attn_v,
// attn_output, post_attention_norm, ffn_norm, ffn_gate, ffn_up, ffn_down, post_ffw_norm}
// (gemma3 adds attn_q_norm / attn_k_norm).
#include "model/gemma.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/architecture.h"
#include "model/blocks.h"
#include "model/hparams.h"
#include "model/tensor_binder.h"
#include "ops/activation.h"
#include "ops/embedding.h"
#include "ops/norm.h"

namespace mmojo {

namespace {

struct GemmaBlock {
    std::vector<float> attn_norm, post_attention_norm;   // [n_embd]
    AttentionWeights attn;
    std::vector<float> ffn_norm, post_ffw_norm;           // [n_embd]
    FeedForwardWeights ffn;
    const AttentionConfig* config = nullptr;              // local_ or global_
};

class GemmaModel final : public Model {
public:
    explicit GemmaModel(const GemmaVariant& variant) : variant_(variant) {}
    void forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                 OutputKind kind) override;
    // Local blocks keep only their window (a ring of cells), global blocks every position.
    std::vector<LayerStateSpec> state_layers() const override {
        std::vector<LayerStateSpec> layers;
        for (const GemmaBlock& blk : blocks_) {
            layers.push_back(LayerStateSpec::key_value(hparams_.n_head_kv, hparams_.head_dim_k, hparams_.head_dim_v,
                                                       blk.config->window));
        }
        return layers;
    }

protected:
    void load_weights(TensorBinder& binder) override;

private:
    GemmaVariant variant_;
    Matrix token_embd_;               // [n_vocab rows of n_embd], also the output
    std::vector<float> output_norm_;  // [n_embd]
    std::vector<GemmaBlock> blocks_;
    AttentionConfig local_, global_;
    float final_softcap_ = 0.0f;
};

void GemmaModel::load_weights(TensorBinder& b) {
    ModelHparams& hp = hparams_;
    read_common_hparams(*gguf_, hp);
    const std::string p = hp.arch + ".";
    const GgufFile& f = *gguf_;

    global_ = attention_config(hp, RopeLayout::kNeox);
    const uint32_t n_27b = variant_.qk_norm ? 62 : 46;
    if (hp.n_layer == n_27b) global_.scale = 1.0f / std::sqrt(float(hp.n_embd / hp.n_head));
    if (variant_.always_softcap) {
        global_.softcap = f.get_f32_or(p + "attn_logit_softcapping", 50.0f);
        final_softcap_ = f.get_f32_or(p + "final_logit_softcapping", 30.0f);
    } else {
        global_.softcap = f.get_f32_or(p + "attn_logit_softcapping", 0.0f);
        final_softcap_ = f.get_f32_or(p + "final_logit_softcapping", 0.0f);
    }
    local_ = global_;
    local_.window = int32_t(f.get_u32_or(p + "attention.sliding_window", 4096));
    if (local_.window <= 0) throw std::runtime_error(p + "attention.sliding_window must be positive");
    if (variant_.local_rope_base > 0.0f) {
        local_.rope.freq_base = f.get_f32_or(p + "rope.freq_base_swa", variant_.local_rope_base);
        local_.rope.freq_scale = 1.0f;
    }
    const uint32_t period = f.get_u32_or(p + "attention.sliding_window_pattern", variant_.window_period);
    if (period == 0) throw std::runtime_error(p + "attention.sliding_window_pattern must be positive");

    token_embd_ = b.matrix("token_embd.weight", hp.n_embd, hp.n_vocab);
    output_norm_ = b.vector("output_norm.weight", hp.n_embd);
    blocks_.resize(hp.n_layer);
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
        const std::string bp = "blk." + std::to_string(l) + ".";
        GemmaBlock& blk = blocks_[l];
        blk.attn_norm = b.vector(bp + "attn_norm.weight", hp.n_embd);
        blk.attn = bind_attention(b, bp, hp);
        if (variant_.qk_norm) {
            blk.attn.q_norm = b.vector(bp + "attn_q_norm.weight", hp.head_dim_k);
            blk.attn.k_norm = b.vector(bp + "attn_k_norm.weight", hp.head_dim_k);
        }
        blk.post_attention_norm = b.vector(bp + "post_attention_norm.weight", hp.n_embd);
        blk.ffn_norm = b.vector(bp + "ffn_norm.weight", hp.n_embd);
        blk.ffn.gate = b.matrix(bp + "ffn_gate.weight", hp.n_embd, hp.n_ff);
        blk.ffn.up = b.matrix(bp + "ffn_up.weight", hp.n_embd, hp.n_ff);
        blk.ffn.down = b.matrix(bp + "ffn_down.weight", hp.n_ff, hp.n_embd);
        blk.post_ffw_norm = b.vector(bp + "post_ffw_norm.weight", hp.n_embd);
        blk.config = (l + 1) % period == 0 ? &global_ : &local_;
    }
}

void GemmaModel::forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                         OutputKind kind) {
    ForwardPass pass(batch, state, pool);
    const int64_t d = hparams_.n_embd;
    const float eps = hparams_.norm_eps;
    int64_t rows = pass.n_tokens();
    std::vector<float> x(size_t(rows * d)), n(x.size()), y(x.size());

    // x = E[token] * sqrt(n_embd)
    get_rows(token_embd_, pass.tokens().data(), rows, x.data());
    scale(x.data(), rows * d, std::sqrt(float(d)));

    for (size_t l = 0; l < blocks_.size(); ++l) {
        const GemmaBlock& blk = blocks_[l];
        // h = x + RMSNorm(Attention(RMSNorm(x) * g_attn)) * g_post_attn
        rms_norm(x.data(), n.data(), rows, d, blk.attn_norm.data(), eps);
        self_attention(pass, int(l), blk.attn, *blk.config, n.data(), y.data());
        if (l + 1 == blocks_.size()) {   // only the requested rows from here on
            keep_rows(x, d, pass.output_rows());
            keep_rows(y, d, pass.output_rows());
            rows = int64_t(pass.output_rows().size());
            if (rows == 0) return;
        }
        rms_norm(y.data(), y.data(), rows, d, blk.post_attention_norm.data(), eps);
        add_in_place(x.data(), y.data(), rows * d);
        // x = h + RMSNorm(GeGLU(RMSNorm(h) * g_ffn)) * g_post_ffw
        rms_norm(x.data(), n.data(), rows, d, blk.ffn_norm.data(), eps);
        feed_forward_geglu(pool, blk.ffn, n.data(), rows, y.data());
        rms_norm(y.data(), y.data(), rows, d, blk.post_ffw_norm.data(), eps);
        add_in_place(x.data(), y.data(), rows * d);
    }
    decoder_output(pool, x.data(), rows, d, output_norm_, eps, token_embd_, final_softcap_, kind, out);
}

}  // namespace

std::unique_ptr<Model> create_gemma_model(const GemmaVariant& variant) {
    return std::make_unique<GemmaModel>(variant);
}

std::unique_ptr<Model> create_gemma2_model() {
    // Soft-capping always on (50 / 30 when the keys are absent), every other block local,
    // one RoPE for all blocks.
    return create_gemma_model({.qk_norm = false, .always_softcap = true, .window_period = 2,
                               .local_rope_base = 0.0f});
}

}  // namespace mmojo
