// Continuous-batching scheduler (see scheduler.h). Only the scheduler thread touches the
// Context, the slots' sequences and samplers; HTTP threads talk to it through submit()
// and the per-task channels.
#include "server/scheduler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "runtime/context.h"
#include "sampling/sampler.h"
#include "server/sse.h"

namespace mmojo {

using Clock = std::chrono::steady_clock;

static double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

void TaskChannel::push(TaskEvent event) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        events_.push_back(std::move(event));
    }
    cv_.notify_one();
}

std::optional<TaskEvent> TaskChannel::pop(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [this] { return !events_.empty(); })) return std::nullopt;
    TaskEvent event = std::move(events_.front());
    events_.pop_front();
    return event;
}

struct Scheduler::Slot {
    int32_t id = 0;
    std::shared_ptr<Task> task;            // null: idle
    std::vector<int32_t> cache_tokens;     // tokens whose K/V are in this slot's sequence
    size_t n_prompt_done = 0;              // prompt tokens in the cache
    int32_t n_cached = 0;
    bool generating = false;
    int32_t next_token = -1;               // sampled, decoded at the next step
    int32_t n_predict = -1;                // effective limit for this task
    std::unique_ptr<Sampler> sampler;
    std::string text;                      // generated text so far (stop word removed)
    size_t n_sent = 0;                     // bytes of `text` already sent
    std::vector<int32_t> generated;
    std::vector<int32_t> pending_tokens;   // generated but not yet sent with text
    std::vector<TokenProbs> pending_probs;
    Clock::time_point t_start, t_prompt_done;
    uint64_t last_used = 0;
    // Position of this slot's rows in the current batch's outputs.
    int out_first = 0;
    int out_count = 0;
    int n_prompt_in_batch = 0;
    // Embedding accumulation.
    std::vector<double> embd_sum;
    std::vector<std::vector<float>> embd_rows;
    int32_t embd_count = 0;
    // Snapshot for /slots, guarded by Scheduler::mutex_.
    struct Status {
        bool processing = false;
        int32_t id_task = -1;
        int32_t n_decoded = 0;
        int32_t n_remain = -1;
        GenerationParams params;
    } status;
};

Scheduler::Scheduler(Context& context, const SchedulerOptions& options)
    : ctx_(context), options_(options) {
    options_.n_slots = std::max(1, options_.n_slots);
    options_.n_batch = std::max(1, options_.n_batch);
    for (int32_t i = 0; i < options_.n_slots; ++i) {
        auto slot = std::make_unique<Slot>();
        slot->id = i;
        slots_.push_back(std::move(slot));
    }
    metrics_.n_ctx = ctx_.n_ctx();
    thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

int32_t Scheduler::n_ctx_slot() const { return int32_t(ctx_.n_ctx_seq()); }

void Scheduler::submit(const std::shared_ptr<Task>& task) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        task->id = next_task_id_++;
        pending_.push_back(task);
        metrics_.requests_total += 1;
    }
    cv_.notify_all();
}

SchedulerMetrics Scheduler::metrics() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return metrics_;
}

nlohmann::json Scheduler::slots_json() const {
    std::lock_guard<std::mutex> lock(mutex_);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& slot : slots_) {
        const auto& st = slot->status;
        out.push_back({
            {"id", slot->id},
            {"id_task", st.id_task},
            {"n_ctx", n_ctx_slot()},
            {"speculative", false},
            {"is_processing", st.processing},
            {"params", generation_settings_json(st.params)},
            {"next_token",
             {{"has_next_token", st.processing},
              {"has_new_line", false},
              {"n_remain", st.n_remain},
              {"n_decoded", st.n_decoded},
              {"stopping_word", ""}}},
        });
    }
    return out;
}

static size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
    return n;
}

