// log_softmax over the logits (see logprobs.h).
#include "sampling/logprobs.h"

#include <algorithm>
#include <cmath>

namespace mmojo {

float log_softmax_top(const float* logits, int32_t n_vocab, int32_t id, int32_t n,
                      std::vector<std::pair<int32_t, float>>& top) {
    double max_logit = logits[0];
    for (int32_t i = 1; i < n_vocab; ++i) max_logit = std::max<double>(max_logit, logits[i]);
    double sum = 0;
    for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(double(logits[i]) - max_logit);
    const double log_sum = std::log(sum) + max_logit;
    std::vector<int32_t> ids(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; ++i) ids[size_t(i)] = i;
    const int32_t k = std::min(n, n_vocab);
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [logits](int32_t a, int32_t b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    top.clear();
    for (int32_t i = 0; i < k; ++i) {
        top.emplace_back(ids[size_t(i)], float(double(logits[ids[size_t(i)]]) - log_sum));
    }
    return float(double(logits[id]) - log_sum);
}

}  // namespace mmojo
