// Log-probabilities of the raw logits, as llama-server reports them (completion_probabilities
// and OpenAI logprobs when post_sampling_probs is off): log_softmax over the whole
// vocabulary, in double precision.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace mmojo {

// Returns log p(id) and fills `top` with the n most likely [id, log p] pairs, best first
// (ties: lower id first).
float log_softmax_top(const float* logits, int32_t n_vocab, int32_t id, int32_t n,
                      std::vector<std::pair<int32_t, float>>& top);

}  // namespace mmojo
