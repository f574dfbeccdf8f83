// Short-conv, Gated DeltaNet and gated-attention layers (see recurrent_blocks.h). Equations
// and tensor layouts follow llama.cpp's src/models/lfm2.cpp, qwen35.cpp and
// delta-net-base.cpp.
#include "model/recurrent_blocks.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <span>

#include "model/sequence_state.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/norm.h"
#include "ops/short_conv.h"

namespace mmojo {

namespace {

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// ggml's softplus: log(1 + e^x), x itself above 20.
float softplus(float x) { return x > 20.0f ? x : std::log(1.0f + std::exp(x)); }

// The rows of each sequence present in the pass, in batch (= position) order.
std::map<int32_t, std::vector<int64_t>> rows_by_sequence(const ForwardPass& pass) {
    std::map<int32_t, std::vector<int64_t>> rows;
    for (int64_t r = 0; r < pass.n_tokens(); ++r) rows[pass.seq(r)].push_back(r);
    return rows;
}

// Copies the listed rows (row_len floats each) of `from` into consecutive rows of `to`.
void gather(const float* from, const std::vector<int64_t>& rows, int64_t row_len, float* to) {
    for (size_t i = 0; i < rows.size(); ++i) {
        std::copy(from + rows[i] * row_len, from + (rows[i] + 1) * row_len, to + int64_t(i) * row_len);
    }
}
void scatter(const float* from, const std::vector<int64_t>& rows, int64_t row_len, float* to) {
    for (size_t i = 0; i < rows.size(); ++i) {
        std::copy(from + int64_t(i) * row_len, from + int64_t(i + 1) * row_len, to + rows[i] * row_len);
    }
}

}  // namespace

int64_t short_conv_state_floats(int64_t n_embd, int64_t width) { return (width - 1) * n_embd; }

void short_conv_block(ForwardPass& pass, int layer, const ShortConvWeights& w, int64_t n_embd,
                      const float* xn, float* out) {
    ThreadPool& pool = pass.pool();
    const int64_t n = pass.n_tokens();
    std::vector<float> bcx(size_t(n * 3 * n_embd));
    linear(pool, w.in_proj, {}, xn, n, bcx.data());
    // bx = b * x (the convolution's input); c gates its output.
    std::vector<float> bx(size_t(n * n_embd)), y(bx.size());
    for (int64_t r = 0; r < n; ++r) {
        const float* row = bcx.data() + r * 3 * n_embd;
        mul(row, row + 2 * n_embd, bx.data() + r * n_embd, n_embd);
    }
    std::vector<float> in, conv;
    for (const auto& [seq, rows] : rows_by_sequence(pass)) {
        const int64_t m = int64_t(rows.size());
        in.resize(size_t(m * n_embd));
        conv.resize(in.size());
        gather(bx.data(), rows, n_embd, in.data());
        std::span<float> state = pass.state().recurrent(layer, seq);
        causal_conv1d(in.data(), m, n_embd, w.kernel.data(), w.width, state.data(), conv.data());
        scatter(conv.data(), rows, n_embd, y.data());
    }
    for (int64_t r = 0; r < n; ++r) {
        const float* c = bcx.data() + r * 3 * n_embd + n_embd;
        mul(c, y.data() + r * n_embd, y.data() + r * n_embd, n_embd);
    }
    linear(pool, w.out_proj, {}, y.data(), n, out);
}

void gated_delta_net_block(ForwardPass& pass, int layer, const GatedDeltaNetWeights& w,
                           const GatedDeltaNetConfig& c, const float* xn, float* out) {
    ThreadPool& pool = pass.pool();
    const int64_t n = pass.n_tokens();
    const DeltaNetShape& s = c.shape;
    const int64_t d = s.head_dim;
    const int64_t n_ch = c.conv_channels();
    const int64_t qk_len = s.n_k_heads * d, v_len = s.n_v_heads * d, hv = s.n_v_heads;

    // Projections of the normalized input, converted once.
    std::vector<float> qkv(size_t(n * n_ch)), z(size_t(n * v_len)), beta(size_t(n * hv)), g(size_t(n * hv));
    {
        Activations x(pool, xn, n, w.qkv.n_cols);
        matmul_group(pool, {{&w.qkv, qkv.data()}, {&w.z, z.data()}, {&w.beta, beta.data()}, {&w.alpha, g.data()}}, x);
    }
    // beta = sigmoid(.), g = softplus(alpha + dt_bias) * a (a < 0: the log of the decay).
    for (int64_t r = 0; r < n; ++r) {
        for (int64_t h = 0; h < hv; ++h) {
            float& b = beta[size_t(r * hv + h)];
            b = sigmoid(b);
            float& gv = g[size_t(r * hv + h)];
            gv = softplus(gv + w.dt_bias[size_t(h)]) * w.a[size_t(h)];
        }
    }

    std::vector<float> o(size_t(n * v_len));
    std::vector<float> in, conv, q, k, v, gs, bs, os;
    for (const auto& [seq, rows] : rows_by_sequence(pass)) {
        const int64_t m = int64_t(rows.size());
        std::span<float> state = pass.state().recurrent(layer, seq);
        float* conv_state = state.data();
        float* delta_state = state.data() + (c.conv_width - 1) * n_ch;

        // Causal conv over [state | this pass's rows], then SiLU.
        in.resize(size_t(m * n_ch));
        conv.resize(in.size());
        gather(qkv.data(), rows, n_ch, in.data());
        causal_conv1d(in.data(), m, n_ch, w.kernel.data(), c.conv_width, conv_state, conv.data());
        silu(conv.data(), conv.data(), m * n_ch);

        // Split into q | k | v and L2-normalize q and k per head: RMSNorm with eps / d, then
        // times 1/sqrt(d) (llama.cpp's build_gdn_l2_norm, rounding as it does).
        q.resize(size_t(m * qk_len));
        k.resize(q.size());
        v.resize(size_t(m * v_len));
        for (int64_t r = 0; r < m; ++r) {
            const float* src = conv.data() + r * n_ch;
            std::copy(src, src + qk_len, q.data() + r * qk_len);
            std::copy(src + qk_len, src + 2 * qk_len, k.data() + r * qk_len);
            std::copy(src + 2 * qk_len, src + n_ch, v.data() + r * v_len);
        }
        const float l2_eps = c.norm_eps / float(d);
        const float inv_sqrt_d = 1.0f / std::sqrt(float(d));
        rms_norm(q.data(), q.data(), m * s.n_k_heads, d, nullptr, l2_eps);
        rms_norm(k.data(), k.data(), m * s.n_k_heads, d, nullptr, l2_eps);
        scale(q.data(), m * qk_len, inv_sqrt_d);
        scale(k.data(), m * qk_len, inv_sqrt_d);

        gs.resize(size_t(m * hv));
        bs.resize(gs.size());
        gather(g.data(), rows, hv, gs.data());
        gather(beta.data(), rows, hv, bs.data());
        os.resize(size_t(m * v_len));
        const DeltaNetInput input{q.data(), k.data(), v.data(), gs.data(), bs.data(), m};
        if (m == 1) {
            delta_net_recurrent(pool, s, input, delta_state, os.data());
        } else {
            delta_net_chunked(pool, s, input, c.chunk_size, delta_state, os.data());
        }
        scatter(os.data(), rows, v_len, o.data());
    }

    // Gated RMSNorm per value head: RMSNorm(o_h) * w_norm * silu(z_h).
    rms_norm(o.data(), o.data(), n * hv, d, w.norm.data(), c.norm_eps);
    silu(z.data(), z.data(), n * v_len);
    mul(o.data(), z.data(), o.data(), n * v_len);
    linear(pool, w.out, {}, o.data(), n, out);
}

void gated_attention_block(ForwardPass& pass, int layer, const AttentionWeights& w,
                           const AttentionConfig& c, const float* xn, float* out) {
    ThreadPool& pool = pass.pool();
    const int64_t n = pass.n_tokens();
    const int64_t hd = c.head_dim_k;
    const int64_t q_len = c.n_head * hd;
    const int64_t k_len = c.n_head_kv * hd;
    const int64_t v_len = c.n_head_kv * c.head_dim_v;

    std::vector<float> qg(size_t(n * 2 * q_len)), k(size_t(n * k_len)), v(size_t(n * v_len));
    {
        Activations x(pool, xn, n, w.wq.n_cols);
        matmul_group(pool, {{&w.wq, qg.data()}, {&w.wk, k.data()}, {&w.wv, v.data()}}, x);
    }
    // Per head, the projection holds the query and then its output gate.
    std::vector<float> q(size_t(n * q_len)), gate(q.size());
    for (int64_t r = 0; r < n; ++r) {
        for (int64_t h = 0; h < c.n_head; ++h) {
            const float* src = qg.data() + (r * c.n_head + h) * 2 * hd;
            std::copy(src, src + hd, q.data() + (r * c.n_head + h) * hd);
            std::copy(src + hd, src + 2 * hd, gate.data() + (r * c.n_head + h) * hd);
        }
    }
    rms_norm(q.data(), q.data(), n * c.n_head, hd, w.q_norm.data(), c.qk_norm_eps);
    rms_norm(k.data(), k.data(), n * c.n_head_kv, hd, w.k_norm.data(), c.qk_norm_eps);
    if (c.use_rope) {
        const ForwardPass::RopeTables& t = pass.rope_tables(c.rope);
        const int64_t half = c.rope.n_dims / 2;
        for (int64_t r = 0; r < n; ++r) {
            const float* cs = t.cos.data() + r * half;
            const float* sn = t.sin.data() + r * half;
            rope_apply(c.rope, q.data() + r * q_len, c.n_head, hd, cs, sn);
            rope_apply(c.rope, k.data() + r * k_len, c.n_head_kv, hd, cs, sn);
        }
    }
    const KvLayerView kv = pass.state().key_values(layer);
    for (int64_t r = 0; r < n; ++r) {
        kv_store(kv, pass.seq(r), pass.pos(r), k.data() + r * k_len, v.data() + r * v_len);
    }
    std::vector<float> heads(size_t(n * c.n_head * c.head_dim_v));
    attention(pool, kv, pass.attention_rows(), c, q.data(), heads.data());
    for (size_t i = 0; i < heads.size(); ++i) heads[i] *= sigmoid(gate[i]);
    linear(pool, w.wo, w.bo, heads.data(), n, out);
}

}  // namespace mmojo
