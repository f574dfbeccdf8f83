// ReasoningBudget: counts tokens between the thinking markers of the generated text.
#include "sampling/reasoning_budget.h"

#include <algorithm>

namespace mmojo {

ReasoningBudget::ReasoningBudget(const ReasoningBudgetParams& params)
    : params_(params), thinking_(params.open_at_start) {
    if (params_.budget < 0 || params_.think_start.empty() || params_.think_end.empty()) done_ = true;
}

bool ReasoningBudget::end_before_first_token() {
    if (done_ || !thinking_ || params_.budget != 0) return false;
    thinking_ = false;
    done_ = true;
    return true;
}

bool ReasoningBudget::on_token(std::string_view piece) {
    if (done_) return false;
    tail_ += piece;
    const size_t keep = std::max(params_.think_start.size(), params_.think_end.size()) + piece.size();
    if (!thinking_) {
        const size_t at = tail_.find(params_.think_start);
        if (at != std::string::npos) {
            thinking_ = true;
            used_ = 0;
            tail_.erase(0, at + params_.think_start.size());
        }
    } else {
        ++used_;
        if (tail_.find(params_.think_end) != std::string::npos) {
            thinking_ = false;
            done_ = true;
            return false;
        }
    }
    if (tail_.size() > keep) tail_.erase(0, tail_.size() - keep);
    if (thinking_ && used_ >= params_.budget) {
        thinking_ = false;
        done_ = true;
        return true;
    }
    return false;
}

}  // namespace mmojo
