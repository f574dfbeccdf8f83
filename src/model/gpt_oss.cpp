// gpt-oss (OpenAI 2025, "gpt-oss-120b & gpt-oss-20b Model Card"; GGUF architecture
// "gpt-oss"): a pre-norm MoE decoder whose
//  - attention has biases on q, k, v and the output, one learned sink logit per head in
//    the softmax's denominator, NEOX RoPE with YaRN scaling (rope.scaling.*), and
//    alternates sliding-window blocks (even blocks, attention.sliding_window) with full
//    ones; scale 1/sqrt(head_dim);
//  - feed-forward half (pre-norm blk.N.post_attention_norm) is a mixture of experts: router
//    with a bias, top-k on the raw scores, weights the softmax of the k chosen scores, and
//    experts with biases and the clamped SwiGLU (ops/moe.h, MoeActivation::kSwigluOai).
// The released files store the experts in MXFP4 (quant/mxfp4.h).
#include <stdexcept>
#include <string>
#include <vector>

#include "model/architecture.h"
#include "model/hparams.h"
#include "model/moe_decoder.h"
#include "model/tensor_binder.h"

namespace mmojo {

namespace {

class GptOssModel final : public MoeDecoderModel {
public:
    // The sliding blocks keep only their window (a ring of cells).
    std::vector<LayerStateSpec> state_layers() const override {
        std::vector<LayerStateSpec> layers;
        for (const AttentionConfig& c : attention_) {
            layers.push_back(LayerStateSpec::key_value(hparams_.n_head_kv, hparams_.head_dim_k, hparams_.head_dim_v,
                                                       c.window));
        }
        return layers;
    }

protected:
    void load_weights(TensorBinder& b) override {
        ModelHparams& hp = hparams_;
        read_common_hparams(*gguf_, hp);
        moe_ = read_moe_hparams(*gguf_, hp, MoeGating::kSoftmaxWeight, false);
        moe_.config.gating = MoeGating::kSoftmaxWeight;   // as llama.cpp's graph, whatever the keys say
        moe_.config.normalize = false;
        moe_.config.scale = 1.0f;
        moe_.config.activation = MoeActivation::kSwigluOai;
        const std::string window_key = hp.arch + ".attention.sliding_window";
        const uint32_t window = read_uniform_u32(*gguf_, window_key, -1);
        if (window == 0) throw std::runtime_error("model key '" + window_key + "': must be positive");

        ends_ = bind_decoder_ends(b, hp);
        if (!b.has("output.weight")) throw std::runtime_error("missing tensor 'output.weight' in " + gguf_->name());
        const int64_t d = hp.n_embd, e = moe_.n_expert, ff = moe_.n_ff_exp;
        sinks_.resize(hp.n_layer);
        for (uint32_t l = 0; l < hp.n_layer; ++l) {
            const std::string p = "blk." + std::to_string(l) + ".";
            MoeBlock& blk = blocks_.emplace_back();
            blk.attn_norm = b.vector(p + "attn_norm.weight", d);
            blk.attn = bind_attention(b, p, hp);
            sinks_[l] = b.vector(p + "attn_sinks.weight", hp.n_head);
            blk.ffn_norm = b.vector(p + "post_attention_norm.weight", d);
            bind_moe_ffn(b, p, hp, moe_, false, blk);
            MoeWeights& w = blk.moe;
            w.router_bias = b.vector(p + "ffn_gate_inp.bias", e);
            w.b_gate = b.expert_vectors(p + "ffn_gate_exps.bias", ff, e);
            w.b_up = b.expert_vectors(p + "ffn_up_exps.bias", ff, e);
            w.b_down = b.expert_vectors(p + "ffn_down_exps.bias", d, e);
        }

        AttentionConfig base = attention_config(hp, RopeLayout::kNeox);
        if (hp.rope_scaling == "yarn") {
            base.rope.yarn_ext_factor = 1.0f;
            rope_yarn_corr_dims(base.rope.n_dims, hp.n_ctx_orig, hp.rope_freq_base, 32.0f, 1.0f,
                                base.rope.yarn_low, base.rope.yarn_high);
        }
        base.rope.attn_factor = gguf_->get_f32_or(hp.arch + ".rope.scaling.attn_factor", 1.0f);
        for (uint32_t l = 0; l < hp.n_layer; ++l) {
            AttentionConfig& c = attention_.emplace_back(base);
            c.window = l % 2 == 0 ? int32_t(window) : 0;   // even blocks slide
            c.sinks = sinks_[l].data();
        }
    }

private:
    std::vector<std::vector<float>> sinks_;   // [n_layer][n_head]
};

}  // namespace

std::unique_ptr<Model> create_gpt_oss_model() { return std::make_unique<GptOssModel>(); }

}  // namespace mmojo
