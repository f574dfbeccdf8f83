// The pre-norm decoder with mixture-of-experts feed-forward blocks, shared by qwen3moe and
// glm4moe (and the MoE hyperparameter keys of llama.cpp's loader):
//
//   h = x + Attention(RMSNorm(x) * g_attn)
//   x' = h + FFN(m),  m = RMSNorm(h) * g_ffn,
//   FFN = a dense SwiGLU in the leading dense blocks, else MoE(m) (ops/moe.h), plus the
//         shared expert's SwiGLU(m) where the family has one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/blocks.h"
#include "model/model.h"
#include "ops/moe.h"

namespace mmojo {

class GgufFile;

// `<arch>.expert_*` and related keys.
struct MoeHparams {
    uint32_t n_expert = 0;             // expert_count
    uint32_t n_expert_used = 0;        // expert_used_count
    uint32_t n_ff_exp = 0;             // expert_feed_forward_length (default n_ff / n_expert_used)
    uint32_t n_expert_shared = 0;      // expert_shared_count
    uint32_t n_dense_lead = 0;         // leading_dense_block_count
    MoeConfig config;                  // gating, normalisation, scale, groups
};

// Reads the MoE keys of hp.arch. Gating defaults to `default_gating` when the file has no
// expert_gating_func, normalisation to `default_normalize` when it has no
// expert_weights_norm. Throws naming the key for a missing count or impossible value.
MoeHparams read_moe_hparams(const GgufFile& file, const ModelHparams& hp, MoeGating default_gating,
                            bool default_normalize);

struct MoeBlock {
    std::vector<float> attn_norm;   // [n_embd]
    AttentionWeights attn;
    std::vector<float> ffn_norm;    // [n_embd]
    FeedForwardWeights dense;       // leading dense blocks only
    MoeWeights moe;                 // the other blocks
    FeedForwardWeights shared;      // the shared expert, or empty
};

// Binds the feed-forward half of block `prefix`: ffn_{gate,up,down} in a dense block,
// else ffn_gate_inp, ffn_{gate,up,down}_exps, the optional exp_probs_b.bias and, when
// mh.n_expert_shared > 0, ffn_{gate,up,down}_shexp.
void bind_moe_ffn(TensorBinder& b, const std::string& prefix, const ModelHparams& hp,
                  const MoeHparams& mh, bool dense, MoeBlock& blk);

// The whole forward pass (embedding, the blocks, decoder_output); attention[l] is block l's.
void moe_decoder_forward(ForwardPass& pass, const ModelHparams& hp, const MoeHparams& mh,
                         const DecoderEnds& ends, const std::vector<MoeBlock>& blocks,
                         const std::vector<AttentionConfig>& attention, OutputKind kind,
                         float* out);

// The families on this decoder differ only in how they read their file: each implements
// load_weights and fills the members below.
class MoeDecoderModel : public Model {
public:
    void forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                 OutputKind kind) override {
        ForwardPass pass(batch, state, pool);
        moe_decoder_forward(pass, hparams_, moe_, ends_, blocks_, attention_, kind, out);
    }

protected:
    MoeHparams moe_;
    DecoderEnds ends_;
    std::vector<MoeBlock> blocks_;
    std::vector<AttentionConfig> attention_;   // block l's
};

}  // namespace mmojo
