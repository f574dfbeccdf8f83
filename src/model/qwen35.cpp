// Qwen 3.5 / 3.6 (Qwen team 2026; the Qwen3-Next design): a hybrid decoder in which three of
// every four blocks (full_attention_interval = 4; or attention.recurrent_layers) replace
// attention by a Gated DeltaNet linear-attention layer with a fixed-size state, and the
// others use gated full attention:
//
//   h  = x + Mix(RMSNorm(x) * g_attn)
//        Mix = GatedDeltaNet (recurrent_blocks.h): causal conv1d over [q | k | v], SiLU,
//              L2-normalized q and k, the gated delta rule, RMSNorm(o) * w * silu(z), W_out
//        Mix = gated attention: [q_h | gate_h] = (W_q n)_h, QK-norm, interleaved M-RoPE
//              over rope.dimension_count dims, softmax attention, W_o (attn * sigmoid(gate))
//   x' = h + FFN(RMSNorm(h) * g_post),  FFN = SwiGLU (qwen35) or, in qwen35moe, the
//        softmax top-k mixture of experts plus a shared expert scaled by
//        sigmoid(w_gate_shexp . m)
//
// Text positions are the same in M-RoPE's three sections, so it is NEOX RoPE except for
// pairs that fall in no section (rotated by position 0, i.e. not at all).
// GGUF keys: <arch>.ssm.{conv_kernel, inner_size, state_size (head size d), time_step_rank
// (value heads), group_count (key heads)}, full_attention_interval, rope.dimension_sections;
// trailing nextn_predict_layers blocks (multi-token prediction) are not run.
// GGUF tensors: blk.N.{attn_norm, post_attention_norm, ffn_*}; attention blocks attn_{q,k,v,
// output,q_norm,k_norm}; DeltaNet blocks attn_qkv, attn_gate (z), ssm_conv1d [K, channels],
// ssm_dt.bias, ssm_a, ssm_beta, ssm_alpha, ssm_norm, ssm_out.
#include <cmath>
#include <string>
#include <vector>

#include "model/architecture.h"
#include "model/hparams.h"
#include "model/moe_decoder.h"
#include "model/recurrent_blocks.h"
#include "model/tensor_binder.h"
#include "ops/embedding.h"
#include "ops/norm.h"

namespace mmojo {

namespace {

struct Qwen35Block {
    bool recurrent = false;
    std::vector<float> attn_norm, post_norm;
    GatedDeltaNetWeights delta;
    AttentionWeights attn;
    FeedForwardWeights ffn;      // dense, or the shared expert of a MoE block
    MoeWeights moe;
    std::vector<float> shared_gate;   // [n_embd] (qwen35moe)
};

[[noreturn]] void bad_key(const std::string& key, const std::string& why) {
    throw std::runtime_error("model key '" + key + "': " + why);
}

class Qwen35Model final : public Model {
public:
    explicit Qwen35Model(bool moe) : moe_(moe) {}

    std::vector<LayerStateSpec> state_layers() const override {
        std::vector<LayerStateSpec> layers;
        for (const Qwen35Block& blk : blocks_) {
            layers.push_back(blk.recurrent ? LayerStateSpec::recurrent(delta_.state_floats())
                                           : LayerStateSpec::key_value(hparams_.n_head_kv, hparams_.head_dim_k,
                                                                       hparams_.head_dim_v));
        }
        return layers;
    }

