// The gated delta rule, token by token and chunk-wise (see delta_net.h).
#include "ops/delta_net.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/thread_pool.h"

namespace mmojo {

namespace {

// y += a x, one rounding per product and per sum at every kernel level (the compiler
// vectorizes it without FMA): the installed SIMD axpy fuses them, which measured no faster
// here and moved hybrid-qwen35moe-f16 by 0.006 more from llama.cpp.
void axpy(float a, const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Strides of one token's rows.
struct Rows {
    int64_t qk, v, h;
};

Rows rows_of(const DeltaNetShape& s) { return {s.n_k_heads * s.head_dim, s.n_v_heads * s.head_dim, s.n_v_heads}; }

// The state is kept transposed, St = S^T (row i: key dimension i, column j: value
// dimension j), so every product below runs along contiguous rows of St (axpy) and
// vectorizes without reordering a sum.
void recurrent_head(const DeltaNetShape& shape, const DeltaNetInput& in, int64_t h, float* St, float* out) {
    const int64_t d = shape.head_dim;
    const int64_t hk = h % shape.n_k_heads;
    const Rows r = rows_of(shape);
    const float scale = 1.0f / std::sqrt(float(d));
    std::vector<float> sk(static_cast<size_t>(d));
    for (int64_t t = 0; t < in.n_tokens; ++t) {
        const float* q = in.q + t * r.qk + hk * d;
        const float* k = in.k + t * r.qk + hk * d;
        const float* v = in.v + t * r.v + h * d;
        const float decay = std::exp(in.g[t * r.h + h]);
        const float beta = in.beta[t * r.h + h];
        float* o = out + t * r.v + h * d;
        // S <- decay S;  sk = S k
        std::fill(sk.begin(), sk.end(), 0.0f);
        for (int64_t i = 0; i < d; ++i) {
            float* row = St + i * d;
            for (int64_t j = 0; j < d; ++j) row[j] *= decay;
            axpy(k[i], row, sk.data(), d);
        }
        // d = beta (v - S k);  S <- S + d k^T;  o = S q / sqrt(d)
        for (int64_t j = 0; j < d; ++j) sk[size_t(j)] = beta * (v[j] - sk[size_t(j)]);
        std::fill(o, o + d, 0.0f);
        for (int64_t i = 0; i < d; ++i) {
            float* row = St + i * d;
            axpy(k[i], sk.data(), row, d);
            axpy(q[i] * scale, row, o, d);
        }
    }
}

// One head over all tokens, C at a time. Work buffers are per call (a few C x d floats).
void chunked_head(const DeltaNetShape& shape, const DeltaNetInput& in, int64_t C, int64_t h, float* St, float* out) {
    const int64_t d = shape.head_dim;
    const int64_t hk = h % shape.n_k_heads;
    const Rows r = rows_of(shape);
    const float scale = 1.0f / std::sqrt(float(d));
    std::vector<float> q(size_t(C * d)), k(size_t(C * d)), kt(size_t(d * C));
    std::vector<float> u(size_t(C * d)), w(size_t(C * d));   // T beta v and T beta Γ k (then d_t)
    std::vector<float> G(static_cast<size_t>(C)), gamma(static_cast<size_t>(C)), kk(size_t(C * C)), qk(size_t(C * C));

    for (int64_t t0 = 0; t0 < in.n_tokens; t0 += C) {
        const int64_t n = std::min(C, in.n_tokens - t0);
        float acc = 0.0f;
        for (int64_t t = 0; t < n; ++t) {
            const int64_t row = t0 + t;
            acc += in.g[row * r.h + h];
            G[size_t(t)] = acc;
            const float* qs = in.q + row * r.qk + hk * d;
            const float* ks = in.k + row * r.qk + hk * d;
            for (int64_t i = 0; i < d; ++i) {
                q[size_t(t * d + i)] = qs[i] * scale;
                k[size_t(t * d + i)] = ks[i];
                kt[size_t(i * C + t)] = ks[i];
            }
        }
        // Gram matrices inside the chunk, row t = sum_i x_t[i] K^T[i] (all n columns; only
        // s <= t are used), times the decay between s and t.
        std::fill(kk.begin(), kk.end(), 0.0f);
        std::fill(qk.begin(), qk.end(), 0.0f);
        for (int64_t t = 0; t < n; ++t) {
            float* kkt = &kk[size_t(t * C)];
            float* qkt = &qk[size_t(t * C)];
            for (int64_t i = 0; i < d; ++i) {
                axpy(k[size_t(t * d + i)], &kt[size_t(i * C)], kkt, t + 1);
                axpy(q[size_t(t * d + i)], &kt[size_t(i * C)], qkt, t + 1);
            }
            for (int64_t s = 0; s <= t; ++s) {
                const float decay = std::exp(G[size_t(t)] - G[size_t(s)]);
                kkt[s] *= decay;
                qkt[s] *= decay;
            }
        }
        // Forward substitution: x_t = b_t - beta_t sum_{s<t} kk[t][s] x_s for both right-hand
        // sides b = beta v (-> u) and b = beta Γ k (-> w).
        for (int64_t t = 0; t < n; ++t) {
            const int64_t row = t0 + t;
            const float beta = in.beta[row * r.h + h];
            const float gamma = std::exp(G[size_t(t)]);
            float* ut = &u[size_t(t * d)];
            float* wt = &w[size_t(t * d)];
            const float* v = in.v + row * r.v + h * d;
            for (int64_t i = 0; i < d; ++i) {
                ut[i] = beta * v[i];
                wt[i] = beta * gamma * k[size_t(t * d + i)];
            }
            for (int64_t s = 0; s < t; ++s) {
                const float a = -beta * kk[size_t(t * C + s)];
                axpy(a, &u[size_t(s * d)], ut, d);
                axpy(a, &w[size_t(s * d)], wt, d);
            }
        }
        // d_t = u_t - S_0 w_t (into u), and the part of o_t that reads S_0: Γ_t S_0 q_t.
        // Blocks of kRows tokens against one row of St at a time, so St is read n / kRows
        // times per chunk instead of n.
        constexpr int64_t kRows = 16;
        for (int64_t t = 0; t < n; ++t) gamma[size_t(t)] = std::exp(G[size_t(t)]);
        for (int64_t t = 0; t < n; ++t) std::fill_n(out + (t0 + t) * r.v + h * d, d, 0.0f);
        for (int64_t b = 0; b < n; b += kRows) {
            const int64_t e = std::min(n, b + kRows);
            for (int64_t i = 0; i < d; ++i) {
                const float* row = St + i * d;
                for (int64_t t = b; t < e; ++t) {
                    axpy(-w[size_t(t * d + i)], row, &u[size_t(t * d)], d);
                    axpy(gamma[size_t(t)] * q[size_t(t * d + i)], row, out + (t0 + t) * r.v + h * d, d);
                }
            }
        }
        // o_t += sum_{s<=t} qk[t][s] d_s.
        for (int64_t t = 0; t < n; ++t) {
            float* o = out + (t0 + t) * r.v + h * d;
            for (int64_t s = 0; s <= t; ++s) axpy(qk[size_t(t * C + s)], &u[size_t(s * d)], o, d);
        }
        // S = Γ_n S + sum_s (Γ_n / Γ_s) d_s k_s^T, i.e. row i of St gets Γ_n St[i] plus
        // sum_s (Γ_n / Γ_s) k_s[i] d_s.
        const float gamma_n = std::exp(G[size_t(n - 1)]);
        std::vector<float>& f = w;   // reuse: Γ_n / Γ_s
        for (int64_t s = 0; s < n; ++s) f[size_t(s)] = std::exp(G[size_t(n - 1)] - G[size_t(s)]);
        for (int64_t i = 0; i < d; ++i) {
            float* row = St + i * d;
            for (int64_t j = 0; j < d; ++j) row[j] *= gamma_n;
            for (int64_t s = 0; s < n; ++s) axpy(f[size_t(s)] * kt[size_t(i * C + s)], &u[size_t(s * d)], row, d);
        }
    }
}

}  // namespace

void delta_net_recurrent(ThreadPool& pool, const DeltaNetShape& shape, const DeltaNetInput& in,
                         float* state, float* out) {
    const int64_t dd = shape.head_dim * shape.head_dim;
    pool.parallel_for(shape.n_v_heads, 1, [&](int64_t begin, int64_t end, int) {
        for (int64_t h = begin; h < end; ++h) recurrent_head(shape, in, h, state + h * dd, out);
    });
}

void delta_net_chunked(ThreadPool& pool, const DeltaNetShape& shape, const DeltaNetInput& in,
                       int64_t chunk_size, float* state, float* out) {
    const int64_t dd = shape.head_dim * shape.head_dim;
    const int64_t C = std::max<int64_t>(1, chunk_size);
    pool.parallel_for(shape.n_v_heads, 1, [&](int64_t begin, int64_t end, int) {
        for (int64_t h = begin; h < end; ++h) chunked_head(shape, in, C, h, state + h * dd, out);
    });
}

}  // namespace mmojo
