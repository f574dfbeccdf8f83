// The constrained sampler (Sampler::sample with a TokenConstraint, GrammarSampler): the
// constrained chain must pick what the plain chain picks when disallowed logits are -inf
// (llama.cpp's way of applying a grammar), on the fast path (top candidates checked one
// by one) and on the full-mask path; EOG tokens only where the grammar is complete.
#include "sampling/grammar_sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <vector>

using namespace mmojo;

namespace {

class SetConstraint : public TokenConstraint {
public:
    explicit SetConstraint(std::vector<uint8_t> ok) : ok_(std::move(ok)) {}
    bool allows(int32_t t) override {
        ++n_allows;
        return ok_[size_t(t)];
    }
    void allowed(std::vector<uint8_t>& mask) override {
        ++n_masks;
        mask = ok_;
    }
    bool allowed_if_cheap(std::vector<uint8_t>& mask, size_t) override {
        if (!cheap) return false;
        ++n_cheap;
        mask = ok_;
        return true;
    }
    bool cheap = false;   // answer the sampler's first, bounded request for the mask
    int n_allows = 0, n_masks = 0, n_cheap = 0;

private:
    std::vector<uint8_t> ok_;
};

}  // namespace

TEST(GrammarSampler, ConstrainedChainEqualsMaskedLogits) {
    const int32_t n_vocab = 3000;
    std::mt19937 rng(11);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    int fast = 0, full = 0, cheap = 0;
    for (int trial = 0; trial < 160; ++trial) {
        SamplingParams p;
        p.seed = 100 + uint32_t(trial);
        p.temperature = trial % 4 == 0 ? 0.0f : 0.9f;
        p.top_k = trial % 3 == 0 ? 0 : 40;
        p.top_p = trial % 5 == 0 ? 1.0f : 0.9f;
        p.min_p = trial % 2 ? 0.05f : 0.0f;
        p.repeat_penalty = 1.1f;
        std::vector<float> logits(static_cast<size_t>(n_vocab));
        for (auto& l : logits) l = normal(rng);
        // Dense (most allowed), sparse (a few), or one token.
        const int density = trial % 3 == 0 ? 95 : trial % 3 == 1 ? 2 : 0;
        std::vector<uint8_t> ok(static_cast<size_t>(n_vocab), 0);
        for (auto& o : ok) o = int(rng() % 100) < density;
        ok[size_t(rng() % uint32_t(n_vocab))] = 1;
        std::vector<float> masked = logits;
        for (size_t i = 0; i < masked.size(); ++i) {
            if (!ok[i]) masked[i] = -INFINITY;
        }
        Sampler a(p, n_vocab), b(p, n_vocab);
        for (int32_t t : {5, 17, 5}) {
            a.accept(t);
            b.accept(t);
        }
        SetConstraint c(ok);
        c.cheap = trial % 4 == 1;
        const int32_t got = a.sample(logits.data(), nullptr, &c);
        const int32_t want = b.sample(masked.data());
        EXPECT_EQ(got, want) << "trial " << trial;
        EXPECT_TRUE(ok[size_t(got)]);
        (c.n_cheap ? cheap : c.n_masks ? full : fast) += 1;
    }
    EXPECT_GT(fast, 10);
    EXPECT_GT(full, 20);
    EXPECT_GT(cheap, 20);
}

TEST(GrammarSampler, NoAllowedTokenThrows) {
    SamplingParams p;
    Sampler s(p, 10);
    SetConstraint none(std::vector<uint8_t>(10, 0));
    std::vector<float> logits(10, 0.0f);
    EXPECT_THROW(s.sample(logits.data(), nullptr, &none), NoAllowedToken);
}

TEST(GrammarSampler, GrammarOverAVocabulary) {
    // ids: 0 EOS, 1 "{", 2 "}", 3 "\"", 4 "a", 5 "ab", 6 "{}", 7 "" (control), 8 ":", 9 "1"
    auto vocab = TokenVocabulary::from_pieces({"", "{", "}", "\"", "a", "ab", "{}", "", ":", "1"},
                                              {1, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    auto g = Grammar::parse("root ::= \"{\" (\"\\\"\" [ab]+ \"\\\":\" [0-9])? \"}\"\n");
    GrammarSampler gs(g, vocab);
    std::vector<uint8_t> mask;
    gs.allowed(mask);
    EXPECT_EQ(mask, (std::vector<uint8_t>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0}));
    gs.accept(1);
    gs.allowed(mask);
    EXPECT_EQ(mask, (std::vector<uint8_t>{0, 0, 1, 1, 0, 0, 0, 0, 0, 0}));
    gs.accept(3);
    gs.accept(5);
    gs.allowed(mask);
    EXPECT_EQ(mask, (std::vector<uint8_t>{0, 0, 0, 1, 1, 1, 0, 0, 0, 0}));
    gs.accept(3);
    gs.accept(8);
    gs.accept(9);
    EXPECT_FALSE(gs.allows(0));
    gs.accept(2);
    EXPECT_TRUE(gs.is_complete());
    gs.allowed(mask);
    EXPECT_EQ(mask, (std::vector<uint8_t>{1, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_THROW(gs.accept(4), GrammarError);
    // Sampling follows the grammar whatever the logits say.
    GrammarSampler again(g, vocab);
    SamplingParams p;
    p.temperature = 0.0f;
    Sampler s(p, 10);
    std::vector<float> logits = {5, 2, 9, 9.5f, 7, 6, 1, 10, 4, 3};
    std::string text;
    for (int step = 0; step < 10; ++step) {
        const int32_t t = s.sample(logits.data(), nullptr, &again);
        if (t == 0) break;
        again.accept(t);
        text += vocab->pieces[size_t(t)];
    }
    EXPECT_EQ(text, "{\"a\":1}");
}