    void forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                 OutputKind kind) override {
        ForwardPass pass(batch, state, pool);
        const int64_t d = hparams_.n_embd;
        const float eps = hparams_.norm_eps;
        int64_t rows = pass.n_tokens();
        std::vector<float> x(size_t(rows * d)), n(x.size()), y(x.size()), shared(x.size());
        get_rows(ends_.token_embd, pass.tokens().data(), rows, x.data());
        for (size_t l = 0; l < blocks_.size(); ++l) {
            const Qwen35Block& blk = blocks_[l];
            rms_norm(x.data(), n.data(), rows, d, blk.attn_norm.data(), eps);
            if (blk.recurrent) {
                gated_delta_net_block(pass, int(l), blk.delta, delta_, n.data(), y.data());
            } else {
                gated_attention_block(pass, int(l), blk.attn, attention_, n.data(), y.data());
            }
            if (l + 1 == blocks_.size()) {   // past the last mixer only the requested rows matter
                keep_rows(x, d, pass.output_rows());
                keep_rows(y, d, pass.output_rows());
                rows = int64_t(pass.output_rows().size());
                if (rows == 0) return;
            }
            add_in_place(x.data(), y.data(), rows * d);
            rms_norm(x.data(), n.data(), rows, d, blk.post_norm.data(), eps);
            if (!moe_) {
                feed_forward_swiglu(pool, blk.ffn, n.data(), rows, y.data());
            } else {
                moe_feed_forward(pool, blk.moe, moe_hp_.config, n.data(), rows, y.data());
                feed_forward_swiglu(pool, blk.ffn, n.data(), rows, shared.data());
                // The shared expert's output times sigmoid(w . m), one gate per row.
                for (int64_t r = 0; r < rows; ++r) {
                    const float* m = n.data() + r * d;
                    float s = 0.0f;
                    for (int64_t i = 0; i < d; ++i) s += blk.shared_gate[size_t(i)] * m[i];
                    const float gate = 1.0f / (1.0f + std::exp(-s));
                    float* sh = shared.data() + r * d;
                    for (int64_t i = 0; i < d; ++i) sh[i] *= gate;
                }
                add_in_place(y.data(), shared.data(), rows * d);
            }
            add_in_place(x.data(), y.data(), rows * d);
        }
        decoder_output(pool, x.data(), rows, d, ends_.output_norm, eps, ends_.output, 0.0f, kind, out);
    }

protected:
    void load_weights(TensorBinder& b) override {
        ModelHparams& hp = hparams_;
        read_common_hparams(*gguf_, hp);
        const std::string p = hp.arch + ".";
        const uint32_t n_nextn = gguf_->get_u32_or(p + "nextn_predict_layers", 0);
        if (n_nextn >= hp.n_layer) bad_key(p + "nextn_predict_layers", "leaves no trunk blocks");
        const uint32_t n_trunk = hp.n_layer - n_nextn;

        // The Gated DeltaNet sizes.
        DeltaNetShape& s = delta_.shape;
        s.head_dim = read_uniform_u32(*gguf_, p + "ssm.state_size", -1);
        s.n_v_heads = read_uniform_u32(*gguf_, p + "ssm.time_step_rank", -1);
        s.n_k_heads = read_uniform_u32(*gguf_, p + "ssm.group_count", -1);
        delta_.conv_width = read_uniform_u32(*gguf_, p + "ssm.conv_kernel", -1);
        const uint32_t d_inner = read_uniform_u32(*gguf_, p + "ssm.inner_size", -1);
        if (s.head_dim == 0 || s.n_k_heads == 0 || s.n_v_heads % s.n_k_heads != 0) {
            bad_key(p + "ssm.time_step_rank", std::to_string(s.n_v_heads) + " value heads are not a multiple of " +
                                                   std::to_string(s.n_k_heads) + " key heads");
        }
        if (int64_t(d_inner) != s.n_v_heads * s.head_dim) {
            bad_key(p + "ssm.inner_size", std::to_string(d_inner) + " is not value heads x state_size (" +
                                               std::to_string(s.n_v_heads * s.head_dim) + ")");
        }
        if (delta_.conv_width < 1) bad_key(p + "ssm.conv_kernel", "must be positive");
        delta_.norm_eps = hp.norm_eps;

        // Which blocks are recurrent.
        std::vector<bool> recurrent(n_trunk);
        if (gguf_->has(p + "attention.recurrent_layers")) {
            const std::vector<int64_t> flags = gguf_->get_int_array(p + "attention.recurrent_layers");
            if (flags.size() < n_trunk) bad_key(p + "attention.recurrent_layers", "fewer values than blocks");
            for (uint32_t l = 0; l < n_trunk; ++l) recurrent[l] = flags[l] != 0;
        } else {
            const uint32_t interval = gguf_->get_u32_or(p + "full_attention_interval", 4);
            if (interval == 0) bad_key(p + "full_attention_interval", "must be positive");
            for (uint32_t l = 0; l < n_trunk; ++l) recurrent[l] = (l + 1) % interval != 0;
        }

        // Gated attention with interleaved M-RoPE (see the file comment).
        attention_ = attention_config(hp, RopeLayout::kNeox);
        const float scale = gguf_->get_f32_or(p + "attention.scale", 0.0f);
        if (scale != 0.0f) attention_.scale = scale;
        if (gguf_->has(p + "rope.dimension_sections")) {
            const std::vector<int64_t> sec = gguf_->get_int_array(p + "rope.dimension_sections");
            if (sec.size() < 3) bad_key(p + "rope.dimension_sections", "needs at least 3 values");
            const int64_t sec3 = sec.size() > 3 ? sec[3] : 0;
            const int64_t total = sec[0] + sec[1] + sec[2] + sec3;
            if (total <= 0 || total > hp.n_rot) bad_key(p + "rope.dimension_sections", "sections do not fit the rotated dims");
            bool any_unrotated = false;
            unrotated_.assign(hp.n_rot / 2, 1.0f);
            for (int64_t i = 0; i < int64_t(hp.n_rot / 2); ++i) {
                const int64_t sector = i % total;
                const bool in_section = (sector % 3 == 0 && sector < 3 * sec[0]) ||
                                        (sector % 3 == 1 && sector < 3 * sec[1]) ||
                                        (sector % 3 == 2 && sector < 3 * sec[2]);
                if (!in_section) {   // the 4th section: position 0 for text, angle 0
                    unrotated_[size_t(i)] = INFINITY;
                    any_unrotated = true;
                }
            }
            if (any_unrotated) attention_.rope.freq_factors = unrotated_.data();
        }

        if (moe_) {
            moe_hp_ = read_moe_hparams(*gguf_, hp, MoeGating::kSoftmax, true);
            moe_hp_.config.gating = MoeGating::kSoftmax;   // llama.cpp's qwen35moe graph
            moe_hp_.config.normalize = true;
            if (moe_hp_.config.scale == 0.0f) moe_hp_.config.scale = 1.0f;
        }
        const uint32_t n_ff_shexp = gguf_->get_u32_or(p + "expert_shared_feed_forward_length", hp.n_ff);

        const int64_t d = hp.n_embd;
        ends_ = bind_decoder_ends(b, hp);
        const int64_t hd = hp.head_dim_k;
        for (uint32_t l = 0; l < n_trunk; ++l) {
            const std::string pre = "blk." + std::to_string(l) + ".";
            Qwen35Block& blk = blocks_.emplace_back();
            blk.recurrent = recurrent[l];
            blk.attn_norm = b.vector(pre + "attn_norm.weight", d);
            blk.post_norm = b.vector(pre + "post_attention_norm.weight", d);
            if (blk.recurrent) {
                GatedDeltaNetWeights& w = blk.delta;
                const int64_t v_len = s.n_v_heads * s.head_dim;
                w.qkv = b.matrix(pre + "attn_qkv.weight", d, delta_.conv_channels());
                w.z = b.matrix(pre + "attn_gate.weight", d, v_len);
                w.beta = b.matrix(pre + "ssm_beta.weight", d, s.n_v_heads);
                w.alpha = b.matrix(pre + "ssm_alpha.weight", d, s.n_v_heads);
                w.out = b.matrix(pre + "ssm_out.weight", v_len, d);
                w.kernel = b.expert_vectors(pre + "ssm_conv1d.weight", delta_.conv_width, delta_.conv_channels());
                w.dt_bias = b.vector(pre + "ssm_dt.bias", s.n_v_heads);
                w.a = b.vector(pre + "ssm_a", s.n_v_heads);
                w.norm = b.vector(pre + "ssm_norm.weight", s.head_dim);
            } else {
                AttentionWeights& w = blk.attn;
                w.wq = b.matrix(pre + "attn_q.weight", d, int64_t(hp.n_head) * hd * 2);
                w.wk = b.matrix(pre + "attn_k.weight", d, int64_t(hp.n_head_kv) * hd);
                w.wv = b.matrix(pre + "attn_v.weight", d, int64_t(hp.n_head_kv) * hp.head_dim_v);
                w.wo = b.matrix(pre + "attn_output.weight", int64_t(hp.n_head) * hp.head_dim_v, d);
                w.q_norm = b.vector(pre + "attn_q_norm.weight", hd);
                w.k_norm = b.vector(pre + "attn_k_norm.weight", hd);
            }
            if (!moe_) {
                blk.ffn.gate = b.matrix(pre + "ffn_gate.weight", d, hp.n_ff);
                blk.ffn.up = b.matrix(pre + "ffn_up.weight", d, hp.n_ff);
                blk.ffn.down = b.matrix(pre + "ffn_down.weight", hp.n_ff, d);
                continue;
            }
            if (b.has(pre + "ffn_gate_up_exps.weight")) {
                throw std::runtime_error("tensor '" + pre + "ffn_gate_up_exps.weight': fused expert gate/up "
                                         "matrices are not supported yet");
            }
            const int64_t e = moe_hp_.n_expert, ff = moe_hp_.n_ff_exp;
            blk.moe.router = b.matrix(pre + "ffn_gate_inp.weight", d, e);
            blk.moe.gate = b.experts(pre + "ffn_gate_exps.weight", d, ff, e);
            blk.moe.up = b.experts(pre + "ffn_up_exps.weight", d, ff, e);
            blk.moe.down = b.experts(pre + "ffn_down_exps.weight", ff, d, e);
            blk.shared_gate = b.vector(pre + "ffn_gate_inp_shexp.weight", d);
            blk.ffn.gate = b.matrix(pre + "ffn_gate_shexp.weight", d, n_ff_shexp);
            blk.ffn.up = b.matrix(pre + "ffn_up_shexp.weight", d, n_ff_shexp);
            blk.ffn.down = b.matrix(pre + "ffn_down_shexp.weight", n_ff_shexp, d);
        }
        hp.n_layer = n_trunk;   // the state and the pass cover the trunk only
    }

private:
    bool moe_ = false;
    MoeHparams moe_hp_;
    GatedDeltaNetConfig delta_;
    AttentionConfig attention_;
    std::vector<float> unrotated_;   // RoPE frequency divisors: 1, or infinity for no section
    DecoderEnds ends_;
    std::vector<Qwen35Block> blocks_;
};

}  // namespace

std::unique_ptr<Model> create_qwen35_model() { return std::make_unique<Qwen35Model>(false); }
std::unique_ptr<Model> create_qwen35_model_with_moe() { return std::make_unique<Qwen35Model>(true); }

}  // namespace mmojo