void Scheduler::assign_pending() {
    static uint64_t use_counter = 0;
    for (auto it = pending_.begin(); it != pending_.end();) {
        auto task = *it;
        if (task->channel->cancelled()) {
            it = pending_.erase(it);
            continue;
        }
        Slot* chosen = nullptr;
        if (task->params.id_slot >= 0 && task->params.id_slot < options_.n_slots) {
            Slot& s = *slots_[size_t(task->params.id_slot)];
            if (!s.task) chosen = &s;
        } else {
            // Prefer the idle slot that already holds the longest prefix of this prompt,
            // then the least recently used one.
            size_t best_prefix = 0;
            for (auto& s : slots_) {
                if (s->task) continue;
                const size_t prefix = task->type == Task::Type::kCompletion && task->params.cache_prompt
                                          ? common_prefix(s->cache_tokens, task->prompt) : 0;
                if (!chosen || prefix > best_prefix ||
                    (prefix == best_prefix && s->last_used < chosen->last_used)) {
                    chosen = s.get();
                    best_prefix = prefix;
                }
            }
        }
        if (!chosen) {
            ++it;
            continue;
        }
        chosen->last_used = ++use_counter;
        it = pending_.erase(it);
        start_task(*chosen, task);
    }
    metrics_.requests_deferred = int32_t(pending_.size());
}

void Scheduler::start_task(Slot& slot, std::shared_ptr<Task> task) {
    const Model& model = ctx_.model();
    slot.task = std::move(task);
    const Task& t = *slot.task;
    slot.generating = false;
    slot.next_token = -1;
    slot.text.clear();
    slot.n_sent = 0;
    slot.generated.clear();
    slot.pending_tokens.clear();
    slot.pending_probs.clear();
    slot.embd_sum.clear();
    slot.embd_rows.clear();
    slot.embd_count = 0;
    slot.t_start = Clock::now();

    size_t n_keep = 0;
    if (t.type == Task::Type::kCompletion && t.params.cache_prompt && !t.prompt.empty()) {
        // Reuse the cached prefix, but always evaluate at least the last prompt token so
        // there are logits to sample from.
        n_keep = std::min(common_prefix(slot.cache_tokens, t.prompt), t.prompt.size() - 1);
    }
    if (n_keep == 0) {
        ctx_.seq_clear(slot.id);
    } else {
        ctx_.seq_truncate(slot.id, int32_t(n_keep));
    }
    slot.cache_tokens.resize(n_keep);
    slot.n_prompt_done = n_keep;
    slot.n_cached = int32_t(n_keep);

    slot.n_predict = t.params.n_predict;
    if (options_.n_predict_max >= 0 && (slot.n_predict < 0 || slot.n_predict > options_.n_predict_max)) {
        slot.n_predict = options_.n_predict_max;
    }
    if (t.type == Task::Type::kCompletion) {
        slot.sampler = std::make_unique<Sampler>(t.params.sampling, model.tokenizer().n_vocab());
        for (int32_t tok : t.prompt) slot.sampler->accept(tok);
    }
    slot.status.processing = true;
    slot.status.id_task = t.id;
    slot.status.n_decoded = 0;
    slot.status.n_remain = slot.n_predict;
    slot.status.params = t.params;
    metrics_.requests_processing += 1;
}

void Scheduler::emit(Slot& slot, TaskEvent event) {
    event.index = slot.task->index;
    slot.task->channel->push(std::move(event));
}

