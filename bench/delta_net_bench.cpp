// delta_net_bench: the gated delta rule over a prompt (ops/delta_net.h), token by token
// (the recurrent form generation uses) against the chunked form prompts use.
//
//   delta_net_bench [-n TOKENS] [-t THREADS] [-c CHUNK] [-r RUNS]
//
// Shapes of Qwen3.5's linear-attention layers (16 key and 16 value heads of 128; Qwen3.5-0.8B
// and -2B); one layer, random L2-normalized q and k, decays in (0.6, 1). The two forms run
// alternately, -r times each after a warm-up, so machine load hits both alike; prints the
// median time of each, tokens/s, the ratio, and the largest output difference. Kernels of
// the best level this CPU has.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "ops/delta_net.h"

using namespace mmojo;

int main(int argc, char** argv) {
    int64_t n = 2048, chunk = 64;
    int threads = 2, runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const long v = std::strtol(argv[i + 1], nullptr, 10);
        if (a == "-n") n = v;
        else if (a == "-t") threads = int(v);
        else if (a == "-c") chunk = v;
        else if (a == "-r") runs = int(v);
        else {
            std::fprintf(stderr, "usage: delta_net_bench [-n TOKENS] [-t THREADS] [-c CHUNK] [-r RUNS]\n");
            return 2;
        }
    }
    const DeltaNetShape shape{16, 16, 128};
    const int64_t d = shape.head_dim, row_qk = shape.n_k_heads * d, row_v = shape.n_v_heads * d;
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> decay(0.6f, 1.0f), unit(0.0f, 1.0f);
    std::vector<float> q(size_t(n * row_qk)), k(q.size()), v(size_t(n * row_v)), g(size_t(n * shape.n_v_heads)),
        beta(g.size());
    for (std::vector<float>* x : {&q, &k}) {
        for (float& f : *x) f = normal(rng);
        for (int64_t r = 0; r < n * shape.n_k_heads; ++r) {
            float s = 0.0f;
            for (int64_t i = 0; i < d; ++i) s += (*x)[size_t(r * d + i)] * (*x)[size_t(r * d + i)];
            for (int64_t i = 0; i < d; ++i) (*x)[size_t(r * d + i)] /= std::sqrt(s);
        }
    }
    for (float& f : v) f = normal(rng);
    for (float& f : g) f = std::log(decay(rng));
    for (float& f : beta) f = unit(rng);

    select_kernels(detect_cpu_level());
    std::printf("kernels: %s\n", cpu_level_name(detect_cpu_level()));
    ThreadPool pool(threads);
    const DeltaNetInput in{q.data(), k.data(), v.data(), g.data(), beta.data(), n};
    std::vector<float> state(size_t(shape.state_floats())), out_r(size_t(n * row_v)), out_c(out_r.size());
    auto time_ms = [&](bool chunked) {
        std::fill(state.begin(), state.end(), 0.0f);
        const auto t0 = std::chrono::steady_clock::now();
        if (chunked) {
            delta_net_chunked(pool, shape, in, chunk, state.data(), out_c.data());
        } else {
            // Generation's path: one call per token, as a pass of one row makes it.
            for (int64_t t = 0; t < n; ++t) {
                const DeltaNetInput one{q.data() + t * row_qk, k.data() + t * row_qk, v.data() + t * row_v,
                                        g.data() + t * shape.n_v_heads, beta.data() + t * shape.n_v_heads, 1};
                delta_net_recurrent(pool, shape, one, state.data(), out_r.data() + t * row_v);
            }
        }
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    time_ms(false);
    time_ms(true);
    std::vector<double> tr, tc;
    for (int r = 0; r < runs; ++r) {
        tr.push_back(time_ms(false));
        tc.push_back(time_ms(true));
    }
    std::sort(tr.begin(), tr.end());
    std::sort(tc.begin(), tc.end());
    const double mr = tr[tr.size() / 2], mc = tc[tc.size() / 2];
    double diff = 0.0;
    for (size_t i = 0; i < out_r.size(); ++i) diff = std::max(diff, double(std::fabs(out_r[i] - out_c[i])));
    std::printf("delta rule, %lld tokens, 16+16 heads of 128, %d threads, chunk %lld (median of %d)\n",
                static_cast<long long>(n), threads, static_cast<long long>(chunk), runs);
    std::printf("  token by token: %8.2f ms  %8.0f tokens/s\n", mr, double(n) / mr * 1e3);
    std::printf("  chunked:        %8.2f ms  %8.0f tokens/s\n", mc, double(n) / mc * 1e3);
    std::printf("  chunked / token-by-token speed: %.2fx   max |output difference| %.2e\n", mr / mc, diff);
    return 0;
}
