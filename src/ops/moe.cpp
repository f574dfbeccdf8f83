// Mixture-of-experts routing and expert products (see moe.h).
#include "ops/moe.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>

#include "ops/activation.h"
#include "base/thread_pool.h"

namespace mmojo {

namespace {

// Below this many multiply-adds a hand-off to the pool costs more than it saves.
constexpr int64_t kMinParallelWork = int64_t(1) << 16;
constexpr int64_t kRowGrain = 16;
// The smallest normal F16: llama.cpp clamps the sum of the chosen weights to it before
// dividing, so a row whose chosen probabilities are all ~0 does not divide by zero.
constexpr float kMinWeightSum = 6.103515625e-5f;

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// One matrix product of a batch: rows [0, w.n_rows) of w against n_batch converted rows.
struct Product {
    Matrix w;
    const uint8_t* xq;
    size_t xq_row_bytes;
    int64_t n_batch;
    float* y;   // n_batch rows of w.n_rows
};

// Runs every product in one hand-off to the pool: the rows of all matrices are split
// across the threads together (as matmul_group, but each product has its own activations).
void run_products(ThreadPool& pool, const std::vector<Product>& products) {
    std::vector<int64_t> first(products.size() + 1, 0);
    int64_t work = 0;
    for (size_t i = 0; i < products.size(); ++i) {
        first[i + 1] = first[i] + products[i].w.n_rows;
        work += products[i].w.n_rows * products[i].w.n_cols * products[i].n_batch;
    }
    const MatmulTileFn tile = matmul_tile();
    auto run_rows = [&](int64_t begin, int64_t end, int) {
        // the first product that ends after `begin`
        size_t i = size_t(std::upper_bound(first.begin(), first.end(), begin) - first.begin()) - 1;
        for (; i < products.size() && first[i] < end; ++i) {
            const Product& p = products[i];
            const int64_t r0 = std::max(begin, first[i]) - first[i];
            const int64_t r1 = std::min(end, first[i + 1]) - first[i];
            if (r0 < r1) tile(p.w, r0, r1, p.xq, p.xq_row_bytes, p.n_batch, p.y, p.w.n_rows);
        }
    };
    if (work < kMinParallelWork) {
        run_rows(0, first.back(), 0);
    } else {
        pool.parallel_for(first.back(), kRowGrain, run_rows);
    }
}

// gpt-oss: out = min(g, L) * sigmoid(alpha * min(g, L)) * (clamp(u, -L, L) + 1).
void swiglu_oai(const float* gate, const float* up, float* out, int64_t n, float alpha, float limit) {
    for (int64_t i = 0; i < n; ++i) {
        const float g = std::min(gate[i], limit);
        const float u = std::clamp(up[i], -limit, limit);
        out[i] = g / (1.0f + std::exp(-alpha * g)) * (u + 1.0f);
    }
}

}  // namespace

Matrix expert_slice(const Matrix& stacked, int64_t n_rows_per_expert, int64_t e) {
    Matrix m = stacked;
    m.n_rows = n_rows_per_expert;
    m.data = stacked.data + size_t(e * n_rows_per_expert) * stacked.row_bytes;
    return m;
}

void moe_route(const MoeConfig& c, const std::vector<float>& selection_bias, float* scores,
               int32_t* chosen, float* weights) {
    const int64_t n = c.n_expert;
    if (c.gating == MoeGating::kSoftmax) {
        softmax(scores, n);
    } else if (c.gating == MoeGating::kSigmoid) {
        for (int64_t e = 0; e < n; ++e) scores[e] = sigmoid(scores[e]);
    }
    std::vector<float> select(scores, scores + n);
    if (!selection_bias.empty()) {
        for (int64_t e = 0; e < n; ++e) select[size_t(e)] += selection_bias[size_t(e)];
    }
    if (c.n_groups > 1) {
        // Rank the groups by the sum of their two best selection scores; experts outside
        // the best n_groups_used groups cannot be chosen.
        const int64_t per_group = n / c.n_groups;
        std::vector<float> group_score(size_t(c.n_groups));
        for (int64_t g = 0; g < c.n_groups; ++g) {
            std::vector<float> members(select.begin() + g * per_group, select.begin() + (g + 1) * per_group);
            const size_t top = std::min<size_t>(2, members.size());
            std::partial_sort(members.begin(), members.begin() + long(top), members.end(), std::greater<float>());
            group_score[size_t(g)] = std::accumulate(members.begin(), members.begin() + long(top), 0.0f);
        }
        std::vector<int64_t> groups(size_t(c.n_groups));
        std::iota(groups.begin(), groups.end(), 0);
        std::stable_sort(groups.begin(), groups.end(),
                         [&](int64_t a, int64_t b) { return group_score[size_t(a)] > group_score[size_t(b)]; });
        for (size_t i = size_t(c.n_groups_used); i < groups.size(); ++i) {
            std::fill(select.begin() + groups[i] * per_group, select.begin() + (groups[i] + 1) * per_group,
                      -std::numeric_limits<float>::infinity());
        }
    }
    std::vector<int32_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + c.n_expert_used, order.end(), [&](int32_t a, int32_t b) {
        return select[size_t(a)] > select[size_t(b)] || (select[size_t(a)] == select[size_t(b)] && a < b);
    });
    for (int64_t j = 0; j < c.n_expert_used; ++j) {
        chosen[j] = order[size_t(j)];
        weights[j] = scores[chosen[j]];
    }
    if (c.gating == MoeGating::kSoftmaxWeight) softmax(weights, c.n_expert_used);
    if (c.normalize) {
        const float sum = std::max(std::accumulate(weights, weights + c.n_expert_used, 0.0f), kMinWeightSum);
        for (int64_t j = 0; j < c.n_expert_used; ++j) weights[j] /= sum;
    }
    if (c.scale != 0.0f && c.scale != 1.0f) {
        for (int64_t j = 0; j < c.n_expert_used; ++j) weights[j] *= c.scale;
    }
}

