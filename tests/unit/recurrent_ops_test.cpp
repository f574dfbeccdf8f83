// The recurrent ops against plain float64 definitions computed here, token after token:
//  - causal_conv1d (ops/short_conv.h) over a whole sequence in one call and in pieces of
//    1, 2, 3 and 7 tokens (the state carried between calls), against the convolution of the
//    zero-padded sequence;
//  - the gated delta rule (ops/delta_net.h), recurrent and chunked with chunks of 1, 5, 16
//    and 64 tokens over 1, 7, 64 and 150 tokens, from a non-zero state, with value heads
//    sharing key heads (4 value heads on 2 key heads), against the definition in double:
//    S <- exp(g) S;  S <- S + beta (v - S k) k^T;  o = S q / sqrt(d).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "ops/delta_net.h"
#include "ops/short_conv.h"

namespace mmojo {
namespace {

std::vector<float> random_vector(std::mt19937& rng, size_t n, float sd = 1.0f, float mean = 0.0f) {
    std::normal_distribution<float> dist(mean, sd);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

TEST(CausalConv1d, PiecesAndWholeMatchTheDefinition) {
    std::mt19937 rng(7);
    const int64_t n = 23, ch = 9, width = 4;
    const std::vector<float> x = random_vector(rng, size_t(n * ch));
    const std::vector<float> w = random_vector(rng, size_t(ch * width));
    // Definition: y_t[c] = sum_j w[c][j] x_{t + j - (width - 1)}[c], zero before the start.
    std::vector<double> expect(size_t(n * ch), 0.0);
    for (int64_t t = 0; t < n; ++t) {
        for (int64_t c = 0; c < ch; ++c) {
            for (int64_t j = 0; j < width; ++j) {
                const int64_t src = t + j - (width - 1);
                if (src >= 0) expect[size_t(t * ch + c)] += double(w[size_t(c * width + j)]) * x[size_t(src * ch + c)];
            }
        }
    }
    for (int64_t piece : {int64_t(23), int64_t(1), int64_t(2), int64_t(3), int64_t(7)}) {
        std::vector<float> state(size_t((width - 1) * ch), 0.0f), out(size_t(n * ch));
        for (int64_t t0 = 0; t0 < n; t0 += piece) {
            const int64_t m = std::min(piece, n - t0);
            causal_conv1d(x.data() + t0 * ch, m, ch, w.data(), width, state.data(), out.data() + t0 * ch);
        }
        for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], expect[i], 1e-5) << "piece " << piece << " at " << i;
        // The state is the last width - 1 inputs.
        for (int64_t r = 0; r < width - 1; ++r) {
            for (int64_t c = 0; c < ch; ++c) {
                EXPECT_EQ(state[size_t(r * ch + c)], x[size_t((n - (width - 1) + r) * ch + c)]);
            }
        }
    }
}

struct DeltaInputs {
    DeltaNetShape shape;
    int64_t n;
    std::vector<float> q, k, v, g, beta, state0;
};

DeltaInputs make_inputs(int64_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    DeltaInputs in;
    in.shape = {2, 4, 16};
    in.n = n;
    const int64_t d = in.shape.head_dim;
    in.q = random_vector(rng, size_t(n * 2 * d));
    in.k = random_vector(rng, size_t(n * 2 * d));
    // q and k L2-normalized per head, as the model hands them over.
    for (std::vector<float>* x : {&in.q, &in.k}) {
        for (int64_t r = 0; r < n * 2; ++r) {
            double s = 0.0;
            for (int64_t i = 0; i < d; ++i) s += double((*x)[size_t(r * d + i)]) * (*x)[size_t(r * d + i)];
            for (int64_t i = 0; i < d; ++i) (*x)[size_t(r * d + i)] = float((*x)[size_t(r * d + i)] / std::sqrt(s));
        }
    }
    in.v = random_vector(rng, size_t(n * 4 * d));
    in.g = random_vector(rng, size_t(n * 4), 0.3f, -0.3f);
    for (float& g : in.g) g = -std::fabs(g);
    in.beta = random_vector(rng, size_t(n * 4), 0.3f, 0.5f);
    for (float& b : in.beta) b = std::clamp(b, 0.0f, 1.0f);
    in.state0 = random_vector(rng, size_t(in.shape.state_floats()), 0.2f);
    return in;
}

// The definition in double: returns the outputs, updates `state`.
std::vector<double> delta_reference(const DeltaInputs& in, std::vector<double>& S) {
    const int64_t d = in.shape.head_dim, hv = in.shape.n_v_heads, hk = in.shape.n_k_heads;
    std::vector<double> out(size_t(in.n * hv * d));
    for (int64_t t = 0; t < in.n; ++t) {
        for (int64_t h = 0; h < hv; ++h) {
            const float* q = &in.q[size_t((t * hk + h % hk) * d)];
            const float* k = &in.k[size_t((t * hk + h % hk) * d)];
            const float* v = &in.v[size_t((t * hv + h) * d)];
            double* Sh = &S[size_t(h * d * d)];
            const double decay = std::exp(double(in.g[size_t(t * hv + h)]));
            const double beta = in.beta[size_t(t * hv + h)];
            for (int64_t i = 0; i < d * d; ++i) Sh[i] *= decay;
            for (int64_t j = 0; j < d; ++j) {
                double sk = 0.0;
                for (int64_t i = 0; i < d; ++i) sk += Sh[j * d + i] * k[i];
                const double delta = beta * (v[j] - sk);
                for (int64_t i = 0; i < d; ++i) Sh[j * d + i] += delta * k[i];
                double o = 0.0;
                for (int64_t i = 0; i < d; ++i) o += Sh[j * d + i] * q[i];
                out[size_t((t * hv + h) * d + j)] = o / std::sqrt(double(d));
            }
        }
    }
    return out;
}

TEST(DeltaNet, RecurrentAndChunkedMatchTheDefinition) {
    ThreadPool pool(2);
    for (int64_t n : {int64_t(1), int64_t(7), int64_t(64), int64_t(150)}) {
        const DeltaInputs in = make_inputs(n, uint32_t(n));
        // The op keeps each head's S transposed (row i: key dimension i); S here is [h][j][i].
        const int64_t d = in.shape.head_dim;
        auto transpose = [&](const auto& from, auto& to) {
            for (int64_t h = 0; h < in.shape.n_v_heads; ++h) {
                for (int64_t a = 0; a < d; ++a) {
                    for (int64_t b = 0; b < d; ++b) to[size_t((h * d + a) * d + b)] = from[size_t((h * d + b) * d + a)];
                }
            }
        };
        std::vector<double> S(in.state0.size());
        transpose(in.state0, S);
        const std::vector<double> expect = delta_reference(in, S);
        const DeltaNetInput input{in.q.data(), in.k.data(), in.v.data(), in.g.data(), in.beta.data(), n};
        auto check = [&](const std::vector<float>& out, const std::vector<float>& state, const char* what) {
            double worst = 0.0, worst_state = 0.0;
            for (size_t i = 0; i < out.size(); ++i) worst = std::max(worst, std::fabs(out[i] - expect[i]));
            std::vector<double> St(S.size());
            transpose(S, St);
            for (size_t i = 0; i < state.size(); ++i) worst_state = std::max(worst_state, std::fabs(state[i] - St[i]));
            EXPECT_LT(worst, 2e-4) << what << ", " << n << " tokens";
            EXPECT_LT(worst_state, 2e-4) << what << ", " << n << " tokens (state)";
        };
        std::vector<float> state = in.state0, out(size_t(n * 4 * 16));
        delta_net_recurrent(pool, in.shape, input, state.data(), out.data());
        check(out, state, "recurrent");
        for (int64_t chunk : {int64_t(1), int64_t(5), int64_t(16), int64_t(64)}) {
            state = in.state0;
            std::fill(out.begin(), out.end(), 0.0f);
            delta_net_chunked(pool, in.shape, input, chunk, state.data(), out.data());
            check(out, state, ("chunks of " + std::to_string(chunk)).c_str());
        }
    }
}

}  // namespace
}  // namespace mmojo
