// The MoE decoder (see moe_decoder.h). Key names and defaults follow llama.cpp's loader
// (src/llama-model.cpp, src/models/qwen3moe.cpp, glm4-moe.cpp).
#include "model/moe_decoder.h"

#include <stdexcept>

#include "gguf/gguf.h"
#include "model/hparams.h"
#include "model/model.h"
#include "model/tensor_binder.h"
#include "ops/embedding.h"
#include "ops/norm.h"

namespace mmojo {

namespace {

[[noreturn]] void bad_value(const std::string& key, const std::string& why) {
    throw std::runtime_error("model key '" + key + "': " + why);
}

}  // namespace

MoeHparams read_moe_hparams(const GgufFile& file, const ModelHparams& hp, MoeGating default_gating,
                            bool default_normalize) {
    const std::string p = hp.arch + ".";
    MoeHparams mh;
    mh.n_expert = read_uniform_u32(file, p + "expert_count", -1);
    mh.n_expert_used = read_uniform_u32(file, p + "expert_used_count", -1);
    if (mh.n_expert == 0) bad_value(p + "expert_count", "must be positive");
    if (mh.n_expert_used == 0 || mh.n_expert_used > mh.n_expert) {
        bad_value(p + "expert_used_count", std::to_string(mh.n_expert_used) + " must be in 1.." +
                                               std::to_string(mh.n_expert));
    }
    mh.n_ff_exp = read_uniform_u32(file, p + "expert_feed_forward_length", hp.n_ff / mh.n_expert_used);
    if (mh.n_ff_exp == 0) bad_value(p + "expert_feed_forward_length", "must be positive");
    mh.n_expert_shared = read_uniform_u32(file, p + "expert_shared_count", 0);
    mh.n_dense_lead = read_uniform_u32(file, p + "leading_dense_block_count", 0);
    if (mh.n_dense_lead > hp.n_layer) {
        bad_value(p + "leading_dense_block_count", "more than the " + std::to_string(hp.n_layer) + " blocks");
    }

    MoeConfig& c = mh.config;
    c.n_expert = mh.n_expert;
    c.n_expert_used = mh.n_expert_used;
    const uint32_t gating = file.get_u32_or(p + "expert_gating_func", 0);
    if (gating == 0) {
        c.gating = default_gating;
    } else if (gating >= 1 && gating <= 3) {
        c.gating = MoeGating(gating);
    } else {
        bad_value(p + "expert_gating_func",
                  std::to_string(gating) + " is not 1 (softmax), 2 (sigmoid) or 3 (softmax of the chosen)");
    }
    c.normalize = file.get_bool_or(p + "expert_weights_norm", default_normalize);
    c.scale = file.get_f32_or(p + "expert_weights_scale", 0.0f);
    if (!(c.scale >= 0.0f)) bad_value(p + "expert_weights_scale", "must not be negative");
    c.n_groups = read_uniform_u32(file, p + "expert_group_count", 0);
    c.n_groups_used = read_uniform_u32(file, p + "expert_group_used_count", 0);
    if (c.n_groups > 1) {
        if (mh.n_expert % c.n_groups != 0) {
            bad_value(p + "expert_group_count", std::to_string(c.n_groups) + " groups do not divide " +
                                                    std::to_string(mh.n_expert) + " experts");
        }
        if (c.n_groups_used == 0 || c.n_groups_used > c.n_groups ||
            c.n_groups_used * (mh.n_expert / c.n_groups) < mh.n_expert_used) {
            bad_value(p + "expert_group_used_count", std::to_string(c.n_groups_used) +
                                                         " groups cannot hold the chosen experts");
        }
    } else {
        c.n_groups = 1;
    }
    return mh;
}

void bind_moe_ffn(TensorBinder& b, const std::string& prefix, const ModelHparams& hp,
                  const MoeHparams& mh, bool dense, MoeBlock& blk) {
    const int64_t d = hp.n_embd;
    if (dense) {
        blk.dense.gate = b.matrix(prefix + "ffn_gate.weight", d, hp.n_ff);
        blk.dense.up = b.matrix(prefix + "ffn_up.weight", d, hp.n_ff);
        blk.dense.down = b.matrix(prefix + "ffn_down.weight", hp.n_ff, d);
        return;
    }
    const int64_t e = mh.n_expert, ff = mh.n_ff_exp;
    MoeWeights& w = blk.moe;
    w.router = b.matrix(prefix + "ffn_gate_inp.weight", d, e);
    w.selection_bias = b.optional_vector(prefix + "exp_probs_b.bias", e);
    w.gate = b.experts(prefix + "ffn_gate_exps.weight", d, ff, e);
    w.up = b.experts(prefix + "ffn_up_exps.weight", d, ff, e);
    w.down = b.experts(prefix + "ffn_down_exps.weight", ff, d, e);
    if (mh.n_expert_shared > 0) {
        const int64_t ff_shared = ff * mh.n_expert_shared;
        blk.shared.gate = b.matrix(prefix + "ffn_gate_shexp.weight", d, ff_shared);
        blk.shared.up = b.matrix(prefix + "ffn_up_shexp.weight", d, ff_shared);
        blk.shared.down = b.matrix(prefix + "ffn_down_shexp.weight", ff_shared, d);
    }
}

void moe_decoder_forward(ForwardPass& pass, const ModelHparams& hp, const MoeHparams& mh,
                         const DecoderEnds& ends, const std::vector<MoeBlock>& blocks,
                         const std::vector<AttentionConfig>& attention, OutputKind kind,
                         float* out) {
    ThreadPool& pool = pass.pool();
    const int64_t d = hp.n_embd;
    const float eps = hp.norm_eps;
    int64_t rows = pass.n_tokens();
    std::vector<float> x(size_t(rows * d));   // the residual stream
    std::vector<float> n(x.size());           // its normalized copy
    std::vector<float> y(x.size());           // a block's output
    std::vector<float> shared(x.size());      // the shared expert's output
    get_rows(ends.token_embd, pass.tokens().data(), rows, x.data());

    for (size_t l = 0; l < blocks.size(); ++l) {
        const MoeBlock& blk = blocks[l];
        rms_norm(x.data(), n.data(), rows, d, blk.attn_norm.data(), eps);
        self_attention(pass, int(l), blk.attn, attention[l], n.data(), y.data());
        if (l + 1 == blocks.size()) {   // past the last attention only the requested rows matter
            keep_rows(x, d, pass.output_rows());
            keep_rows(y, d, pass.output_rows());
            rows = int64_t(pass.output_rows().size());
            if (rows == 0) return;
        }
        add_in_place(x.data(), y.data(), rows * d);
        rms_norm(x.data(), n.data(), rows, d, blk.ffn_norm.data(), eps);
        if (l < mh.n_dense_lead) {
            feed_forward_swiglu(pool, blk.dense, n.data(), rows, y.data());
        } else {
            moe_feed_forward(pool, blk.moe, mh.config, n.data(), rows, y.data());
            if (!blk.shared.gate.empty()) {
                feed_forward_swiglu(pool, blk.shared, n.data(), rows, shared.data());
                add_in_place(y.data(), shared.data(), rows * d);
            }
        }
        add_in_place(x.data(), y.data(), rows * d);
    }
    decoder_output(pool, x.data(), rows, d, ends.output_norm, eps, ends.output, 0.0f, kind, out);
}

}  // namespace mmojo