void Scheduler::finish(Slot& slot, TaskEvent event) {
    const auto now = Clock::now();
    event.kind = TaskEvent::Kind::kFinal;
    event.slot_id = slot.id;
    event.n_prompt = int32_t(slot.task->prompt.size());
    event.n_cached = slot.n_cached;
    event.timings.prompt_n = event.n_prompt - slot.n_cached;
    event.timings.prompt_ms = ms_between(slot.t_start, slot.generating ? slot.t_prompt_done : now);
    event.timings.predicted_n = int32_t(slot.generated.size());
    event.timings.predicted_ms = slot.generating ? ms_between(slot.t_prompt_done, now) : 0.0;
    if (slot.task->type == Task::Type::kCompletion) {
        event.text = slot.text;
        event.tokens = slot.generated;
    }
    {
        // Counters first, so a client that reads /metrics right after its answer sees them.
        std::lock_guard<std::mutex> lock(mutex_);
        metrics_.prompt_tokens_total += uint64_t(std::max(0, int32_t(slot.task->prompt.size()) - slot.n_cached));
        metrics_.prompt_seconds_total += ms_between(slot.t_start, slot.generating ? slot.t_prompt_done : now) / 1000.0;
        metrics_.tokens_predicted_total += slot.generated.size();
        if (slot.generating) metrics_.tokens_predicted_seconds_total += ms_between(slot.t_prompt_done, now) / 1000.0;
        metrics_.requests_processing -= 1;
        slot.status.processing = false;
    }
    emit(slot, std::move(event));
    if (slot.task->type == Task::Type::kEmbedding) {
        ctx_.seq_clear(slot.id);
        slot.cache_tokens.clear();
    }
    slot.task.reset();
    slot.sampler.reset();
    slot.generating = false;
}

void Scheduler::fail(Slot& slot, ErrorType type, const std::string& message) {
    TaskEvent event;
    event.kind = TaskEvent::Kind::kError;
    event.error_type = type;
    event.text = message;
    ctx_.seq_clear(slot.id);
    slot.cache_tokens.clear();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        metrics_.requests_processing -= 1;
        slot.status.processing = false;
    }
    emit(slot, std::move(event));
    slot.task.reset();
    slot.sampler.reset();
    slot.generating = false;
}

