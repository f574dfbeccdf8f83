// The sampler chain that turns a row of logits into the next token, in llama.cpp's default
// order: penalties (repeat/presence/frequency over the last N tokens), top-k, typical-p,
// top-p, min-p, temperature, then a seeded random draw. temperature <= 0 is greedy (argmax,
// lowest id on ties).
#pragma once

#include <cstdint>
#include <random>
#include <stdexcept>
#include <utility>
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
    // Added to a token's logit before anything else (-infinity: never picked), as
    // llama.cpp's logit-bias sampler. Ids must be in [0, n_vocab).
    std::vector<std::pair<int32_t, float>> logit_bias;
};

// A rule about which tokens may come next (a grammar, grammar_sampler.h). The sampler
// asks about single candidates first and for the whole vocabulary only when needed.
class TokenConstraint {
public:
    virtual ~TokenConstraint() = default;
    virtual bool allows(int32_t token) = 0;
    // mask[id] = 1 for allowed tokens, 0 otherwise (resized to n_vocab).
    virtual void allowed(std::vector<uint8_t>& mask) = 0;
    // The same when it is cheap (a bounded amount of work `effort`); false otherwise.
    virtual bool allowed_if_cheap(std::vector<uint8_t>& mask, size_t effort) {
        (void)mask;
        (void)effort;
        return false;
    }
};

// Thrown by Sampler::sample when the constraint allows no token at all.
class NoAllowedToken : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct TokenProb {
    int32_t id;
    float prob;
};

// Logit biases, penalties, then the filters, then the draw; each step follows llama.cpp's
// sampler of the same name:
//  - penalties over the last repeat_last_n accepted tokens (prompt and generated): a token
//    seen c > 0 times gets logit /= repeat_penalty if the logit is > 0, else *= it; then
//    logit -= c * frequency_penalty + presence_penalty.
//  - top-k keeps the k highest logits; typical-p keeps the tokens whose surprisal is closest
//    to the entropy until their probabilities add up to more than p; top-p keeps the most
//    likely tokens until they add up to at least p; min-p drops tokens with
//    p < min_p * p_max. Each keeps at least min_keep tokens and works on the distribution
//    at temperature 1.
//  - temperature divides the remaining logits, softmax gives the final distribution.
//  - the draw: u = rng() / 2^32 from std::mt19937 seeded with `seed` (a std::random_device
//    value when seed is 0xFFFFFFFF), then the first candidate, in order of decreasing
//    probability (lower id first on ties), whose cumulative probability exceeds u.
// Greedy (temperature <= 0): the highest penalized logit, lowest id on ties.
// Memory: everything is allocated in the constructor (n_vocab candidates and the penalty
// window); sample() and accept() do not allocate, except that repeat_last_n = -1 keeps the
// whole history in a growing vector.
class Sampler {
public:
    Sampler(const SamplingParams& params, int32_t n_vocab);
    // Picks a token from n_vocab logits (not modified). Fills `probs` (if not null) with the
    // n_probs most likely candidates after the chain with their final probabilities, as
    // llama-server reports them with post_sampling_probs (greedy: the pick with 1, then the
    // next most likely with 0).
    //
    // With a constraint, disallowed tokens are removed after the biases and penalties and
    // before the filters, so the result is the chain run on the allowed tokens alone. The
    // mask comes first when the constraint can give it cheaply (a grammar state that allows
    // few first bytes). Otherwise, when only the best candidates matter (greedy, or top-k),
    // those are checked one by one in order of logit and the whole-vocabulary mask is
    // computed only if too few of the best 4k (at least 64) pass.
    int32_t sample(const float* logits, std::vector<TokenProb>* probs = nullptr,
                   TokenConstraint* constraint = nullptr);
    // Probability of the last sampled token in the final distribution (1 when greedy).
    float last_prob() const { return last_prob_; }
    // Records a token (prompt or generated) for the penalties. Throws std::out_of_range for
    // an id outside [0, n_vocab).
    void accept(int32_t token);
    // Forgets the history and restarts the random sequence from the seed.
    void reset();
    const SamplingParams& params() const { return params_; }
    uint32_t seed() const { return seed_; }
    int32_t n_vocab() const { return n_vocab_; }

private:
    struct Candidate { int32_t id; float logit; float p; float aux; };  // aux: typical-p distance
    void fill(const float* logits);
    size_t constrain(const float* logits, TokenConstraint& constraint, bool& sorted);
    size_t compact_allowed(bool& sorted);
    void apply_penalties();
    void sort_candidates(size_t n);
    void softmax(size_t n);
    size_t typical(size_t n);

    SamplingParams params_;
    int32_t n_vocab_;
    uint32_t seed_;
    std::mt19937 rng_;
    std::vector<int32_t> window_;        // ring buffer of the last repeat_last_n tokens
    size_t window_head_ = 0;             // next write position once the ring is full
    std::vector<int32_t> counts_;        // occurrences of each id in window_
    std::vector<Candidate> candidates_;  // reused between calls: no per-token allocation
    float last_prob_ = 0.0f;
    std::vector<uint8_t> mask_;          // constraint mask, sized on first use
};

// Softmax over the raw logits (nothing of the chain), its n most likely tokens in order
// (lower id first on ties): llama-server's n_probs with post_sampling_probs = false.
void raw_top_probs(const float* logits, int32_t n_vocab, int32_t n, std::vector<TokenProb>& out);

}  // namespace mmojo
