// Shared transformer blocks (see blocks.h).
#include "model/blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/hparams.h"
#include "model/model.h"
#include "model/tensor_binder.h"
#include "ops/activation.h"
#include "ops/embedding.h"
#include "ops/norm.h"
#include "model/batch.h"
#include "model/sequence_state.h"
#include "ops/attention.h"

namespace mmojo {

namespace {

bool same_rope(const RopeConfig& a, const RopeConfig& b) {
    return a.n_dims == b.n_dims && a.layout == b.layout && a.freq_base == b.freq_base &&
           a.freq_scale == b.freq_scale && a.attn_factor == b.attn_factor &&
           a.freq_factors == b.freq_factors;
}

}  // namespace

ForwardPass::ForwardPass(const Batch& batch, SequenceState& state, ThreadPool& pool)
    : state_(state), pool_(pool) {
    const size_t n = batch.entries.size();
    tokens_.reserve(n);
    positions_.reserve(n);
    seqs_.reserve(n);
    seq_ends_.resize(state.n_seq());
    for (uint32_t s = 0; s < state.n_seq(); ++s) seq_ends_[s] = state.seq_length(int32_t(s));
    for (size_t i = 0; i < n; ++i) {
        const BatchEntry& e = batch.entries[i];
        tokens_.push_back(e.token);
        positions_.push_back(e.pos);
        seqs_.push_back(e.seq);
        seq_ends_[size_t(e.seq)] = std::max(seq_ends_[size_t(e.seq)], e.pos + 1);
        if (e.output) output_rows_.push_back(int64_t(i));
    }
}

const ForwardPass::RopeTables& ForwardPass::rope_tables(const RopeConfig& config) {
    for (const RopeTables& tables : rope_tables_) {
        if (same_rope(tables.config, config)) return tables;
    }
    RopeTables& tables = rope_tables_.emplace_back();
    tables.config = config;
    const int64_t half = config.n_dims / 2;
    tables.cos.resize(size_t(n_tokens() * half));
    tables.sin.resize(size_t(n_tokens() * half));
    for (int64_t row = 0; row < n_tokens(); ++row) {
        rope_angles(config, pos(row), tables.cos.data() + row * half, tables.sin.data() + row * half);
    }
    return tables;
}

void keep_rows(std::vector<float>& x, int64_t row_len, const std::vector<int64_t>& rows) {
    for (size_t i = 0; i < rows.size(); ++i) {
        if (rows[i] != int64_t(i)) {
            std::memmove(x.data() + int64_t(i) * row_len, x.data() + rows[i] * row_len,
                         size_t(row_len) * sizeof(float));
        }
    }
    x.resize(rows.size() * size_t(row_len));
}

void add_in_place(float* x, const float* y, int64_t n) { add(x, y, x, n); }

void add_bias(float* x, int64_t n_rows, int64_t row_len, const std::vector<float>& bias) {
    if (bias.empty()) return;
    for (int64_t r = 0; r < n_rows; ++r) add_in_place(x + r * row_len, bias.data(), row_len);
}

void linear(ThreadPool& pool, const Matrix& w, const std::vector<float>& bias, Activations& x,
            float* y) {
    matmul(pool, w, x, y);
    add_bias(y, x.n_rows(), w.n_rows, bias);
}

void linear(ThreadPool& pool, const Matrix& w, const std::vector<float>& bias, const float* x,
            int64_t n_rows, float* y) {
    Activations activations(pool, x, n_rows, w.n_cols);
    linear(pool, w, bias, activations, y);
}

void self_attention(ForwardPass& pass, int layer, const AttentionWeights& w,
                    const AttentionConfig& c, const float* xn, float* out) {
    ThreadPool& pool = pass.pool();
    const int64_t n = pass.n_tokens();
    const int64_t q_len = c.n_head * c.head_dim_k;
    const int64_t k_len = c.n_head_kv * c.head_dim_k;
    const int64_t v_len = c.n_head_kv * c.head_dim_v;

    // Projections: Q = x Wq^T, K = x Wk^T, V = x Wv^T (+ biases), or one fused product
    // whose rows are q | k | v.
    std::vector<float> q(size_t(n * q_len));
    std::vector<float> k(size_t(n * k_len));
    std::vector<float> v(size_t(n * v_len));
    Activations x(pool, xn, n, (w.wqkv.empty() ? w.wq : w.wqkv).n_cols);
    if (!w.wqkv.empty()) {
        const int64_t qkv_len = q_len + k_len + v_len;
        std::vector<float> qkv(size_t(n * qkv_len));
        linear(pool, w.wqkv, w.bqkv, x, qkv.data());
        for (int64_t row = 0; row < n; ++row) {
            const float* src = qkv.data() + row * qkv_len;
            std::copy(src, src + q_len, q.data() + row * q_len);
            std::copy(src + q_len, src + q_len + k_len, k.data() + row * k_len);
            std::copy(src + q_len + k_len, src + qkv_len, v.data() + row * v_len);
        }
    } else {
        matmul_group(pool, {{&w.wq, q.data()}, {&w.wk, k.data()}, {&w.wv, v.data()}}, x);
        add_bias(q.data(), n, q_len, w.bq);
        add_bias(k.data(), n, k_len, w.bk);
        add_bias(v.data(), n, v_len, w.bv);
    }

    // RMSNorm of queries and keys, per head (qwen3, gemma3) or over the whole projection
    // (olmo2), as the weight's length says.
    auto qk_norm = [&](std::vector<float>& x, int64_t len, const std::vector<float>& g) {
        if (g.empty()) return;
        const int64_t span = int64_t(g.size()) == len ? len : c.head_dim_k;
        rms_norm(x.data(), x.data(), n * len / span, span, g.data(), c.qk_norm_eps);
    };
    qk_norm(q, q_len, w.q_norm);
    qk_norm(k, k_len, w.k_norm);

    // Rotary position embedding of queries and keys at each row's position.
    if (c.use_rope) {
        const ForwardPass::RopeTables& t = pass.rope_tables(c.rope);
        const int64_t half = c.rope.n_dims / 2;
        for (int64_t row = 0; row < n; ++row) {
            const float* cs = t.cos.data() + row * half;
            const float* sn = t.sin.data() + row * half;
            rope_apply(c.rope, q.data() + row * q_len, c.n_head, c.head_dim_k, cs, sn);
            rope_apply(c.rope, k.data() + row * k_len, c.n_head_kv, c.head_dim_k, cs, sn);
        }
    }
    if (c.temperature_scale != 0.0f) {
        for (int64_t row = 0; row < n; ++row) {
            const float t = float(std::log(std::floor(double(pass.pos(row)) / c.temperature_floor) + 1.0) *
                                  c.temperature_scale + 1.0);
            scale(q.data() + row * q_len, q_len, t);
        }
    }

    // This pass's keys and values join the cache before anyone attends.
    const KvLayerView kv = pass.state().key_values(layer);
    for (int64_t row = 0; row < n; ++row) {
        kv_store(kv, pass.seq(row), pass.pos(row), k.data() + row * k_len, v.data() + row * v_len);
    }

    std::vector<float> heads(size_t(n * c.n_head * c.head_dim_v));
    attention(pool, kv, pass.attention_rows(), c, q.data(), heads.data());

    // Output projection.
    linear(pool, w.wo, w.bo, heads.data(), n, out);
}

namespace {

// out = W_down act(W_gate x, W_up x + b_up) + b_down, act one of ops/activation.h's gated
// activations.
void feed_forward_gated(ThreadPool& pool, const FeedForwardWeights& w, const float* xn, int64_t n_rows,
                        float* out, void (*act)(const float* gate, const float* up, float* out, int64_t n)) {
    const int64_t n_ff = w.up.n_rows;
    std::vector<float> gate(size_t(n_rows * n_ff));
    std::vector<float> up(size_t(n_rows * n_ff));
    Activations x(pool, xn, n_rows, w.up.n_cols);
    matmul_group(pool, {{&w.gate, gate.data()}, {&w.up, up.data()}}, x);
    add_bias(up.data(), n_rows, n_ff, w.b_up);
    act(gate.data(), up.data(), gate.data(), n_rows * n_ff);
    linear(pool, w.down, w.b_down, gate.data(), n_rows, out);
}

}  // namespace

void feed_forward_swiglu(ThreadPool& pool, const FeedForwardWeights& w, const float* xn,
                         int64_t n_rows, float* out) {
    feed_forward_gated(pool, w, xn, n_rows, out, swiglu);
}

void feed_forward_geglu(ThreadPool& pool, const FeedForwardWeights& w, const float* xn,
                        int64_t n_rows, float* out) {
    feed_forward_gated(pool, w, xn, n_rows, out, geglu);
}

void feed_forward_swiglu_fused(ThreadPool& pool, const FeedForwardWeights& w, const float* xn,
                               int64_t n_rows, float* out) {
    const int64_t n_ff = w.up.n_rows / 2;
    std::vector<float> gate_up(size_t(n_rows * 2 * n_ff));
    linear(pool, w.up, w.b_up, xn, n_rows, gate_up.data());
    // Row r of gate_up is gate (n_ff) | up (n_ff); the product goes over the gate half.
    std::vector<float> h(size_t(n_rows * n_ff));
    for (int64_t r = 0; r < n_rows; ++r) {
        const float* g = gate_up.data() + r * 2 * n_ff;
        swiglu(g, g + n_ff, h.data() + r * n_ff, n_ff);
    }
    linear(pool, w.down, w.b_down, h.data(), n_rows, out);
}

void feed_forward_gelu(ThreadPool& pool, const FeedForwardWeights& w, const float* xn,
                       int64_t n_rows, float* out) {
    const int64_t n_ff = w.up.n_rows;
    std::vector<float> h(size_t(n_rows * n_ff));
    linear(pool, w.up, w.b_up, xn, n_rows, h.data());
    gelu(h.data(), h.data(), n_rows * n_ff);
    linear(pool, w.down, w.b_down, h.data(), n_rows, out);
}

AttentionWeights bind_attention(TensorBinder& b, const std::string& prefix, const ModelHparams& hp) {
    const int64_t n_q = int64_t(hp.n_head) * hp.head_dim_k;
    const int64_t n_k = int64_t(hp.n_head_kv) * hp.head_dim_k;
    const int64_t n_v = int64_t(hp.n_head_kv) * hp.head_dim_v;
    const int64_t n_o = int64_t(hp.n_head) * hp.head_dim_v;
    AttentionWeights w;
    w.wq = b.matrix(prefix + "attn_q.weight", hp.n_embd, n_q);
    w.wk = b.matrix(prefix + "attn_k.weight", hp.n_embd, n_k);
    w.wv = b.matrix(prefix + "attn_v.weight", hp.n_embd, n_v);
    w.wo = b.matrix(prefix + "attn_output.weight", n_o, hp.n_embd);
    w.bq = b.optional_vector(prefix + "attn_q.bias", n_q);
    w.bk = b.optional_vector(prefix + "attn_k.bias", n_k);
    w.bv = b.optional_vector(prefix + "attn_v.bias", n_v);
    w.bo = b.optional_vector(prefix + "attn_output.bias", hp.n_embd);
    w.q_norm = b.optional_vector(prefix + "attn_q_norm.weight", hp.head_dim_k);
    w.k_norm = b.optional_vector(prefix + "attn_k_norm.weight", hp.head_dim_k);
    return w;
}

AttentionConfig attention_config(const ModelHparams& hp, RopeLayout layout) {
    AttentionConfig c;
    c.n_head = hp.n_head;
    c.n_head_kv = hp.n_head_kv;
    c.head_dim_k = hp.head_dim_k;
    c.head_dim_v = hp.head_dim_v;
    c.scale = 1.0f / std::sqrt(float(hp.head_dim_k));
    c.rope.n_dims = int32_t(hp.n_rot);
    c.rope.layout = layout;
    c.rope.freq_base = hp.rope_freq_base;
    c.rope.freq_scale = hp.rope_freq_scale;
    c.qk_norm_eps = hp.norm_eps;
    c.causal = hp.causal;
    return c;
}

void apply_yarn(const GgufFile& file, const ModelHparams& hp, RopeConfig& rope) {
    if (hp.rope_scaling != "yarn") return;
    const std::string p = hp.arch + ".rope.scaling.";
    const float beta_fast = file.get_f32_or(p + "yarn_beta_fast", 32.0f);
    const float beta_slow = file.get_f32_or(p + "yarn_beta_slow", 1.0f);
    rope.yarn_ext_factor = 1.0f;
    rope_yarn_corr_dims(rope.n_dims, hp.n_ctx_orig, rope.freq_base, beta_fast, beta_slow, rope.yarn_low,
                        rope.yarn_high);
    const double s = 1.0 / double(rope.freq_scale);
    auto m = [s](double k) { return s <= 1.0 ? 1.0 : 1.0 + 0.1 * k * std::log(s); };
    const double log_mul = file.get_f32_or(p + "yarn_log_multiplier", 0.0f);
    double factor = log_mul != 0.0 ? m(1.0) / m(log_mul) : m(1.0);
    factor /= 1.0 + 0.1 * std::log(s);
    rope.attn_factor = float(factor * file.get_f32_or(p + "attn_factor", 1.0f));
}

void decoder_output(ThreadPool& pool, const float* x, int64_t n_rows, int64_t n_embd,
                    const std::vector<float>& norm, float eps, const Matrix& output,
                    float final_softcap, OutputKind kind, float* out) {
    if (kind == OutputKind::kEmbeddings) {
        rms_norm(x, out, n_rows, n_embd, norm.data(), eps);
        return;
    }
    std::vector<float> n(size_t(n_rows * n_embd));
    rms_norm(x, n.data(), n_rows, n_embd, norm.data(), eps);
    matmul(pool, output, n.data(), n_rows, out);
    if (final_softcap > 0.0f) softcap(out, n_rows * output.n_rows, final_softcap);
}

DecoderEnds bind_decoder_ends(TensorBinder& b, const ModelHparams& hp) {
    DecoderEnds ends;
    ends.token_embd = b.matrix("token_embd.weight", hp.n_embd, hp.n_vocab);
    ends.output_norm = b.vector("output_norm.weight", hp.n_embd);
    ends.output = b.optional_matrix("output.weight", hp.n_embd, hp.n_vocab);
    if (ends.output.empty()) ends.output = ends.token_embd;
    return ends;
}

PreNormBlock bind_pre_norm_block(TensorBinder& b, const std::string& prefix, const ModelHparams& hp) {
    PreNormBlock blk;
    blk.attn_norm = b.vector(prefix + "attn_norm.weight", hp.n_embd);
    blk.attn = bind_attention(b, prefix, hp);
    blk.ffn_norm = b.vector(prefix + "ffn_norm.weight", hp.n_embd);
    blk.ffn.gate = b.matrix(prefix + "ffn_gate.weight", hp.n_embd, hp.n_ff);
    blk.ffn.up = b.matrix(prefix + "ffn_up.weight", hp.n_embd, hp.n_ff);
    blk.ffn.down = b.matrix(prefix + "ffn_down.weight", hp.n_ff, hp.n_embd);
    return blk;
}

void pre_norm_decoder_forward(ForwardPass& pass, const ModelHparams& hp, const DecoderEnds& ends,
                              const std::vector<PreNormBlock>& blocks, const AttentionConfig& attention,
                              OutputKind kind, float* out) {
    ThreadPool& pool = pass.pool();
    const int64_t d = hp.n_embd;
    const float eps = hp.norm_eps;
    int64_t rows = pass.n_tokens();
    std::vector<float> x(size_t(rows * d));   // the residual stream
    std::vector<float> n(x.size());           // its normalized copy
    std::vector<float> y(x.size());           // a block's output
    get_rows(ends.token_embd, pass.tokens().data(), rows, x.data());

    for (size_t l = 0; l < blocks.size(); ++l) {
        const PreNormBlock& blk = blocks[l];
        // h = x + Attention(RMSNorm(x) * g_attn)
        rms_norm(x.data(), n.data(), rows, d, blk.attn_norm.data(), eps);
        self_attention(pass, int(l), blk.attn, blk.attention ? *blk.attention : attention, n.data(), y.data());
        if (l + 1 == blocks.size()) {   // past the last attention only the requested rows matter
            keep_rows(x, d, pass.output_rows());
            keep_rows(y, d, pass.output_rows());
            rows = int64_t(pass.output_rows().size());
            if (rows == 0) return;
        }
        add_in_place(x.data(), y.data(), rows * d);
        // x = h + FFN(RMSNorm(h) * g_ffn)
        rms_norm(x.data(), n.data(), rows, d, blk.ffn_norm.data(), eps);
        if (blk.ffn.gate.empty()) {
            feed_forward_swiglu_fused(pool, blk.ffn, n.data(), rows, y.data());
        } else {
            feed_forward_swiglu(pool, blk.ffn, n.data(), rows, y.data());
        }
        add_in_place(x.data(), y.data(), rows * d);
    }
    decoder_output(pool, x.data(), rows, d, ends.output_norm, eps, ends.output, 0.0f, kind, out);
}

void PreNormDecoder::forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                             OutputKind kind) {
    ForwardPass pass(batch, state, pool);
    pre_norm_decoder_forward(pass, hparams_, ends_, blocks_, pass_attention(state), kind, out);
}

}  // namespace mmojo
