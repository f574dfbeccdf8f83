// The sampler chain of sampler.h: penalties -> top-k -> typical-p -> top-p -> min-p ->
// temperature -> seeded draw (or greedy), with the semantics of llama.cpp's samplers of the
// same names. Candidates live in one array sized n_vocab at construction; each filter
// shrinks the live prefix [0, n) of it.
#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mmojo {

namespace {

// Order of the candidate array whenever it is sorted: higher logit first, lower id on ties.
// A total order, so std::sort's result does not depend on the input order.
struct ByLogit {
    template <typename C>
    bool operator()(const C& a, const C& b) const {
        if (a.logit != b.logit) return a.logit > b.logit;
        return a.id < b.id;
    }
};

// Trie nodes a grammar may visit for a mask before the sampler prefers checking the best
// candidates one by one: states outside strings visit tens to hundreds, states inside a
// string most of a 262k vocabulary's 590k (about 100 ms).
constexpr size_t kCheapMaskEffort = 8192;

bool penalties_active(const SamplingParams& p) {
    return p.repeat_last_n != 0 &&
           (p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f);
}

}  // namespace

Sampler::Sampler(const SamplingParams& params, int32_t n_vocab) : params_(params), n_vocab_(n_vocab) {
    if (n_vocab <= 0) throw std::invalid_argument("Sampler: n_vocab must be positive, got " + std::to_string(n_vocab));
    if (params_.min_keep < 1) params_.min_keep = 1;
    seed_ = params_.seed == 0xFFFFFFFFu ? std::random_device{}() : params_.seed;
    rng_.seed(seed_);
    candidates_.resize(size_t(n_vocab));
    counts_.assign(size_t(n_vocab), 0);
    if (params_.repeat_last_n > 0) window_.reserve(size_t(params_.repeat_last_n));
}

void Sampler::reset() {
    window_.clear();
    window_head_ = 0;
    std::fill(counts_.begin(), counts_.end(), 0);
    rng_.seed(seed_);
}

void Sampler::accept(int32_t token) {
    if (token < 0 || token >= n_vocab_) {
        throw std::out_of_range("Sampler::accept: token id " + std::to_string(token) + " is outside [0, " +
                                std::to_string(n_vocab_) + ")");
    }
    if (params_.repeat_last_n == 0) return;
    if (params_.repeat_last_n < 0 || window_.size() < size_t(params_.repeat_last_n)) {
        window_.push_back(token);
    } else {
        // Ring full: overwrite the oldest entry.
        --counts_[size_t(window_[window_head_])];
        window_[window_head_] = token;
        window_head_ = (window_head_ + 1) % window_.size();
    }
    ++counts_[size_t(token)];
}

void Sampler::apply_penalties() {
    // candidates_[i].id == i here (not yet reordered). Each distinct token of the window is
    // penalized once: its count is negated while visited, then restored.
    for (int32_t t : window_) {
        int32_t c = counts_[size_t(t)];
        if (c <= 0) continue;
        float& logit = candidates_[size_t(t)].logit;
        logit = logit <= 0.0f ? logit * params_.repeat_penalty : logit / params_.repeat_penalty;
        logit -= float(c) * params_.frequency_penalty + params_.presence_penalty;
        counts_[size_t(t)] = -c;
    }
    for (int32_t t : window_) {
        if (counts_[size_t(t)] < 0) counts_[size_t(t)] = -counts_[size_t(t)];
    }
}

void Sampler::sort_candidates(size_t n) { std::sort(candidates_.begin(), candidates_.begin() + ptrdiff_t(n), ByLogit()); }

void Sampler::softmax(size_t n) {
    float max_logit = -INFINITY;
    for (size_t i = 0; i < n; ++i) max_logit = std::max(max_logit, candidates_[i].logit);
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
        float e = std::exp(candidates_[i].logit - max_logit);
        candidates_[i].p = e;
        sum += e;
    }
    for (size_t i = 0; i < n; ++i) candidates_[i].p = float(candidates_[i].p / sum);
}

