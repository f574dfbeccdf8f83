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
#include "ops/embedding.h"
#include "ops/norm.h"
#include "runtime/context.h"

namespace mmojo {

namespace {

struct LlamaBlock {
    std::vector<float> attn_norm;   // [n_embd]
    AttentionWeights attn;
    std::vector<float> ffn_norm;    // [n_embd]
    FeedForwardWeights ffn;
};

class LlamaModel final : public Model {
public:
    void forward(const Batch& batch, KvCache& cache, ThreadPool& pool, float* out,
                 OutputKind kind) override;

protected:
    void load_weights(TensorBinder& binder) override;

private:
    Matrix token_embd_;              // [n_vocab rows of n_embd]
    std::vector<float> output_norm_; // [n_embd]
    Matrix output_;                  // [n_vocab rows of n_embd], or token_embd_ when tied
    std::vector<float> rope_freqs_;  // [n_rot / 2] frequency divisors, or empty
    std::vector<LlamaBlock> blocks_;
    AttentionConfig attention_;
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
    const int64_t n_embd = hp.n_embd;
    if (hp.n_vocab == 0) {
        const GgufTensorInfo* embd = gguf_->find_tensor("token_embd.weight");
        if (embd && embd->dims.size() == 2) hp.n_vocab = uint32_t(embd->dims[1]);
    }
    if (hp.n_ff == 0) {
        const GgufTensorInfo* up = gguf_->find_tensor("blk.0.ffn_up.weight");
        if (up && up->dims.size() == 2) hp.n_ff = uint32_t(up->dims[1]);
    }

    token_embd_ = b.matrix("token_embd.weight", n_embd, hp.n_vocab);
    output_norm_ = b.vector("output_norm.weight", n_embd);
    output_ = b.optional_matrix("output.weight", n_embd, hp.n_vocab);
    if (output_.empty()) output_ = token_embd_;
    rope_freqs_ = b.optional_vector("rope_freqs.weight", hp.n_rot / 2);

    blocks_.resize(hp.n_layer);
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        LlamaBlock& blk = blocks_[l];
        blk.attn_norm = b.vector(p + "attn_norm.weight", n_embd);
        blk.attn = bind_attention(b, p, hp);   // attn_{q,k,v,output} (+ optional biases)
        blk.ffn_norm = b.vector(p + "ffn_norm.weight", n_embd);
        blk.ffn.gate = b.matrix(p + "ffn_gate.weight", n_embd, hp.n_ff);
        blk.ffn.up = b.matrix(p + "ffn_up.weight", n_embd, hp.n_ff);
        blk.ffn.down = b.matrix(p + "ffn_down.weight", hp.n_ff, n_embd);
    }

    attention_ = attention_config(hp, RopeLayout::kNormal);
    const float scale = gguf_->get_f32_or(hp.arch + ".attention.scale", 0.0f);
    if (scale != 0.0f) attention_.scale = scale;
    attention_.rope.freq_factors = rope_freqs_.empty() ? nullptr : rope_freqs_.data();
}

void LlamaModel::forward(const Batch& batch, KvCache& cache, ThreadPool& pool, float* out,
                         OutputKind kind) {
    ForwardPass pass(batch, cache, pool);
    const int64_t d = hparams_.n_embd;
    const float eps = hparams_.norm_eps;
    int64_t rows = pass.n_tokens();

    std::vector<float> x(size_t(rows * d));    // the residual stream
    std::vector<float> n(size_t(rows * d));    // its normalized copy
    std::vector<float> y(size_t(rows * d));    // a block's output
    get_rows(token_embd_, pass.tokens().data(), rows, x.data());

    for (size_t l = 0; l < blocks_.size(); ++l) {
        const LlamaBlock& blk = blocks_[l];

        // h = x + Attention(RMSNorm(x) * g_attn)
        rms_norm(x.data(), n.data(), rows, d, blk.attn_norm.data(), eps);
        self_attention(pass, int(l), blk.attn, attention_, n.data(), y.data());
        if (l + 1 == blocks_.size()) {
            // Past the last attention only the requested rows matter.
            keep_rows(x, d, pass.output_rows());
            keep_rows(y, d, pass.output_rows());
            rows = int64_t(pass.output_rows().size());
            if (rows == 0) return;
        }
        add_in_place(x.data(), y.data(), rows * d);

        // x = h + FFN(RMSNorm(h) * g_ffn)
        rms_norm(x.data(), n.data(), rows, d, blk.ffn_norm.data(), eps);
        feed_forward_swiglu(pool, blk.ffn, n.data(), rows, y.data());
        add_in_place(x.data(), y.data(), rows * d);
    }

    // logits = W_out (RMSNorm(x) * g_out); embeddings stop before W_out.
    decoder_output(pool, x.data(), rows, d, output_norm_, eps, output_, 0.0f, kind, out);
}

}  // namespace

std::unique_ptr<Model> create_llama_model() { return std::make_unique<LlamaModel>(); }

}  // namespace mmojo
