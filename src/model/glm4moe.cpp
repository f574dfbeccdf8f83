// GLM-4.5 / GLM-4.5-Air / GLM-4.7-Flash (Zhipu AI 2025, "GLM-4.5: Agentic, Reasoning, and
// Coding (ARC) Foundation Models"), llama.cpp's "glm4moe":
//  - attention with q/k/v biases, optional per-head q/k RMSNorm, NEOX RoPE over the first
//    rope.dimension_count dimensions of each head only (partial rotary, half the head);
//  - blk.N.post_attention_norm is the pre-norm of the feed-forward half;
//  - the first leading_dense_block_count blocks have a dense SwiGLU; the others a mixture
//    of experts with a sigmoid router, a selection bias exp_probs_b that only chooses,
//    the chosen weights renormalised (expert_weights_norm) and multiplied by
//    expert_weights_scale, optional expert groups, plus a shared expert added to them;
//  - nextn_predict_layers trailing blocks are multi-token-prediction (MTP) heads for
//    speculative decoding. The trunk does not run them, so they are not bound (and need
//    not be present: files without them load too).
#include <stdexcept>
#include <string>
#include <vector>

#include "model/architecture.h"
#include "model/hparams.h"
#include "model/moe_decoder.h"
#include "model/tensor_binder.h"

namespace mmojo {

namespace {

class Glm4MoeModel final : public MoeDecoderModel {
protected:
    void load_weights(TensorBinder& b) override {
        ModelHparams& hp = hparams_;
        read_common_hparams(*gguf_, hp);
        const std::string key = hp.arch + ".nextn_predict_layers";
        const uint32_t n_mtp = read_uniform_u32(*gguf_, key, 0);
        if (n_mtp >= hp.n_layer) {
            throw std::runtime_error("model key '" + key + "': " + std::to_string(n_mtp) +
                                     " prediction blocks leave no trunk of the " +
                                     std::to_string(hp.n_layer) + " blocks");
        }
        hp.n_layer -= n_mtp;   // the trunk; the KV cache holds only its blocks
        moe_ = read_moe_hparams(*gguf_, hp, MoeGating::kSigmoid, false);
        ends_ = bind_decoder_ends(b, hp);
        for (uint32_t l = 0; l < hp.n_layer; ++l) {
            const std::string p = "blk." + std::to_string(l) + ".";
            MoeBlock& blk = blocks_.emplace_back();
            blk.attn_norm = b.vector(p + "attn_norm.weight", hp.n_embd);
            blk.attn = bind_attention(b, p, hp);
            blk.ffn_norm = b.vector(p + "post_attention_norm.weight", hp.n_embd);
            bind_moe_ffn(b, p, hp, moe_, l < moe_.n_dense_lead, blk);
        }
        attention_.assign(hp.n_layer, attention_config(hp, RopeLayout::kNeox));
    }
};

}  // namespace

std::unique_ptr<Model> create_glm4moe_model() { return std::make_unique<Glm4MoeModel>(); }

}  // namespace mmojo