// Locally typical sampling: the candidates whose surprisal -log p is closest to the entropy
// (distance in `aux`, ties: lower id), until their probabilities add up to more than
// typical_p. Input: sorted with probabilities. Output: the kept ones, sorted by logit again.
size_t Sampler::typical(size_t n) {
    double entropy = 0.0;
    for (size_t i = 0; i < n; ++i) {
        double p = candidates_[i].p;
        if (p > 0.0) entropy -= p * std::log(p);
    }
    for (size_t i = 0; i < n; ++i) {
        double p = candidates_[i].p;
        candidates_[i].aux = p > 0.0 ? float(std::fabs(-std::log(p) - entropy)) : INFINITY;
    }
    std::sort(candidates_.begin(), candidates_.begin() + ptrdiff_t(n), [](const Candidate& a, const Candidate& b) {
        if (a.aux != b.aux) return a.aux < b.aux;
        return a.id < b.id;
    });
    const size_t min_keep = size_t(params_.min_keep);
    double cum = 0.0;
    size_t keep = n;
    for (size_t i = 0; i < n; ++i) {
        cum += candidates_[i].p;
        if (cum > params_.typical_p && i + 1 >= min_keep) {
            keep = i + 1;
            break;
        }
    }
    sort_candidates(keep);
    return keep;
}

// Candidates from the logits, with the biases and penalties applied; ids in order.
void Sampler::fill(const float* logits) {
    const size_t n_vocab = size_t(n_vocab_);
    for (size_t i = 0; i < n_vocab; ++i) candidates_[i] = {int32_t(i), logits[i], 0.0f, 0.0f};
    for (const auto& [id, bias] : params_.logit_bias) {
        if (id >= 0 && size_t(id) < n_vocab) candidates_[size_t(id)].logit += bias;
    }
    if (penalties_active(params_) && !window_.empty()) apply_penalties();
}

// Leaves the allowed candidates in [0, n) and returns n. `sorted` tells whether they are
// in ByLogit order (the fast path) and then n is the count the filters need.
size_t Sampler::constrain(const float* logits, TokenConstraint& constraint, bool& sorted) {
    const size_t n_vocab = size_t(n_vocab_);
    const bool greedy = params_.temperature <= 0.0f;
    const size_t want = greedy ? 1 : params_.top_k > 0 ? std::max(size_t(params_.top_k), size_t(params_.min_keep)) : 0;
    if (want > 0 && want < n_vocab) {
        if (greedy) {
            size_t best = 0;
            for (size_t i = 1; i < n_vocab; ++i) {
                if (candidates_[i].logit > candidates_[best].logit) best = i;
            }
            if (constraint.allows(candidates_[best].id)) {
                candidates_[0] = candidates_[best];
                sorted = true;
                return 1;
            }
        }
        // A restrictive state: its mask costs less than sorting out the best candidates.
        if (constraint.allowed_if_cheap(mask_, kCheapMaskEffort)) return compact_allowed(sorted);
        const size_t window = std::min(n_vocab, std::max<size_t>(want * 4, 64));
        std::nth_element(candidates_.begin(), candidates_.begin() + ptrdiff_t(window - 1), candidates_.end(), ByLogit());
        std::sort(candidates_.begin(), candidates_.begin() + ptrdiff_t(window), ByLogit());
        size_t kept = 0;
        for (size_t i = 0; i < window && kept < want; ++i) {
            if (constraint.allows(candidates_[i].id)) candidates_[kept++] = candidates_[i];
        }
        if (kept == want) {
            sorted = true;
            return kept;
        }
        fill(logits);   // the fast path moved candidates over each other
    }
    constraint.allowed(mask_);
    return compact_allowed(sorted);
}

// Moves the candidates mask_ allows to [0, n), in their current order.
size_t Sampler::compact_allowed(bool& sorted) {
    size_t n = 0;
    for (size_t i = 0; i < size_t(n_vocab_); ++i) {
        const size_t id = size_t(candidates_[i].id);
        if (id < mask_.size() && mask_[id]) candidates_[n++] = candidates_[i];
    }
    sorted = false;
    return n;
}

