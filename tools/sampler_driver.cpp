// Test driver for the sampler chain (tests/integration/test_sampler.py): reads one case as
// whitespace-separated text on stdin, runs mmojo::Sampler on it and prints what the chain
// kept and what it drew, for comparison with an independent numpy implementation.
//
// Input:
//   temp top_k top_p min_p typical repeat_penalty repeat_last_n presence frequency seed min_keep
//   n_vocab  logit_0 ... logit_{n_vocab-1}
//   n_history  token ...          (accepted in order before sampling)
//   n_draws                       (draws from the same logits; history is not extended)
// Output:
//   first <id>                    the first draw
//   dist <k> <id> <p> ...         the final distribution (n_probs = n_vocab), most likely first
//   counts <id>:<count> ...       how often each id was drawn in n_draws draws
#include <cstdio>
#include <exception>
#include <iostream>
#include <algorithm>
#include <map>
#include <vector>

#include "sampling/sampler.h"

int main() {
    try {
        mmojo::SamplingParams p;
        long long seed = 0;
        if (!(std::cin >> p.temperature >> p.top_k >> p.top_p >> p.min_p >> p.typical_p >> p.repeat_penalty >>
              p.repeat_last_n >> p.presence_penalty >> p.frequency_penalty >> seed >> p.min_keep)) {
            std::fprintf(stderr, "sampler_driver: bad parameter line\n");
            return 2;
        }
        p.seed = uint32_t(seed);
        int n_vocab = 0;
        std::cin >> n_vocab;
        if (n_vocab <= 0) {
            std::fprintf(stderr, "sampler_driver: bad n_vocab\n");
            return 2;
        }
        std::vector<float> logits(static_cast<size_t>(n_vocab));
        for (float& l : logits) std::cin >> l;
        int n_history = 0;
        std::cin >> n_history;
        std::vector<int32_t> history(static_cast<size_t>(std::max(0, n_history)));
        for (int32_t& t : history) std::cin >> t;
        long n_draws = 0;
        std::cin >> n_draws;
        if (!std::cin) {
            std::fprintf(stderr, "sampler_driver: truncated input\n");
            return 2;
        }
        p.n_probs = n_vocab;

        mmojo::Sampler sampler(p, n_vocab);
        for (int32_t t : history) sampler.accept(t);
        std::vector<mmojo::TokenProb> probs;
        int32_t first = sampler.sample(logits.data(), &probs);
        std::printf("first %d\n", first);
        std::printf("dist %zu", probs.size());
        for (const mmojo::TokenProb& t : probs) std::printf(" %d %.9g", t.id, double(t.prob));
        std::printf("\n");

        std::map<int32_t, long> counts;
        ++counts[first];
        for (long i = 1; i < n_draws; ++i) ++counts[sampler.sample(logits.data())];
        std::printf("counts");
        for (const auto& [id, c] : counts) std::printf(" %d:%ld", id, c);
        std::printf("\n");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sampler_driver: %s\n", e.what());
        return 1;
    }
}