void moe_feed_forward(ThreadPool& pool, const MoeWeights& w, const MoeConfig& c, const float* xn,
                      int64_t n_rows, float* out) {
    const int64_t d = w.router.n_cols;
    const int64_t n_ff = w.gate.n_rows / c.n_expert;
    const int64_t k = c.n_expert_used;
    const int64_t n_pairs = n_rows * k;

    // Routing: scores of every row, then the k experts and weights of each row.
    std::vector<float> scores(size_t(n_rows * c.n_expert));
    matmul(pool, w.router, xn, n_rows, scores.data());
    std::vector<int32_t> chosen(static_cast<size_t>(n_pairs));
    std::vector<float> weights(static_cast<size_t>(n_pairs));
    for (int64_t r = 0; r < n_rows; ++r) {
        float* s = scores.data() + r * c.n_expert;
        if (!w.router_bias.empty()) add(s, w.router_bias.data(), s, c.n_expert);
        moe_route(c, w.selection_bias, s, chosen.data() + r * k, weights.data() + r * k);
    }

    // The (row, slot) pairs sorted by expert: expert e owns pairs [first[e], first[e + 1]).
    // Every matrix below has one row per pair in this order, so each expert's rows are
    // contiguous and all rows are converted to the dot type in one go.
    std::vector<int64_t> first(size_t(c.n_expert) + 1, 0);
    for (int64_t i = 0; i < n_pairs; ++i) ++first[size_t(chosen[size_t(i)]) + 1];
    for (size_t e = 0; e < size_t(c.n_expert); ++e) first[e + 1] += first[e];
    std::vector<int64_t> pair_of(static_cast<size_t>(n_pairs));   // sorted index -> row * k + slot
    {
        std::vector<int64_t> next(first.begin(), first.end() - 1);
        for (int64_t i = 0; i < n_pairs; ++i) pair_of[size_t(next[size_t(chosen[size_t(i)])]++)] = i;
    }
    std::vector<float> x(size_t(n_pairs * d));
    for (int64_t j = 0; j < n_pairs; ++j) {
        const float* src = xn + (pair_of[size_t(j)] / k) * d;
        std::copy(src, src + d, x.begin() + j * d);
    }

    // Gate and up of every chosen expert in one hand-off.
    std::vector<float> gate(size_t(n_pairs * n_ff)), up(size_t(n_pairs * n_ff));
    Activations xa(pool, x.data(), n_pairs, d);
    std::vector<Product> products;
    for (int64_t e = 0; e < c.n_expert; ++e) {
        const int64_t m = first[size_t(e) + 1] - first[size_t(e)];
        if (m == 0) continue;
        for (auto [stacked, y] : {std::pair{&w.gate, &gate}, std::pair{&w.up, &up}}) {
            Product p{expert_slice(*stacked, n_ff, e), nullptr, 0, m, y->data() + first[size_t(e)] * n_ff};
            p.xq = xa.rows(tensor_type_traits(p.w.type)->vec_dot_type, p.xq_row_bytes) +
                   size_t(first[size_t(e)]) * p.xq_row_bytes;
            products.push_back(p);
        }
    }
    run_products(pool, products);

    // Biases and the activation, then the down products in a second hand-off.
    for (int64_t e = 0; e < c.n_expert; ++e) {
        for (int64_t j = first[size_t(e)]; j < first[size_t(e) + 1]; ++j) {
            float* g = gate.data() + j * n_ff;
            float* u = up.data() + j * n_ff;
            if (!w.b_gate.empty()) add(g, w.b_gate.data() + e * n_ff, g, n_ff);
            if (!w.b_up.empty()) add(u, w.b_up.data() + e * n_ff, u, n_ff);
            if (c.activation == MoeActivation::kSwigluOai) {
                swiglu_oai(g, u, g, n_ff, c.oai_alpha, c.oai_limit);
            } else {
                swiglu(g, u, g, n_ff);
            }
        }
    }
    std::vector<float> y(size_t(n_pairs * d));
    Activations ha(pool, gate.data(), n_pairs, n_ff);
    products.clear();
    for (int64_t e = 0; e < c.n_expert; ++e) {
        const int64_t m = first[size_t(e) + 1] - first[size_t(e)];
        if (m == 0) continue;
        Product p{expert_slice(w.down, d, e), nullptr, 0, m, y.data() + first[size_t(e)] * d};
        p.xq = ha.rows(tensor_type_traits(p.w.type)->vec_dot_type, p.xq_row_bytes) +
               size_t(first[size_t(e)]) * p.xq_row_bytes;
        products.push_back(p);
    }
    run_products(pool, products);

    // out = sum over slots in order of w_slot * E(x), as llama.cpp adds them.
    std::vector<float> weighted(size_t(n_pairs * d));
    for (int64_t j = 0; j < n_pairs; ++j) {
        const int64_t pair = pair_of[size_t(j)];
        float* yj = y.data() + j * d;
        if (!w.b_down.empty()) add(yj, w.b_down.data() + chosen[size_t(pair)] * d, yj, d);
        float* dst = weighted.data() + pair * d;
        for (int64_t i = 0; i < d; ++i) dst[i] = yj[i] * weights[size_t(pair)];
    }
    for (int64_t r = 0; r < n_rows; ++r) {
        float* o = out + r * d;
        const float* row_first = weighted.data() + r * k * d;
        std::copy(row_first, row_first + d, o);
        for (int64_t j = 1; j < k; ++j) add(o, row_first + j * d, o, d);
    }
}

}  // namespace mmojo
