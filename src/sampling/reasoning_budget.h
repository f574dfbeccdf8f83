// --reasoning-budget N: a thinking block may take at most N generated tokens; then the
// generator writes the block's end marker itself (its tokens replace the next samples), so
// the model goes on to its answer. The tracker watches the generated text for the markers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mmojo {

struct ReasoningBudgetParams {
    int32_t budget = -1;               // tokens; -1: no limit
    std::string think_start, think_end;
    bool open_at_start = false;        // the prompt opened the block
    std::vector<int32_t> end_tokens;   // think_end tokenized (forced when the budget runs out)
};

class ReasoningBudget {
public:
    explicit ReasoningBudget(const ReasoningBudgetParams& params);
    // The text of the next generated token. True when the budget has just run out inside a
    // thinking block: the caller then forces end_tokens.
    bool on_token(std::string_view piece);
    bool thinking() const { return thinking_; }
    // Budget 0 with the block opened by the prompt: the end marker goes first. Call once,
    // before the first token; true means force end_tokens now.
    bool end_before_first_token();

private:
    ReasoningBudgetParams params_;
    bool thinking_ = false;
    bool done_ = false;       // the block ended (or was forced to): no more checks
    int32_t used_ = 0;
    std::string tail_;        // recent text, long enough to hold a marker
};

}  // namespace mmojo
