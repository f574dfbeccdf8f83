// The layers of the hybrid families that keep a recurrent state per sequence instead of
// keys and values (model/sequence_state.h, kRecurrent), and Qwen 3.5's gated attention:
//
//   short_conv_block (LFM2):   [b | c | x] = W_in n;  y = W_out (c * conv(b * x))
//       conv: a depthwise causal convolution of width L (ops/short_conv.h), whose state is
//       the last L - 1 inputs b * x.
//   gated_delta_net_block (Qwen3-Next / Qwen 3.5):
//       [q | k | v] = silu(conv(W_qkv n))          causal conv of width K, state K - 1 rows
//       z = W_z n,  beta = sigmoid(W_beta n),  g = softplus(W_alpha n + dt_bias) * a
//       q, k <- L2-normalized per head (x / sqrt(|x|^2 + eps))
//       o = gated delta rule (ops/delta_net.h), state H_v x d x d
//       y = W_out (RMSNorm(o_h) * w_norm * silu(z_h))     per value head h
//   gated_attention_block (Qwen 3.5's full-attention layers):
//       [q_h | gate_h] = (W_q n)_h per head, k = W_k n, v = W_v n
//       q, k <- per-head RMSNorm * g_q, g_k; RoPE; softmax attention over the KV cache
//       y = W_o (attention * sigmoid(gate))
//
// A pass can hold rows of several sequences; the recurrent layers run each sequence's rows
// in order against that sequence's state: one row with the token-by-token form, more
// (prompts) with the chunked form.
#pragma once

#include <cstdint>
#include <vector>

#include "model/blocks.h"
#include "ops/delta_net.h"

namespace mmojo {

struct ShortConvWeights {
    Matrix in_proj;              // [n_embd -> 3 n_embd]: b | c | x
    Matrix out_proj;             // [n_embd -> n_embd]
    std::vector<float> kernel;   // n_embd rows of `width` taps
    int64_t width = 0;
};
// Floats of recurrent state per sequence of a short-conv layer.
int64_t short_conv_state_floats(int64_t n_embd, int64_t width);
void short_conv_block(ForwardPass& pass, int layer, const ShortConvWeights& w, int64_t n_embd,
                      const float* xn, float* out);

struct GatedDeltaNetWeights {
    Matrix qkv;                   // [n_embd -> 2 H_k d + H_v d]
    Matrix z;                     // [n_embd -> H_v d]
    Matrix beta, alpha;           // [n_embd -> H_v]
    Matrix out;                   // [H_v d -> n_embd]
    std::vector<float> kernel;    // conv: (2 H_k d + H_v d) rows of conv_width taps
    std::vector<float> dt_bias;   // [H_v]
    std::vector<float> a;         // [H_v], negative (-exp(A_log))
    std::vector<float> norm;      // [d]
};
struct GatedDeltaNetConfig {
    DeltaNetShape shape;
    int64_t conv_width = 4;
    float norm_eps = 1e-6f;
    int64_t chunk_size = 64;      // tokens per chunk of the prompt form
    int64_t conv_channels() const { return (2 * shape.n_k_heads + shape.n_v_heads) * shape.head_dim; }
    int64_t state_floats() const { return (conv_width - 1) * conv_channels() + shape.state_floats(); }
};
void gated_delta_net_block(ForwardPass& pass, int layer, const GatedDeltaNetWeights& w,
                           const GatedDeltaNetConfig& c, const float* xn, float* out);

// wq has 2 * head_dim_k rows per head (query, then gate); q_norm and k_norm are required.
void gated_attention_block(ForwardPass& pass, int layer, const AttentionWeights& w,
                           const AttentionConfig& c, const float* xn, float* out);

}  // namespace mmojo
