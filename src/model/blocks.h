// The building blocks shared by the transformer families: per-pass batch bookkeeping,
// multi-head self-attention over the KV cache (GQA, causal or bidirectional, optional
// sliding window, biases, q/k norms, soft-capping), and the gated feed-forward networks.
// Architecture files (llama.cpp, ...) write their forward pass as a short sequence of
// these calls; the loops live in src/ops/.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "model/model.h"
#include "ops/attention.h"
#include "ops/matmul.h"
#include "ops/rope.h"

namespace mmojo {

struct Batch;
class SequenceState;
class ThreadPool;
class TensorBinder;
struct ModelHparams;

// One forward pass over a batch chunk: the tokens, where they go, and which rows are
// wanted as outputs. Rows of every activation matrix are in batch order.
class ForwardPass {
public:
    ForwardPass(const Batch& batch, SequenceState& state, ThreadPool& pool);

    SequenceState& state() const { return state_; }
    ThreadPool& pool() const { return pool_; }
    int64_t n_tokens() const { return int64_t(tokens_.size()); }
    const std::vector<int32_t>& tokens() const { return tokens_; }
    int32_t pos(int64_t row) const { return positions_[size_t(row)]; }
    int32_t seq(int64_t row) const { return seqs_[size_t(row)]; }
    // Positions of `seq` present after this pass (cached + this batch).
    int32_t seq_end(int32_t seq) const { return seq_ends_[size_t(seq)]; }
    // Batch rows whose output was requested, in batch order.
    const std::vector<int64_t>& output_rows() const { return output_rows_; }
    // The rows as ops/attention.h takes them.
    AttentionRows attention_rows() const {
        return {positions_.data(), seqs_.data(), seq_ends_.data(), n_tokens()};
    }

