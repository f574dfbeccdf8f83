// LFM2 (Liquid AI 2025, "LFM2 Technical Report"): a pre-norm decoder whose blocks are either
// short gated convolutions or grouped-query attention with QK-norm, each followed by a
// SwiGLU feed-forward. A block is a convolution block where attention.head_count_kv is 0
// for it (the key is an array over the blocks):
//
//   h  = x + Mix(RMSNorm(x) * g_op)
//        Mix = ShortConv: [b | c | x'] = W_in n,  W_out (c * conv_L(b * x'))   (recurrent_blocks.h)
//        Mix = Attention: q_h = RoPE(RMSNorm(q_h) g_q), k_h = RoPE(RMSNorm(k_h) g_k)  (NEOX)
//   x' = h + W_down (silu(W_gate m) * W_up m),  m = RMSNorm(h) * g_ffn
//   logits = W_out RMSNorm(x) * g_out
//
// A convolution block keeps the last L - 1 inputs b * x' per sequence (shortconv.l_cache
// = L); an attention block keeps keys and values, only the last sliding_window of them
// when the file gives one.
// GGUF tensors (llama.cpp's names): token_embd, token_embd_norm (the final norm), output
// (optional, tied), blk.N.{attn_norm, ffn_norm, ffn_gate, ffn_up, ffn_down}; attention
// blocks blk.N.{attn_q, attn_k, attn_v, attn_output, attn_q_norm, attn_k_norm}; convolution
// blocks blk.N.shortconv.{in_proj, out_proj, conv} (conv: [L, n_embd]).
#include <string>
#include <vector>

#include "model/architecture.h"
#include "model/hparams.h"
#include "model/recurrent_blocks.h"
#include "model/tensor_binder.h"
#include "ops/embedding.h"
#include "ops/norm.h"

namespace mmojo {

namespace {

struct Lfm2Block {
    bool conv = false;
    std::vector<float> op_norm;   // attn_norm: before the convolution or the attention
    ShortConvWeights short_conv;
    AttentionWeights attn;
    std::vector<float> ffn_norm;
    FeedForwardWeights ffn;
};

class Lfm2Model final : public Model {
public:
    std::vector<LayerStateSpec> state_layers() const override {
        std::vector<LayerStateSpec> layers;
        for (const Lfm2Block& blk : blocks_) {
            layers.push_back(blk.conv ? LayerStateSpec::recurrent(short_conv_state_floats(hparams_.n_embd, l_cache_))
                                      : LayerStateSpec::key_value(hparams_.n_head_kv, hparams_.head_dim_k,
                                                                  hparams_.head_dim_v, attention_.window));
        }
        return layers;
    }

    void forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                 OutputKind kind) override {
        ForwardPass pass(batch, state, pool);
        const int64_t d = hparams_.n_embd;
        const float eps = hparams_.norm_eps;
        int64_t rows = pass.n_tokens();
        std::vector<float> x(size_t(rows * d)), n(x.size()), y(x.size());
        get_rows(ends_.token_embd, pass.tokens().data(), rows, x.data());
        for (size_t l = 0; l < blocks_.size(); ++l) {
            const Lfm2Block& blk = blocks_[l];
            rms_norm(x.data(), n.data(), rows, d, blk.op_norm.data(), eps);
            if (blk.conv) {
                short_conv_block(pass, int(l), blk.short_conv, d, n.data(), y.data());
            } else {
                self_attention(pass, int(l), blk.attn, attention_, n.data(), y.data());
            }
            if (l + 1 == blocks_.size()) {   // past the last mixer only the requested rows matter
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
        decoder_output(pool, x.data(), rows, d, ends_.output_norm, eps, ends_.output, 0.0f, kind, out);
    }

protected:
    void load_weights(TensorBinder& b) override {
        ModelHparams& hp = hparams_;
        read_common_hparams(*gguf_, hp);
        const std::string p = hp.arch + ".";
        l_cache_ = read_uniform_u32(*gguf_, p + "shortconv.l_cache", -1);
        if (l_cache_ < 2) throw std::runtime_error("model key '" + p + "shortconv.l_cache' must be at least 2");
        const std::vector<uint32_t> kv_heads =
            read_per_layer_u32(*gguf_, p + "attention.head_count_kv", hp.n_layer, hp.n_head);
        attention_ = attention_config(hp, RopeLayout::kNeox);
        attention_.window = int32_t(gguf_->get_u32_or(p + "attention.sliding_window", 0));

        const int64_t d = hp.n_embd;
        ends_.token_embd = b.matrix("token_embd.weight", d, hp.n_vocab);
        ends_.output_norm = b.vector("token_embd_norm.weight", d);
        ends_.output = b.optional_matrix("output.weight", d, hp.n_vocab);
        if (ends_.output.empty()) ends_.output = ends_.token_embd;
        for (uint32_t l = 0; l < hp.n_layer; ++l) {
            const std::string pre = "blk." + std::to_string(l) + ".";
            Lfm2Block& blk = blocks_.emplace_back();
            blk.conv = kv_heads[l] == 0;
            blk.op_norm = b.vector(pre + "attn_norm.weight", d);
            if (blk.conv) {
                blk.short_conv.in_proj = b.matrix(pre + "shortconv.in_proj.weight", d, 3 * d);
                blk.short_conv.out_proj = b.matrix(pre + "shortconv.out_proj.weight", d, d);
                blk.short_conv.kernel = b.expert_vectors(pre + "shortconv.conv.weight", l_cache_, d);
                blk.short_conv.width = l_cache_;
            } else {
                blk.attn = bind_attention(b, pre, hp);
                blk.attn.q_norm = b.vector(pre + "attn_q_norm.weight", hp.head_dim_k);
                blk.attn.k_norm = b.vector(pre + "attn_k_norm.weight", hp.head_dim_k);
            }
            blk.ffn_norm = b.vector(pre + "ffn_norm.weight", d);
            blk.ffn.gate = b.matrix(pre + "ffn_gate.weight", d, hp.n_ff);
            blk.ffn.up = b.matrix(pre + "ffn_up.weight", d, hp.n_ff);
            blk.ffn.down = b.matrix(pre + "ffn_down.weight", hp.n_ff, d);
        }
    }

private:
    uint32_t l_cache_ = 0;
    DecoderEnds ends_;
    std::vector<Lfm2Block> blocks_;
    AttentionConfig attention_;
};

}  // namespace

std::unique_ptr<Model> create_lfm2_model() { return std::make_unique<Lfm2Model>(); }

}  // namespace mmojo