// Log-softmax over all logits in double precision; returns the logprob of `id` and the
// n best [id, logprob] pairs (ties: lower id first).
static float raw_logprobs(const float* logits, int32_t n_vocab, int32_t id, int32_t n,
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

void Scheduler::handle_token(Slot& slot, const float* logits) {
    const Tokenizer& tok = ctx_.model().tokenizer();
    const GenerationParams& params = slot.task->params;
    const int32_t n_probs = params.sampling.n_probs;

    std::vector<TokenProb> post;
    const bool want_post = n_probs > 0 && params.post_sampling_probs;
    const int32_t id = slot.sampler->sample(logits, want_post ? &post : nullptr);
    slot.sampler->accept(id);
    slot.generated.push_back(id);
    slot.pending_tokens.push_back(id);

    const std::string piece = tok.token_to_piece(id, false);
    if (n_probs > 0) {
        TokenProbs tp;
        tp.id = id;
        tp.piece = piece;
        if (want_post) {
            tp.value = 0;
            for (const auto& c : post) {
                if (c.id == id) tp.value = c.prob;
                if (int32_t(tp.top.size()) < n_probs) tp.top.emplace_back(c.id, c.prob);
            }
        } else {
            tp.value = raw_logprobs(logits, tok.n_vocab(), id, n_probs, tp.top);
        }
        slot.pending_probs.push_back(std::move(tp));
    }

    TaskEvent final_event;
    bool done = false;
    const bool eog = tok.is_eog(id) && !params.ignore_eos;
    if (eog) {
        done = true;
        final_event.stop_type = "eos";
    } else {
        const size_t old_size = slot.text.size();
        slot.text += piece;
        size_t longest_stop = 0;
        for (const auto& s : params.stop) longest_stop = std::max(longest_stop, s.size());
        const size_t from = old_size > longest_stop ? old_size - longest_stop : 0;
        StopMatch match = find_stop(slot.text, params.stop, from);
        if (match.pos != std::string::npos) {
            slot.text.resize(match.pos);
            done = true;
            final_event.stop_type = "word";
            final_event.stopping_word = match.word;
        }
    }
    if (!done && slot.n_predict >= 0 && int32_t(slot.generated.size()) >= slot.n_predict) {
        done = true;
        final_event.stop_type = "limit";
    }
    if (!done && int32_t(slot.cache_tokens.size()) + 1 >= n_ctx_slot()) {
        // The next token would not fit this slot's share of the cache.
        done = true;
        final_event.stop_type = "limit";
        final_event.truncated = true;
    }

    // Send what is safe: whole UTF-8 characters not possibly part of a stop string.
    size_t sendable = slot.text.size();
    if (!done) {
        sendable = std::min(utf8_complete_prefix(slot.text),
                            partial_stop_start(slot.text, params.stop));
    }
    if (done || sendable > slot.n_sent) {
        TaskEvent partial;
        partial.kind = TaskEvent::Kind::kPartial;
        if (sendable > slot.n_sent) partial.text = slot.text.substr(slot.n_sent, sendable - slot.n_sent);
        partial.tokens = std::move(slot.pending_tokens);
        partial.probs = std::move(slot.pending_probs);
        slot.pending_tokens.clear();
        slot.pending_probs.clear();
        slot.n_sent = std::max(slot.n_sent, sendable);
        emit(slot, std::move(partial));
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        slot.status.n_decoded = int32_t(slot.generated.size());
        slot.status.n_remain = slot.n_predict < 0 ? -1 : slot.n_predict - slot.status.n_decoded;
    }
    if (done) {
        finish(slot, std::move(final_event));
    } else {
        slot.next_token = id;
    }
}

void Scheduler::handle_embedding_rows(Slot& slot, int first_output, int n_rows) {
    // Hidden states: the context runs in embeddings mode (--embeddings) or is an encoder.
    const size_t width = ctx_.output_size();
    const Pooling pooling = slot.task->pooling;
    for (int r = 0; r < n_rows; ++r) {
        const float* row = ctx_.output(first_output + r);
        const int32_t index = slot.embd_count++;
        if (pooling == Pooling::kNone) {
            slot.embd_rows.emplace_back(row, row + width);
        } else if (pooling == Pooling::kCls) {
            if (index == 0) slot.embd_rows.assign(1, std::vector<float>(row, row + width));
        } else if (pooling == Pooling::kLast) {
            slot.embd_rows.assign(1, std::vector<float>(row, row + width));
        } else {
            if (slot.embd_sum.empty()) slot.embd_sum.assign(width, 0.0);
            for (size_t i = 0; i < width; ++i) slot.embd_sum[i] += row[i];
        }
    }
}

bool Scheduler::step() {
    // Drop the work of clients that went away.
    for (auto& sp : slots_) {
        Slot& slot = *sp;
        if (slot.task && slot.task->channel->cancelled()) {
            std::lock_guard<std::mutex> lock(mutex_);
            metrics_.requests_processing -= 1;
            slot.status.processing = false;
            if (slot.task->type == Task::Type::kEmbedding) {
                ctx_.seq_clear(slot.id);
                slot.cache_tokens.clear();
            }
            slot.task.reset();
            slot.sampler.reset();
            slot.generating = false;
        }
    }

    Batch batch;
    int n_outputs = 0;
    std::vector<Slot*> in_batch;
    for (auto& sp : slots_) {
        Slot& slot = *sp;
        slot.out_count = 0;
        slot.n_prompt_in_batch = 0;
        if (!slot.task || !slot.generating) continue;
        batch.add(slot.next_token, int32_t(slot.cache_tokens.size()), slot.id, true);
        slot.cache_tokens.push_back(slot.next_token);
        slot.out_first = n_outputs++;
        slot.out_count = 1;
        in_batch.push_back(&slot);
    }
    int budget = options_.n_batch - int(batch.entries.size());
    bool has_prompt = false;
    for (auto& sp : slots_) {
        Slot& slot = *sp;
        if (!slot.task || slot.generating || budget <= 0) continue;
        const auto& prompt = slot.task->prompt;
        const bool embedding = slot.task->type == Task::Type::kEmbedding;
        const int n = int(std::min<size_t>(size_t(budget), prompt.size() - slot.n_prompt_done));
        if (n <= 0) continue;
        slot.out_first = n_outputs;
        for (int i = 0; i < n; ++i) {
            const size_t p = slot.n_prompt_done + size_t(i);
            const bool output = embedding || p + 1 == prompt.size();
            batch.add(prompt[p], int32_t(p), slot.id, output);
            slot.cache_tokens.push_back(prompt[p]);
            if (output) {
                ++n_outputs;
                ++slot.out_count;
            }
        }
        slot.n_prompt_in_batch = n;
        budget -= n;
        has_prompt = true;
        in_batch.push_back(&slot);
    }
    if (batch.entries.empty()) return false;

    try {
        ctx_.decode(batch);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: decode failed: %s\n", e.what());
        for (Slot* slot : in_batch) fail(*slot, ErrorType::kServer, std::string("decode failed: ") + e.what());
        return true;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        metrics_.n_decode_total += 1;
        metrics_.n_busy_slots_total += in_batch.size();
        uint64_t used = 0;
        for (auto& sp : slots_) used += sp->cache_tokens.size();
        metrics_.kv_cache_tokens = used;
    }

    for (Slot* sp : in_batch) {
        Slot& slot = *sp;
        if (!slot.task) continue;
        if (slot.generating) {
            handle_token(slot, ctx_.output(slot.out_first));
            continue;
        }
        slot.n_prompt_done += size_t(slot.n_prompt_in_batch);
        const Task& task = *slot.task;
        const bool prompt_done = slot.n_prompt_done == task.prompt.size();
        if (task.params.return_progress && task.type == Task::Type::kCompletion) {
            TaskEvent progress;
            progress.kind = TaskEvent::Kind::kProgress;
            progress.progress_total = int32_t(task.prompt.size());
            progress.progress_cache = slot.n_cached;
            progress.progress_processed = int32_t(slot.n_prompt_done);
            progress.progress_ms = ms_between(slot.t_start, Clock::now());
            emit(slot, std::move(progress));
        }
        if (task.type == Task::Type::kEmbedding) {
            handle_embedding_rows(slot, slot.out_first, slot.out_count);
            if (prompt_done) {
                TaskEvent event;
                if (task.pooling == Pooling::kMean || task.pooling == Pooling::kUnspecified) {
                    std::vector<float> mean(slot.embd_sum.size());
                    for (size_t i = 0; i < mean.size(); ++i) {
                        mean[i] = float(slot.embd_sum[i] / std::max(1, slot.embd_count));
                    }
                    event.embedding.push_back(std::move(mean));
                } else {
                    event.embedding = std::move(slot.embd_rows);
                }
                if (task.normalize) {
                    for (auto& row : event.embedding) {
                        double norm = 0;
                        for (float v : row) norm += double(v) * v;
                        norm = std::sqrt(norm);
                        if (norm > 0) for (float& v : row) v = float(v / norm);
                    }
                }
                finish(slot, std::move(event));
            }
            continue;
        }
        if (prompt_done) {
            slot.generating = true;
            slot.t_prompt_done = Clock::now();
            if (slot.n_predict == 0) {
                TaskEvent event;
                event.stop_type = "limit";
                finish(slot, std::move(event));
            } else {
                handle_token(slot, ctx_.output(slot.out_first));
            }
        }
    }
    if (has_prompt && options_.batch_sleep_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(options_.batch_sleep_ms));
    }
    return true;
}

void Scheduler::loop() {
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            for (;;) {
                if (stop_) break;
                assign_pending();
                bool active = false;
                for (auto& s : slots_) active = active || s->task != nullptr;
                if (active) break;
                // Idle: wait for work. A timeout lets cancelled pending tasks be dropped.
                cv_.wait_for(lock, std::chrono::milliseconds(500));
            }
            if (stop_) break;
        }
        step();
    }
    // Shutting down: tell every waiting client.
    for (auto& s : slots_) {
        if (s->task) fail(*s, ErrorType::kUnavailable, "server is shutting down");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& task : pending_) {
        TaskEvent event;
        event.kind = TaskEvent::Kind::kError;
        event.error_type = ErrorType::kUnavailable;
        event.text = "server is shutting down";
        event.index = task->index;
        task->channel->push(std::move(event));
    }
    pending_.clear();
}

}  // namespace mmojo
