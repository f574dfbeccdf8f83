// Slots and continuous batching. One scheduler thread owns the inference Context; each of
// the -np slots owns one sequence of it. At every step the scheduler builds one Batch with
// the next token of every generating slot plus prompt chunks of newly started requests,
// decodes it once, samples per slot and pushes the text back through each task's channel.
// A request that arrives mid-generation joins at the next step. A cancelled task (its
// client went away) frees its slot at the next step.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "model/model.h"
#include "sampling/reasoning_budget.h"
#include "server/api_types.h"
#include "server/errors.h"

namespace mmojo {

class Context;
struct Batch;
struct TokenVocabulary;

// One generated token with its probabilities, for completion_probabilities / logprobs.
struct TokenProbs {
    int32_t id = 0;
    std::string piece;
    float value = 0;    // logprob (post_sampling_probs false) or probability (true)
    std::vector<std::pair<int32_t, float>> top;   // candidates, best first, same unit
};

struct TaskTimings {
    int32_t prompt_n = 0;          // prompt tokens evaluated (cached ones excluded)
    double prompt_ms = 0;
    int32_t predicted_n = 0;
    double predicted_ms = 0;
};

struct TaskEvent {
    enum class Kind { kPartial, kFinal, kProgress, kError };
    Kind kind = Kind::kPartial;
    int32_t index = 0;                // Task::index of the task it belongs to
    std::string text;                 // partial: new text; final: the whole content
    std::vector<int32_t> tokens;      // tokens behind `text` (final: all generated)
    std::vector<TokenProbs> probs;    // partial: probabilities of `tokens`
    // Final event fields.
    std::string stop_type;            // "eos", "limit", "word", "none"
    std::string stopping_word;
    bool truncated = false;
    int32_t n_prompt = 0;             // prompt tokens of the request
    int32_t n_cached = 0;             // prompt tokens taken from the slot's cache
    int32_t slot_id = -1;
    TaskTimings timings;
    std::vector<std::vector<float>> embedding;   // embedding tasks: pooled row(s)
    // Progress event: prompt processing so far.
    int32_t progress_total = 0, progress_cache = 0, progress_processed = 0;
    double progress_ms = 0;
    // Error event.
    ErrorType error_type = ErrorType::kServer;
};

// Events from the scheduler to one HTTP handler; the handler may cancel.
class TaskChannel {
public:
    void push(TaskEvent event);
    // Waits up to `timeout` for the next event.
    std::optional<TaskEvent> pop(std::chrono::milliseconds timeout);
    void cancel() { cancelled_.store(true); }
    bool cancelled() const { return cancelled_.load(); }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<TaskEvent> events_;
    std::atomic<bool> cancelled_{false};
};

struct Task {
    enum class Type { kCompletion, kEmbedding };
    Type type = Type::kCompletion;
    int32_t id = 0;                  // set by submit()
    int32_t index = 0;               // position among the prompts of one request
    std::vector<int32_t> prompt;
    // A prompt length (< prompt.size()) the next request is likely to share: where a chat's
    // history ends and the generation prompt starts. Models with recurrent layers keep a
    // state checkpoint there (0: none).
    size_t checkpoint_at = 0;
    GenerationParams params;
    Pooling pooling = Pooling::kMean;
    bool normalize = true;           // L2-normalize embeddings
    // Chat: control tokens whose text the output keeps (a tool-call format's markers, e.g.
    // gpt-oss' <|channel|>), sorted; other control tokens print nothing, as before.
    std::vector<int32_t> preserved_tokens;
    ReasoningBudgetParams reasoning;  // --reasoning-budget
    // Several tasks of one request may share a channel; events carry `index`.
    std::shared_ptr<TaskChannel> channel = std::make_shared<TaskChannel>();
};

struct SchedulerOptions {
    int32_t n_slots = 1;
    int32_t batch_sleep_ms = 0;
    int32_t n_batch = 512;           // tokens per decode
    int32_t n_predict_max = -1;      // server-wide cap (-n), -1: none
    // false (--no-cont-batching): a new prompt is evaluated only in a step where no slot
    // generates, instead of joining the running batch.
    bool cont_batching = true;
    bool verbose = false;            // -v: one line per task start and end on stderr
};

// Counters for /metrics.
struct SchedulerMetrics {
    uint64_t prompt_tokens_total = 0;
    double prompt_seconds_total = 0;
    uint64_t tokens_predicted_total = 0;
    double tokens_predicted_seconds_total = 0;
    uint64_t n_decode_total = 0;
    uint64_t n_busy_slots_total = 0;    // summed over decodes
    uint64_t requests_total = 0;
    int32_t requests_processing = 0;
    int32_t requests_deferred = 0;
    uint64_t kv_cache_tokens = 0;
    uint64_t n_ctx = 0;
};

class Scheduler {
public:
    Scheduler(Context& context, const SchedulerOptions& options);
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Queues a task; its events arrive on task->channel.
    void submit(const std::shared_ptr<Task>& task);
    void stop();

    int32_t n_slots() const { return options_.n_slots; }
    int32_t n_ctx_slot() const;
    SchedulerMetrics metrics() const;
    // A snapshot of every slot, for GET /slots.
    std::vector<SlotResponse> slots() const;

private:
    struct Slot;
    void loop();
    void assign_pending();              // under mutex_
    bool step();                        // one decode; false when idle
    void start_task(Slot& slot, std::shared_ptr<Task> task);
    void emit(Slot& slot, TaskEvent event);
    // The one way a task leaves its slot: counts it in the metrics (`count` adds figures
    // under the same lock), sends `event` when there is one, and frees the slot, forgetting
    // its sequence when `clear_sequence`.
    void release(Slot& slot, std::optional<TaskEvent> event, bool clear_sequence,
                 const std::function<void(SchedulerMetrics&)>& count = nullptr);
    void finish(Slot& slot, TaskEvent final_event);
    void fail(Slot& slot, ErrorType type, const std::string& message);
    void handle_token(Slot& slot, const float* logits);
    void handle_prompt_done(Slot& slot);
    void add_prompt_chunks(Batch& batch, int& n_outputs, std::vector<Slot*>& in_batch);

    Context& ctx_;
    SchedulerOptions options_;
    std::vector<std::unique_ptr<Slot>> slots_;

    mutable std::mutex mutex_;          // guards pending_, metrics_, slot status, stop_
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Task>> pending_;
    SchedulerMetrics metrics_;
    bool stop_ = false;
    int32_t next_task_id_ = 0;
    uint64_t use_counter_ = 0;          // orders slots by last use
    // Token texts and their trie for grammars: built by the scheduler thread when the
    // first constrained request starts, then shared by all.
    std::shared_ptr<const TokenVocabulary> vocab_;
    std::thread thread_;
};

}  // namespace mmojo