int32_t Sampler::sample(const float* logits, std::vector<TokenProb>* probs, TokenConstraint* constraint) {
    const size_t n_vocab = size_t(n_vocab_);
    fill(logits);

    const size_t min_keep = size_t(params_.min_keep);
    const size_t n_report = probs ? size_t(std::max(0, params_.n_probs)) : 0;
    if (probs) probs->clear();

    size_t n = n_vocab;
    bool sorted = false;
    if (constraint) {
        n = constrain(logits, *constraint, sorted);
        if (n == 0) throw NoAllowedToken("sampling: the grammar allows no token here");
    }

    if (params_.temperature <= 0.0f) {
        // Greedy: strictly greater wins, so the lowest id is kept on ties.
        size_t best = 0;
        for (size_t i = 1; i < n; ++i) {
            if (ByLogit()(candidates_[i], candidates_[best])) best = i;
        }
        last_prob_ = 1.0f;
        const int32_t pick = candidates_[best].id;
        if (n_report > 0) {
            // The pick, then the next most likely (allowed) candidates with 0.
            size_t k = std::min(n_report, n);
            std::partial_sort(candidates_.begin(), candidates_.begin() + ptrdiff_t(k), candidates_.begin() + ptrdiff_t(n),
                              ByLogit());
            for (size_t i = 0; i < k; ++i) probs->push_back({candidates_[i].id, i == 0 ? 1.0f : 0.0f});
        }
        return pick;
    }

    // top-k
    if (params_.top_k > 0) {
        size_t k = std::max(size_t(params_.top_k), min_keep);
        if (k < n) {
            std::nth_element(candidates_.begin(), candidates_.begin() + ptrdiff_t(k), candidates_.begin() + ptrdiff_t(n),
                             ByLogit());
            n = k;
        }
        sort_candidates(n);
        sorted = true;
    }

    // typical-p
    if (params_.typical_p < 1.0f && n > 1) {
        if (!sorted) sort_candidates(n);
        softmax(n);
        n = typical(n);
        sorted = true;
    }

    // top-p
    if (params_.top_p < 1.0f && n > 1) {
        if (!sorted) sort_candidates(n);
        sorted = true;
        softmax(n);
        double cum = 0.0;
        for (size_t i = 0; i < n; ++i) {
            cum += candidates_[i].p;
            if (cum >= params_.top_p && i + 1 >= min_keep) {
                n = i + 1;
                break;
            }
        }
    }

    // min-p: keep logit >= max_logit + log(min_p), i.e. p >= min_p * p_max at temperature 1.
    if (params_.min_p > 0.0f && n > 1) {
        if (!sorted) sort_candidates(n);
        sorted = true;
        float threshold = candidates_[0].logit + std::log(params_.min_p);
        size_t keep = n;
        for (size_t i = 1; i < n; ++i) {
            if (candidates_[i].logit < threshold && i >= min_keep) {
                keep = i;
                break;
            }
        }
        n = keep;
    }

    // temperature, then the final distribution in sorted order.
    if (!sorted) sort_candidates(n);
    const float inv_t = 1.0f / params_.temperature;
    if (params_.temperature != 1.0f) {
        for (size_t i = 0; i < n; ++i) candidates_[i].logit *= inv_t;
    }
    softmax(n);

    const double u = double(rng_()) * (1.0 / 4294967296.0);
    double cum = 0.0;
    size_t pick = n - 1;
    for (size_t i = 0; i < n; ++i) {
        cum += candidates_[i].p;
        if (cum > u) {
            pick = i;
            break;
        }
    }
    last_prob_ = candidates_[pick].p;
    for (size_t i = 0; i < std::min(n_report, n); ++i) probs->push_back({candidates_[i].id, candidates_[i].p});
    return candidates_[pick].id;
}

void raw_top_probs(const float* logits, int32_t n_vocab, int32_t n, std::vector<TokenProb>& out) {
    out.clear();
    if (n_vocab <= 0 || n <= 0) return;
    float max_logit = -INFINITY;
    for (int32_t i = 0; i < n_vocab; ++i) max_logit = std::max(max_logit, logits[i]);
    double sum = 0.0;
    for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(double(logits[i]) - double(max_logit));
    // Keep the n best in `out`, sorted (logit desc, id asc), by insertion: n is small.
    const size_t k = size_t(std::min(n, n_vocab));
    out.reserve(k);
    for (int32_t i = 0; i < n_vocab; ++i) {
        float l = logits[i];
        if (out.size() == k && !(l > logits[out.back().id])) continue;
        auto pos = std::find_if(out.begin(), out.end(), [&](const TokenProb& t) { return l > logits[t.id]; });
        ptrdiff_t at = pos - out.begin();
        if (out.size() == k) out.pop_back();
        out.insert(out.begin() + at, TokenProb{i, 0.0f});
    }
    for (TokenProb& t : out) t.prob = float(std::exp(double(logits[t.id]) - double(max_logit)) / sum);
}

}  // namespace mmojo
