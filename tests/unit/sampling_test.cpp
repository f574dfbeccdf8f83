// Sampler (src/sampling/sampler.cpp) properties that need no numpy: seeded reproducibility,
// greedy tie-breaking, the penalty window, reporting, and no allocation per sampled token.
// The step-by-step comparison with an independent numpy chain and the chi-square test of the
// draws are in tests/integration/test_sampler.py.
#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <random>
#include <stdexcept>
#include <vector>

// Counts every allocation made through operator new in this program, so that a test can
// check that sample() and accept() make none.
static std::atomic<long> g_allocations{0};

// GCC pairs the inlined malloc/free with new/delete and warns; they do match here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
    ++g_allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    ++g_allocations;
    return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace mmojo {
namespace {

std::vector<float> random_logits(int n, uint32_t seed, float scale = 2.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
}

std::vector<int32_t> draw(Sampler& s, const std::vector<float>& logits, int n) {
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) {
        int32_t id = s.sample(logits.data());
        s.accept(id);
        out.push_back(id);
    }
    return out;
}

TEST(Sampler, SameSeedSameTokens) {
    SamplingParams p;  // llama.cpp defaults: temp 0.8, top-k 40, top-p 0.95, min-p 0.05
    p.seed = 1234;
    p.repeat_penalty = 1.1f;
    auto logits = random_logits(1000, 5, 1.0f);
    Sampler a(p, 1000), b(p, 1000);
    EXPECT_EQ(a.seed(), 1234u);
    auto ta = draw(a, logits, 200);
    auto tb = draw(b, logits, 200);
    EXPECT_EQ(ta, tb);
    // reset() restarts both the history and the random sequence.
    a.reset();
    EXPECT_EQ(draw(a, logits, 200), ta);
    p.seed = 1235;
    Sampler c(p, 1000);
    EXPECT_NE(draw(c, logits, 200), ta);
}

TEST(Sampler, RandomSeedWhenAllOnes) {
    SamplingParams p;
    p.seed = 0xFFFFFFFFu;
    // Two random seeds are equal with probability 2^-32; five in a row cannot all be.
    bool differ = false;
    for (int i = 0; i < 5 && !differ; ++i) {
        Sampler a(p, 10), b(p, 10);
        differ = a.seed() != b.seed();
    }
    EXPECT_TRUE(differ);
}

TEST(Sampler, GreedyIsArgmaxLowestIdOnTies) {
    SamplingParams p;
    p.temperature = 0.0f;
    p.n_probs = 3;
    std::vector<float> logits = {1.0f, 5.0f, -2.0f, 5.0f, 4.0f};
    Sampler s(p, 5);
    std::vector<TokenProb> probs;
    EXPECT_EQ(s.sample(logits.data(), &probs), 1);
    ASSERT_EQ(probs.size(), 3u);
    EXPECT_EQ(probs[0].id, 1);
    EXPECT_EQ(probs[0].prob, 1.0f);
    EXPECT_EQ(probs[1].id, 3);
    EXPECT_EQ(probs[1].prob, 0.0f);
    EXPECT_EQ(probs[2].id, 4);
    EXPECT_EQ(s.last_prob(), 1.0f);
    p.temperature = -1.0f;
    Sampler t(p, 5);
    EXPECT_EQ(t.sample(logits.data()), 1);
}

TEST(Sampler, LogitsAreNotModified) {
    SamplingParams p;
    p.repeat_penalty = 2.0f;
    p.seed = 3;
    auto logits = random_logits(100, 9);
    auto copy = logits;
    Sampler s(p, 100);
    for (int t = 0; t < 50; ++t) s.accept(t);
    s.sample(logits.data());
    EXPECT_EQ(logits, copy);
}

TEST(Sampler, RepeatPenaltyDividesPositiveAndMultipliesNegative) {
    // Greedy after penalties: token 0 (logit 3, seen) becomes 3/4 = 0.75 and loses to token
    // 1 (logit 1, unseen); token 2 (logit -1, seen) becomes -4 and token 3 (-2, unseen) stays
    // above it. Checked through the order of the reported candidates.
    SamplingParams p;
    p.temperature = 0.0f;
    p.repeat_penalty = 4.0f;
    p.n_probs = 4;
    std::vector<float> logits = {3.0f, 1.0f, -1.0f, -2.0f};
    Sampler s(p, 4);
    s.accept(0);
    s.accept(2);
    std::vector<TokenProb> probs;
    EXPECT_EQ(s.sample(logits.data(), &probs), 1);
    ASSERT_EQ(probs.size(), 4u);
    EXPECT_EQ(probs[1].id, 0);
    EXPECT_EQ(probs[2].id, 3);
    EXPECT_EQ(probs[3].id, 2);
}

TEST(Sampler, PenaltyWindowForgetsOldTokens) {
    SamplingParams p;
    p.temperature = 0.0f;
    p.presence_penalty = 10.0f;
    p.repeat_last_n = 3;
    std::vector<float> logits = {5.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    Sampler s(p, 5);
    s.accept(0);
    EXPECT_EQ(s.sample(logits.data()), 1);  // 0 penalized to -5; ties 1..4 -> lowest id
    s.accept(1);
    s.accept(2);
    EXPECT_NE(s.sample(logits.data()), 0);  // window {0, 1, 2}
    s.accept(3);                            // window {1, 2, 3}: 0 has left it
    EXPECT_EQ(s.sample(logits.data()), 0);
    p.repeat_last_n = 0;  // off
    Sampler off(p, 5);
    off.accept(0);
    EXPECT_EQ(off.sample(logits.data()), 0);
}

TEST(Sampler, ReportedProbabilitiesAreTheFinalDistribution) {
    // top-k 3 at temperature 0.5 over logits 0..4: softmax of {4, 3, 2} / 0.5.
    SamplingParams p;
    p.temperature = 0.5f;
    p.top_k = 3;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.n_probs = 5;
    p.seed = 1;
    std::vector<float> logits = {0.0f, 1.0f, 2.0f, 3.0f, 4.0f};
    Sampler s(p, 5);
    std::vector<TokenProb> probs;
    int32_t id = s.sample(logits.data(), &probs);
    ASSERT_EQ(probs.size(), 3u);
    const double z = std::exp(8.0) + std::exp(6.0) + std::exp(4.0);
    const double expect[3] = {std::exp(8.0) / z, std::exp(6.0) / z, std::exp(4.0) / z};
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(probs[size_t(i)].id, 4 - i);
        EXPECT_NEAR(probs[size_t(i)].prob, expect[i], 1e-6);
    }
    EXPECT_GE(id, 2);
    EXPECT_NEAR(s.last_prob(), expect[4 - id], 1e-6);
}

TEST(Sampler, RawTopProbsIsSoftmaxOfRawLogits) {
    auto logits = random_logits(300, 17);
    std::vector<TokenProb> top;
    raw_top_probs(logits.data(), 300, 10, top);
    ASSERT_EQ(top.size(), 10u);
    double mx = *std::max_element(logits.begin(), logits.end());
    double z = 0.0;
    for (float l : logits) z += std::exp(double(l) - mx);
    std::vector<int32_t> order(300);
    for (int i = 0; i < 300; ++i) order[size_t(i)] = i;
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[size_t(a)] > logits[size_t(b)]; });
    for (size_t i = 0; i < 10; ++i) {
        EXPECT_EQ(top[i].id, order[i]);
        EXPECT_NEAR(top[i].prob, std::exp(double(logits[size_t(order[i])]) - mx) / z, 1e-7);
    }
    raw_top_probs(logits.data(), 3, 10, top);
    EXPECT_EQ(top.size(), 3u);
}

TEST(Sampler, RejectsBadInput) {
    SamplingParams p;
    EXPECT_THROW(Sampler(p, 0), std::invalid_argument);
    Sampler s(p, 10);
    EXPECT_THROW(s.accept(10), std::out_of_range);
    EXPECT_THROW(s.accept(-1), std::out_of_range);
}

TEST(Sampler, NoAllocationPerToken) {
    for (int32_t last_n : {64, 0}) {
        SamplingParams p;
        p.seed = 7;
        p.typical_p = 0.9f;
        p.repeat_penalty = 1.2f;
        p.frequency_penalty = 0.1f;
        p.repeat_last_n = last_n;
        p.top_k = 0;  // full-vocabulary sort
        auto logits = random_logits(5000, 21);
        Sampler s(p, 5000);
        for (int i = 0; i < 100; ++i) s.accept(i);
        const long before = g_allocations.load();
        for (int i = 0; i < 200; ++i) s.accept(s.sample(logits.data()));
        EXPECT_EQ(g_allocations.load(), before) << "last_n " << last_n;
    }
}

}  // namespace
}  // namespace mmojo
