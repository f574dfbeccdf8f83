// OLMo 2 (Team OLMo 2024, "2 OLMo 2 Furious") and the OLMo 3 files that share its GGUF
// architecture: no norm before attention or feed-forward, RMSNorm after each instead, and
// an RMSNorm of the whole q and k projections (all heads as one vector) before RoPE:
//
//   x_0 = E[token]
//   q = RoPE(RMSNorm(W_q x_l) * g_q),  k = RoPE(RMSNorm(W_k x_l) * g_k),  v = W_v x_l
//   h_l = x_l + RMSNorm(W_o Attention(q, k, v)) * g_post_attn
//   x_{l+1} = h_l + RMSNorm(W_down (silu(W_gate h_l) * W_up h_l)) * g_post_ffn
//   logits = W_out (RMSNorm(x_L) * g_out)
//
// RoPE is NEOX-style with the file's scaling (YaRN as blocks.h's apply_yarn). OLMo 3 adds
// attention.sliding_window: blocks chosen by attention.sliding_window_pattern (default:
// three sliding, then one global) see only the last `window` positions and rotate
// unscaled (no YaRN), with rope.freq_base: llama.cpp's olmo2 graph reads but does not use
// rope.freq_base_swa, and OLMo 3 has one base for all blocks.
//
// GGUF tensors: token_embd, output_norm, output, blk.N.{attn_q, attn_k, attn_v,
// attn_output, attn_q_norm [n_head * head_dim], attn_k_norm [n_head_kv * head_dim],
// post_attention_norm, ffn_gate, ffn_up, ffn_down, post_ffw_norm}.weight.
#include <stdexcept>
#include <string>
#include <vector>

#include "model/architecture.h"
#include "model/blocks.h"
#include "model/hparams.h"
#include "model/tensor_binder.h"
#include "ops/embedding.h"
#include "ops/norm.h"

namespace mmojo {

namespace {

constexpr uint32_t kSlidingPeriod = 4;   // llama.cpp's default pattern for olmo2

struct Olmo2Block {
    AttentionWeights attn;                               // q_norm / k_norm over whole rows
    std::vector<float> post_attention_norm, post_ffw_norm;   // [n_embd]
    FeedForwardWeights ffn;
    const AttentionConfig* config = nullptr;             // global_ or sliding_
};

class Olmo2Model final : public Model {
public:
    void forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                 OutputKind kind) override;
    std::vector<LayerStateSpec> state_layers() const override;

protected:
    void load_weights(TensorBinder& binder) override;

private:
    DecoderEnds ends_;
    std::vector<Olmo2Block> blocks_;
    AttentionConfig global_, sliding_;
};

void Olmo2Model::load_weights(TensorBinder& b) {
    ModelHparams& hp = hparams_;
    const GgufFile& f = *gguf_;
    read_common_hparams(f, hp);
    const std::string p = hp.arch + ".";

    global_ = attention_config(hp, RopeLayout::kNeox);
    apply_yarn(f, hp, global_.rope);
    const uint32_t window = f.get_u32_or(p + "attention.sliding_window", 0);
    std::vector<bool> sliding(hp.n_layer, false);
    if (window > 0) {
        sliding = read_sliding_layers(f, hp.arch, hp.n_layer, kSlidingPeriod);
        sliding_ = attention_config(hp, RopeLayout::kNeox);
        sliding_.rope.freq_scale = 1.0f;   // rope.freq_base as the global blocks (llama.cpp's graph)
        sliding_.window = int32_t(window);
    }

    ends_ = bind_decoder_ends(b, hp);
    if (!b.has("output.weight")) throw std::runtime_error("missing tensor 'output.weight' in " + f.name());
    const int64_t q_len = int64_t(hp.n_head) * hp.head_dim_k;
    const int64_t k_len = int64_t(hp.n_head_kv) * hp.head_dim_k;
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
        const std::string bp = "blk." + std::to_string(l) + ".";
        Olmo2Block& blk = blocks_.emplace_back();
        blk.attn.wq = b.matrix(bp + "attn_q.weight", hp.n_embd, q_len);
        blk.attn.wk = b.matrix(bp + "attn_k.weight", hp.n_embd, k_len);
        blk.attn.wv = b.matrix(bp + "attn_v.weight", hp.n_embd, int64_t(hp.n_head_kv) * hp.head_dim_v);
        blk.attn.wo = b.matrix(bp + "attn_output.weight", int64_t(hp.n_head) * hp.head_dim_v, hp.n_embd);
        blk.attn.q_norm = b.vector(bp + "attn_q_norm.weight", q_len);
        blk.attn.k_norm = b.vector(bp + "attn_k_norm.weight", k_len);
        blk.post_attention_norm = b.vector(bp + "post_attention_norm.weight", hp.n_embd);
        blk.ffn.gate = b.matrix(bp + "ffn_gate.weight", hp.n_embd, hp.n_ff);
        blk.ffn.up = b.matrix(bp + "ffn_up.weight", hp.n_embd, hp.n_ff);
        blk.ffn.down = b.matrix(bp + "ffn_down.weight", hp.n_ff, hp.n_embd);
        blk.post_ffw_norm = b.vector(bp + "post_ffw_norm.weight", hp.n_embd);
        blk.config = sliding[l] ? &sliding_ : &global_;
    }
}

std::vector<LayerStateSpec> Olmo2Model::state_layers() const {
    std::vector<LayerStateSpec> layers;
    for (const Olmo2Block& blk : blocks_) {
        layers.push_back(LayerStateSpec::key_value(hparams_.n_head_kv, hparams_.head_dim_k, hparams_.head_dim_v,
                                                   blk.config->window));
    }
    return layers;
}

void Olmo2Model::forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                         OutputKind kind) {
    ForwardPass pass(batch, state, pool);
    const int64_t d = hparams_.n_embd;
    const float eps = hparams_.norm_eps;
    int64_t rows = pass.n_tokens();
    std::vector<float> x(size_t(rows * d)), y(x.size());
    get_rows(ends_.token_embd, pass.tokens().data(), rows, x.data());

    for (size_t l = 0; l < blocks_.size(); ++l) {
        const Olmo2Block& blk = blocks_[l];
        // h = x + RMSNorm(Attention(x)) * g_post_attn
        self_attention(pass, int(l), blk.attn, *blk.config, x.data(), y.data());
        if (l + 1 == blocks_.size()) {   // only the requested rows from here on
            keep_rows(x, d, pass.output_rows());
            keep_rows(y, d, pass.output_rows());
            rows = int64_t(pass.output_rows().size());
            if (rows == 0) return;
        }
        rms_norm(y.data(), y.data(), rows, d, blk.post_attention_norm.data(), eps);
        add_in_place(x.data(), y.data(), rows * d);
        // x = h + RMSNorm(SwiGLU(h)) * g_post_ffw
        feed_forward_swiglu(pool, blk.ffn, x.data(), rows, y.data());
        rms_norm(y.data(), y.data(), rows, d, blk.post_ffw_norm.data(), eps);
        add_in_place(x.data(), y.data(), rows * d);
    }
    decoder_output(pool, x.data(), rows, d, ends_.output_norm, eps, ends_.output, 0.0f, kind, out);
}

}  // namespace

std::unique_ptr<Model> create_olmo2_model() { return std::make_unique<Olmo2Model>(); }

}  // namespace mmojo
