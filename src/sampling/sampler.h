// The sampler chain that turns a row of logits into the next token, in llama.cpp's default
// order: penalties (repeat/presence/frequency over the last N tokens), top-k, typical-p,
// top-p, min-p, temperature, then a seeded random draw. temperature <= 0 is greedy (argmax,
// lowest id on ties).
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

namespace mmojo {

struct SamplingParams {
    float temperature = 0.8f;
    int32_t top_k = 40;            // <= 0: off
    float top_p = 0.95f;           // 1: off
    float min_p = 0.05f;           // 0: off
    float typical_p = 1.0f;        // 1: off
    float repeat_penalty = 1.0f;   // 1: off
    int32_t repeat_last_n = 64;    // 0: off, -1: whole context
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    uint32_t seed = 0xFFFFFFFFu;   // 0xFFFFFFFF: a random seed
    int32_t min_keep = 1;
    int32_t n_probs = 0;           // how many candidates to report with each token
};

struct TokenProb {
    int32_t id;
    float prob;
};

class Sampler {
public:
    Sampler(const SamplingParams& params, int32_t n_vocab);
    // Picks a token from n_vocab logits (not modified). Fills `probs` (if not null) with the
    // n_probs most likely candidates after the chain, as llama-server reports them.
    int32_t sample(const float* logits, std::vector<TokenProb>* probs = nullptr);
    // Records a token (prompt or generated) for the penalties.
    void accept(int32_t token);
    void reset();
    const SamplingParams& params() const { return params_; }
    uint32_t seed() const { return seed_; }

private:
    SamplingParams params_;
    int32_t n_vocab_;
    uint32_t seed_;
    std::mt19937 rng_;
    std::deque<int32_t> history_;
    struct Candidate { int32_t id; float logit; float p; };
    std::vector<Candidate> candidates_;  // reused between calls: no per-token allocation
};

}  // namespace mmojo
