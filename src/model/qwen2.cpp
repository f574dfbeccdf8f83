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
#include "ops/embedding.h"
#include "ops/norm.h"

namespace mmojo {

namespace {

struct Qwen2Block {
    std::vector<float> attn_norm;   // [n_embd]
    AttentionWeights attn;          // with bq, bk, bv
    std::vector<float> ffn_norm;    // [n_embd]
    FeedForwardWeights ffn;
};

class Qwen2Model final : public Model {
public:
    explicit Qwen2Model(bool qk_norm) : qk_norm_(qk_norm) {}
    void forward(const Batch& batch, KvCache& cache, ThreadPool& pool, float* out,
                 OutputKind kind) override;

protected:
    void load_weights(TensorBinder& binder) override;

private:
    Matrix token_embd_;               // [n_vocab rows of n_embd]
    std::vector<float> output_norm_;  // [n_embd]
    Matrix output_;                   // [n_vocab rows of n_embd], or token_embd_ when tied
    std::vector<Qwen2Block> blocks_;
    AttentionConfig attention_;
    bool qk_norm_;                    // qwen3: attn_q_norm / attn_k_norm are required
};

void Qwen2Model::load_weights(TensorBinder& b) {
    ModelHparams& hp = hparams_;
    read_common_hparams(*gguf_, hp);
    token_embd_ = b.matrix("token_embd.weight", hp.n_embd, hp.n_vocab);
    output_norm_ = b.vector("output_norm.weight", hp.n_embd);
    output_ = b.optional_matrix("output.weight", hp.n_embd, hp.n_vocab);
    if (output_.empty()) output_ = token_embd_;
    blocks_.resize(hp.n_layer);
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        Qwen2Block& blk = blocks_[l];
        blk.attn_norm = b.vector(p + "attn_norm.weight", hp.n_embd);
        blk.attn = bind_attention(b, p, hp);
        if (qk_norm_) {
            blk.attn.q_norm = b.vector(p + "attn_q_norm.weight", hp.head_dim_k);
            blk.attn.k_norm = b.vector(p + "attn_k_norm.weight", hp.head_dim_k);
        }
        blk.ffn_norm = b.vector(p + "ffn_norm.weight", hp.n_embd);
        blk.ffn.gate = b.matrix(p + "ffn_gate.weight", hp.n_embd, hp.n_ff);
        blk.ffn.up = b.matrix(p + "ffn_up.weight", hp.n_embd, hp.n_ff);
        blk.ffn.down = b.matrix(p + "ffn_down.weight", hp.n_ff, hp.n_embd);
    }
    attention_ = attention_config(hp, RopeLayout::kNeox);
}

void Qwen2Model::forward(const Batch& batch, KvCache& cache, ThreadPool& pool, float* out,
                         OutputKind kind) {
    ForwardPass pass(batch, cache, pool);
    const int64_t d = hparams_.n_embd;
    const float eps = hparams_.norm_eps;
    int64_t rows = pass.n_tokens();
    std::vector<float> x(size_t(rows * d)), n(x.size()), y(x.size());
    get_rows(token_embd_, pass.tokens().data(), rows, x.data());

    for (size_t l = 0; l < blocks_.size(); ++l) {
        const Qwen2Block& blk = blocks_[l];
        rms_norm(x.data(), n.data(), rows, d, blk.attn_norm.data(), eps);
        self_attention(pass, int(l), blk.attn, attention_, n.data(), y.data());
        if (l + 1 == blocks_.size()) {   // only the requested rows from here on
            keep_rows(x, d, pass.output_rows());
            keep_rows(y, d, pass.output_rows());
            rows = int64_t(pass.output_rows().size());
            if (rows == 0) return;
        }
        add_in_place(x.data(), y.data(), rows * d);
        rms_norm(x.data(), n.data(), rows, d, blk.ffn_norm.data(), eps);
        feed_forward_swiglu(pool, blk.ffn, n.data(), rows, y.data());
        add_in_place(x.data(), y.data(), rows * d);
    }
    decoder_output(pool, x.data(), rows, d, output_norm_, eps, output_, 0.0f, kind, out);
}

}  // namespace

std::unique_ptr<Model> create_qwen2_model() { return std::make_unique<Qwen2Model>(false); }

std::unique_ptr<Model> create_qwen_model_with_qk_norm() { return std::make_unique<Qwen2Model>(true); }

}  // namespace mmojo