    // cos/sin tables of `config` for every row (n_tokens x n_dims/2 each), computed once
    // per pass for each distinct configuration.
    struct RopeTables {
        RopeConfig config;
        std::vector<float> cos;
        std::vector<float> sin;
    };
    const RopeTables& rope_tables(const RopeConfig& config);

private:
    SequenceState& state_;
    ThreadPool& pool_;
    std::vector<int32_t> tokens_;
    std::vector<int32_t> positions_;
    std::vector<int32_t> seqs_;
    std::vector<int32_t> seq_ends_;
    std::vector<int64_t> output_rows_;
    std::deque<RopeTables> rope_tables_;   // deque: references stay valid
};

// Keeps rows `rows` (ascending) of a matrix of `row_len` floats per row, in place.
void keep_rows(std::vector<float>& x, int64_t row_len, const std::vector<int64_t>& rows);

// x += y over n floats.
void add_in_place(float* x, const float* y, int64_t n);
// Adds `bias` (row_len floats; nothing when empty) to each of n_rows rows.
void add_bias(float* x, int64_t n_rows, int64_t row_len, const std::vector<float>& bias);

// y = W x (+ b) for each row of x; an empty bias is skipped.
void linear(ThreadPool& pool, const Matrix& w, const std::vector<float>& bias, Activations& x,
            float* y);
void linear(ThreadPool& pool, const Matrix& w, const std::vector<float>& bias, const float* x,
            int64_t n_rows, float* y);

struct AttentionWeights {
    Matrix wq, wk, wv, wo;              // [n_embd -> n_head*hd_k], ..., [n_head*hd_v -> n_embd]
    Matrix wqkv;                        // fused [n_embd -> q|k|v] instead of wq/wk/wv (phi3)
    std::vector<float> bq, bk, bv, bo;  // optional biases (qwen2, phi, bert)
    std::vector<float> bqkv;            // optional bias of the fused projection
    // Optional RMSNorm weights of q and k: head_dim_k floats normalize each head (qwen3,
    // gemma3), a whole projection's n_head * head_dim_k (n_head_kv * ...) floats normalize
    // the projection row as one vector (olmo2).
    std::vector<float> q_norm, k_norm;
};

// The heads, scale, soft-cap, window and causality of ops/attention.h, plus what happens to
// q and k before it.
struct AttentionConfig : AttentionParams {
    bool use_rope = true;
    RopeConfig rope;
    float qk_norm_eps = 1e-6f;     // for q_norm / k_norm
    // Attention temperature tuning (Llama 4, Ministral 3): after RoPE, the queries of the row
    // at position p are multiplied by 1 + temperature_scale * ln(floor(p / temperature_floor) + 1).
    // 0: off.
    float temperature_scale = 0.0f;
    int32_t temperature_floor = 1;
};

// Multi-head self-attention of the normalized input xn (n_tokens rows of w.wq.n_cols)
// into out (n_tokens rows of w.wo.n_rows): projections, RoPE, storing K and V of every
// row in layer `layer` of the state, softmax(q.k * scale + mask) . V per head (query head
// h reads KV head h / (n_head / n_head_kv)), and the output projection.
void self_attention(ForwardPass& pass, int layer, const AttentionWeights& w,
                    const AttentionConfig& config, const float* xn, float* out);

struct FeedForwardWeights {
    Matrix gate, up, down;
    std::vector<float> b_up, b_down;   // optional biases
};

// SwiGLU feed-forward (Shazeer 2020): out = W_down (silu(W_gate x) * (W_up x)).
void feed_forward_swiglu(ThreadPool& pool, const FeedForwardWeights& w, const float* xn,
                         int64_t n_rows, float* out);
// The same with GELU as the gate (GeGLU, gemma).
void feed_forward_geglu(ThreadPool& pool, const FeedForwardWeights& w, const float* xn,
                        int64_t n_rows, float* out);
// SwiGLU with one fused matrix `up` of 2 * n_ff rows, the gate's rows first (phi3's
// ffn_up); `gate` is unused.
void feed_forward_swiglu_fused(ThreadPool& pool, const FeedForwardWeights& w, const float* xn,
                               int64_t n_rows, float* out);
// Plain GELU feed-forward (BERT): out = W_down gelu(W_up x + b_up) + b_down.
void feed_forward_gelu(ThreadPool& pool, const FeedForwardWeights& w, const float* xn,
                       int64_t n_rows, float* out);

// Decoder helpers shared by the architecture files (qwen2, qwen3, gemma2, gemma3, phi3).

// Binds `prefix` + attn_{q,k,v,output}.weight, their optional .bias and the optional
// per-head attn_{q,k}_norm.weight, with the sizes of hp.
AttentionWeights bind_attention(TensorBinder& b, const std::string& prefix, const ModelHparams& hp);
// Heads and head sizes of hp, scale 1/sqrt(head_dim_k), RoPE over hp.n_rot dimensions in
// `layout` with hp's base and linear scale, q/k-norm epsilon hp.norm_eps.
AttentionConfig attention_config(const ModelHparams& hp, RopeLayout layout);
// YaRN as llama.cpp sets it up for a file whose rope.scaling.type is "yarn" (nothing
// otherwise): the blend between rope.scaling.yarn_beta_fast (default 32) and _beta_slow (1)
// rotations over the original context, and the magnitude 
//   attn_factor = rope.scaling.attn_factor * m(s, 1) / m(s, log_mul) / (1 + 0.1 ln s),
// m(s, k) = 1 + 0.1 k ln s, s the scaling factor, log_mul rope.scaling.yarn_log_multiplier
// (m(s, 1) / m(s, 0) without it); rope.cpp multiplies by 1 + 0.1 ln s again.
void apply_yarn(const GgufFile& file, const ModelHparams& hp, RopeConfig& rope);

// The ends every decoder has: the token embedding, the final norm, and the output matrix
// (the embedding itself when output.weight is absent: tied embeddings).
struct DecoderEnds {
    Matrix token_embd;               // [n_vocab rows of n_embd]
    std::vector<float> output_norm;  // [n_embd]
    Matrix output;                   // [n_vocab rows of n_embd]
};
DecoderEnds bind_decoder_ends(TensorBinder& b, const ModelHparams& hp);

// The pre-norm block of LLaMA and its descendants (qwen2, qwen3, phi3, mistral):
//   h = x + Attention(RMSNorm(x) * g_attn)
//   x' = h + W_down (silu(W_gate m) * W_up m),  m = RMSNorm(h) * g_ffn
// phi3 stores W_gate and W_up as one matrix: ffn.up then has 2 * n_ff rows (gate first)
// and ffn.gate is empty.
struct PreNormBlock {
    std::vector<float> attn_norm;   // [n_embd]
    AttentionWeights attn;
    std::vector<float> ffn_norm;    // [n_embd]
    FeedForwardWeights ffn;
    // This block's own attention settings (smollm3's blocks without RoPE), or null: the
    // decoder's.
    const AttentionConfig* attention = nullptr;
};
// Binds `prefix` + attn_norm, attn_{q,k,v,output} (bind_attention), ffn_norm, ffn_{gate,up,down}.
PreNormBlock bind_pre_norm_block(TensorBinder& b, const std::string& prefix, const ModelHparams& hp);

// The whole forward pass of a pre-norm decoder: x_0 = E[token], the blocks in order (every
// layer with `attention`), then decoder_output with RMSNorm epsilon hp.norm_eps. After the
// last attention only the rows whose output was requested are carried on.
void pre_norm_decoder_forward(ForwardPass& pass, const ModelHparams& hp, const DecoderEnds& ends,
                              const std::vector<PreNormBlock>& blocks, const AttentionConfig& attention,
                              OutputKind kind, float* out);

// A family that is a pre-norm decoder (llama, qwen2, qwen3, phi3) binds ends_, blocks_ and
// attention_ in load_weights; the forward pass is pre_norm_decoder_forward.
class PreNormDecoder : public Model {
public:
    void forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                 OutputKind kind) final;

protected:
    // The attention settings of one pass (phi3's LongRoPE factors follow the context size).
    virtual AttentionConfig pass_attention(const SequenceState& /*state*/) const { return attention_; }

    DecoderEnds ends_;
    std::vector<PreNormBlock> blocks_;
    AttentionConfig attention_;
};

// The last step of a decoder on n_rows rows of the residual stream x (n_embd floats each):
// kLogits: out = W_out (RMSNorm(x) * g), then cap * tanh(out / cap) when final_softcap > 0;
// kEmbeddings: out = RMSNorm(x) * g.
void decoder_output(ThreadPool& pool, const float* x, int64_t n_rows, int64_t n_embd,
                    const std::vector<float>& norm, float eps, const Matrix& output,
                    float final_softcap, OutputKind kind, float* out);

}  // namespace mmojo
