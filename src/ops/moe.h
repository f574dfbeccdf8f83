// Mixture-of-experts feed-forward (Shazeer et al. 2017, "Outrageously Large Neural
// Networks"; as in Mixtral, Qwen3-MoE, DeepSeek-V3 / GLM-4.5 and gpt-oss):
//
//   s = W_router x (+ b_router)                       scores of the n_expert experts
//   p = softmax(s) or sigmoid(s)                      gating probabilities
//   chosen = top-k of (p + selection_bias)            the bias (DeepSeek-V3) only chooses;
//            within the best n_groups_used groups     experts are split into n_groups equal
//                                                     groups ranked by the sum of their two
//                                                     best biased scores (DeepSeek-V3)
//   w_j = p[chosen_j] (/ sum_j p[chosen_j]) (* scale) the weights of the k chosen experts
//   y = sum_j w_j * E_j(x),  E_e(x) = W_down,e act(W_gate,e x + b, W_up,e x + b) + b
//
// The experts' matrices are GGUF 3-D tensors [n_expert, rows, cols]: expert e is rows
// [e * rows, (e + 1) * rows) of the tensor seen as one 2-D matrix, so each expert is a
// row-slice that the register-blocked tile kernels of matmul.h read in place (mmapped).
//
// The product groups the batch's rows by expert: every chosen expert's weights go once
// through the tile kernel against all rows that chose it (prompts), and during generation
// only the chosen experts' rows are read. All experts' gate and up products go to the pool
// in one hand-off, and all down products in a second.
#pragma once

#include <cstdint>
#include <vector>

#include "ops/matmul.h"

namespace mmojo {

class ThreadPool;

// llama.cpp's numbers. kSoftmaxWeight (gpt-oss): the top-k is taken on the raw scores and
// the weights are the softmax over the k chosen scores only.
enum class MoeGating : int32_t { kSoftmax = 1, kSigmoid = 2, kSoftmaxWeight = 3 };

// The gated activation of the experts: SwiGLU silu(g) * u, or gpt-oss's clamped variant
// (g = min(g, limit), u = clamp(u, -limit, limit), out = g * sigmoid(alpha g) * (u + 1)).
enum class MoeActivation : int32_t { kSwiglu = 0, kSwigluOai = 1 };

struct MoeConfig {
    int64_t n_expert = 0;
    int64_t n_expert_used = 0;         // k
    MoeGating gating = MoeGating::kSoftmax;
    bool normalize = true;             // w_j /= sum of the k chosen probabilities
    float scale = 1.0f;                // w_j *= scale (expert_weights_scale; 0 means 1)
    int64_t n_groups = 1;              // expert groups (1: none)
    int64_t n_groups_used = 1;
    MoeActivation activation = MoeActivation::kSwiglu;
    float oai_alpha = 1.702f;          // kSwigluOai constants (gpt-oss)
    float oai_limit = 7.0f;
};

struct MoeWeights {
    Matrix router;                     // [n_expert rows of n_embd], usually F32
    std::vector<float> router_bias;    // [n_expert] added to the scores (gpt-oss), or empty
    std::vector<float> selection_bias; // [n_expert] added for choosing only, or empty
    Matrix gate, up;                   // [n_expert * n_ff rows of n_embd]
    Matrix down;                       // [n_expert * n_embd rows of n_ff]
    std::vector<float> b_gate, b_up;   // [n_expert * n_ff] or empty
    std::vector<float> b_down;         // [n_expert * n_embd] or empty
};

// The rows of expert e of a stacked 3-D expert tensor (n_rows_per_expert rows each).
Matrix expert_slice(const Matrix& stacked, int64_t n_rows_per_expert, int64_t e);

// For one row of router scores (n_expert floats): the k chosen experts in order of
// decreasing selection score, and their weights. `scores` is overwritten with the gating
// probabilities.
void moe_route(const MoeConfig& config, const std::vector<float>& selection_bias, float* scores,
               int32_t* chosen, float* weights);

// out (n_rows rows of n_embd) = the mixture of experts applied to xn (n_rows rows of n_embd).
void moe_feed_forward(ThreadPool& pool, const MoeWeights& w, const MoeConfig& config,
                      const float* xn, int64_t n_rows, float* out);

}  // namespace mmojo
