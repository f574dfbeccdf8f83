// A scheduler slot: the task it runs and where that task is (shared by scheduler.cpp, which
// assigns slots and builds batches, and slot_output.cpp, which turns outputs into events).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "runtime/pooling.h"
#include "sampling/grammar_sampler.h"
#include "sampling/sampler.h"
#include "sampling/text_stream.h"
#include "server/scheduler.h"

namespace mmojo {

using SchedulerClock = std::chrono::steady_clock;

inline double ms_between(SchedulerClock::time_point a, SchedulerClock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

inline size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
    return n;
}

struct Scheduler::Slot {
    int32_t id = 0;
    std::shared_ptr<Task> task;            // null: idle
    std::vector<int32_t> cache_tokens;     // tokens whose state is in this slot's sequence
    size_t n_prompt_done = 0;              // prompt tokens in the cache
    int32_t n_cached = 0;
    bool generating = false;
    int32_t next_token = -1;               // sampled, decoded at the next step
    int32_t n_predict = -1;                // effective limit for this task
    std::unique_ptr<Sampler> sampler;
    std::unique_ptr<GrammarSampler> grammar;   // constrained output, or null
    TextStream text;                       // generated text (stop word removed)
    std::vector<int32_t> generated;
    std::vector<int32_t> pending_tokens;   // generated but not yet sent with text
    std::vector<TokenProbs> pending_probs;
    std::unique_ptr<EmbeddingPooler> pooler;
    std::unique_ptr<ReasoningBudget> reasoning;  // chat tasks with a thinking budget
    std::deque<int32_t> forced;            // tokens to emit instead of sampling (budget's end marker)
    SchedulerClock::time_point t_start, t_prompt_done;
    uint64_t last_used = 0;
    // Position of this slot's rows in the current batch's outputs.
    int out_first = 0;
    int out_count = 0;
    int n_prompt_in_batch = 0;
    SlotResponse status;                   // for /slots, guarded by Scheduler::mutex_
};

}  // namespace mmojo
