// The gated delta rule (Yang, Kautz, Hatamizadeh 2024, "Gated Delta Networks"; Qwen3-Next and
// Qwen 3.5's linear-attention layers), per value head h with its d x d state S (S[j][i]:
// value dimension j, key dimension i; stored transposed, row i of the head's d x d floats
// holding S[.][i]) and per token t:
//
//     S   <- exp(g_t) S                                decay (g_t <= 0, one per head)
//     d_t  = beta_t (v_t - S k_t)                      the correction of what S recalls for k_t
//     S   <- S + d_t k_t^T
//     o_t  = S q_t / sqrt(d)
//
// q and k come L2-normalized from the caller. Value head h reads key/query head
// h mod n_k_heads (GGUF files order the value heads so, as llama.cpp's ggml_repeat does).
//
// Two forms with the same result. `delta_net_recurrent` is the definition above, one token
// after the other (generation). `delta_net_chunked` (prompts) takes C tokens at a time in
// the WY form of the chunked delta rule: with G_t the cumulative decay inside the chunk,
// Γ_t = exp(G_t), the deltas of a chunk solve the unit lower-triangular system
//     d_t + sum_{s<t} beta_t (k_t.k_s) (Γ_t/Γ_s) d_s = beta_t v_t - beta_t Γ_t S_0 k_t,
// (forward substitution, matrix work over the chunk), and then
//     o_t = Γ_t S_0 q_t + sum_{s<=t} (Γ_t/Γ_s) (q_t.k_s) d_s,
//     S_C = Γ_C S_0 + sum_s (Γ_C/Γ_s) d_s k_s^T.
// Heads run in parallel on the pool.
#pragma once

#include <cstdint>

namespace mmojo {

class ThreadPool;

struct DeltaNetShape {
    int64_t n_k_heads = 0;   // heads of q and k
    int64_t n_v_heads = 0;   // heads of v, of the state and of the output (a multiple of n_k_heads)
    int64_t head_dim = 0;    // d: key and value head size (equal, as in every GGUF of the family)
    // Floats of state per sequence: n_v_heads matrices of d x d.
    int64_t state_floats() const { return n_v_heads * head_dim * head_dim; }
};

// One sequence's tokens. q, k: n_tokens rows of n_k_heads * d; v, out: rows of
// n_v_heads * d; g, beta: rows of n_v_heads. state: state_floats(), read and updated.
struct DeltaNetInput {
    const float* q;
    const float* k;
    const float* v;
    const float* g;
    const float* beta;
    int64_t n_tokens;
};

void delta_net_recurrent(ThreadPool& pool, const DeltaNetShape& shape, const DeltaNetInput& in,
                         float* state, float* out);
void delta_net_chunked(ThreadPool& pool, const DeltaNetShape& shape, const DeltaNetInput& in,
                       int64_t chunk_size, float* state, float* out);

}  // namespace mmojo
