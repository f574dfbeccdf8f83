// BERT (Devlin et al. 2019) as a sentence-embedding encoder (BGE, MiniLM, ...): post-norm
// blocks with LayerNorm (weight and bias), GELU feed-forward and bidirectional attention.
//
//   x_0 = LayerNorm(E[token] + T[0] + P[pos])            (token type 0 for every token)
//   h_l = LayerNorm(x_l + W_o Attention(W_q x_l + b_q, W_k x_l + b_k, W_v x_l + b_v) + b_o)
//   x_{l+1} = LayerNorm(h_l + W_down gelu(W_up h_l + b_up) + b_down)
//
// Attention sees every position of the sequence (attention.causal false), with no RoPE.
// forward() writes each token's x_L (n_embd floats); pooling (pooling_type: mean, CLS,
// last) and normalization are left to the caller, as for llama.cpp's embeddings.
//
// GGUF tensors: token_embd, token_types, position_embd, token_embd_norm.{weight,bias},
// blk.N.{attn_q, attn_k, attn_v, attn_output, ffn_up, ffn_down}.{weight,bias},
// blk.N.{attn_output_norm, layer_output_norm}.{weight,bias}.
#include <algorithm>
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

struct LayerNormWeights {
    std::vector<float> weight, bias;   // [n_embd] each
};

struct BertBlock {
    AttentionWeights attn;             // with all four biases
    LayerNormWeights attn_output_norm;
    FeedForwardWeights ffn;            // up, down with biases
    LayerNormWeights layer_output_norm;
};

class BertModel final : public Model {
public:
    void forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                 OutputKind kind) override;

protected:
    void load_weights(TensorBinder& binder) override;

private:
    LayerNormWeights bind_norm(TensorBinder& b, const std::string& name) const {
        return {b.vector(name + ".weight", hparams_.n_embd), b.vector(name + ".bias", hparams_.n_embd)};
    }
    void norm(const float* x, float* y, int64_t rows, const LayerNormWeights& w) const {
        layer_norm(x, y, rows, hparams_.n_embd, w.weight.data(), w.bias.data(), hparams_.norm_eps);
    }

    Matrix token_embd_;                // [n_vocab rows of n_embd]
    std::vector<float> token_type_0_;  // row 0 of token_types [n_embd]
    Matrix position_embd_;             // [n_ctx_train rows of n_embd]
    LayerNormWeights token_embd_norm_;
    std::vector<BertBlock> blocks_;
    AttentionConfig attention_;
};

void BertModel::load_weights(TensorBinder& b) {
    ModelHparams& hp = hparams_;
    read_common_hparams(*gguf_, hp);
    hp.causal = gguf_->get_bool_or(hp.arch + ".attention.causal", false);
    hp.pooling = Pooling(int32_t(gguf_->get_u32_or(hp.arch + ".pooling_type", 1)));
    if (hp.pooling != Pooling::kNone && hp.pooling != Pooling::kMean &&
        hp.pooling != Pooling::kCls && hp.pooling != Pooling::kLast) {
        throw std::runtime_error(gguf_->name() + ": " + hp.arch + ".pooling_type " +
                                 std::to_string(int32_t(hp.pooling)) + " is not supported");
    }
    const int64_t d = hp.n_embd;
    token_embd_ = b.matrix("token_embd.weight", d, hp.n_vocab);
    const uint32_t n_types = gguf_->get_u32_or("tokenizer.ggml.token_type_count", 2);
    const Matrix token_types = b.matrix("token_types.weight", d, n_types);
    token_type_0_.resize(size_t(d));
    const int32_t type_0 = 0;
    get_rows(token_types, &type_0, 1, token_type_0_.data());
    position_embd_ = b.matrix("position_embd.weight", d, hp.n_ctx_train);
    token_embd_norm_ = bind_norm(b, "token_embd_norm");
    blocks_.resize(hp.n_layer);
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        BertBlock& blk = blocks_[l];
        blk.attn = bind_attention(b, p, hp);
        blk.attn_output_norm = bind_norm(b, p + "attn_output_norm");
        blk.ffn.up = b.matrix(p + "ffn_up.weight", d, hp.n_ff);
        blk.ffn.b_up = b.optional_vector(p + "ffn_up.bias", hp.n_ff);
        blk.ffn.down = b.matrix(p + "ffn_down.weight", hp.n_ff, d);
        blk.ffn.b_down = b.optional_vector(p + "ffn_down.bias", d);
        blk.layer_output_norm = bind_norm(b, p + "layer_output_norm");
    }
    attention_ = attention_config(hp, RopeLayout::kNeox);
    attention_.use_rope = false;
}

void BertModel::forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                        OutputKind /*kind: encoders always give hidden states*/) {
    ForwardPass pass(batch, state, pool);
    const int64_t d = hparams_.n_embd;
    const int64_t rows = pass.n_tokens();
    std::vector<float> x(size_t(rows * d)), y(x.size()), p(x.size());

    // x = LayerNorm(E[token] + T[0] + P[pos])
    std::vector<int32_t> positions(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
        positions[size_t(r)] = pass.pos(r);
        if (uint32_t(pass.pos(r)) >= hparams_.n_ctx_train) {
            throw std::runtime_error("bert: position " + std::to_string(pass.pos(r)) +
                                     " is beyond the model's " + std::to_string(hparams_.n_ctx_train) +
                                     " position embeddings");
        }
    }
    get_rows(token_embd_, pass.tokens().data(), rows, x.data());
    get_rows(position_embd_, positions.data(), rows, p.data());
    add_bias(x.data(), rows, d, token_type_0_);
    add_in_place(x.data(), p.data(), rows * d);
    norm(x.data(), x.data(), rows, token_embd_norm_);

    for (size_t l = 0; l < blocks_.size(); ++l) {
        const BertBlock& blk = blocks_[l];
        // h = LayerNorm(x + Attention(x))
        self_attention(pass, int(l), blk.attn, attention_, x.data(), y.data());
        add_in_place(x.data(), y.data(), rows * d);
        norm(x.data(), x.data(), rows, blk.attn_output_norm);
        // x = LayerNorm(h + FFN(h))
        feed_forward_gelu(pool, blk.ffn, x.data(), rows, y.data());
        add_in_place(x.data(), y.data(), rows * d);
        norm(x.data(), x.data(), rows, blk.layer_output_norm);
    }
    const std::vector<int64_t>& wanted = pass.output_rows();
    for (size_t i = 0; i < wanted.size(); ++i) {
        std::copy(x.begin() + wanted[i] * d, x.begin() + (wanted[i] + 1) * d, out + int64_t(i) * d);
    }
}

}  // namespace

std::unique_ptr<Model> create_bert_model() { return std::make_unique<BertModel>(); }

}  // namespace mmojo
