// Continuous-batching scheduler (see scheduler.h). Only the scheduler thread touches the
// Context, the slots' sequences and samplers; HTTP threads talk to it through submit()
// and the per-task channels. This file assigns slots and builds batches; what a slot does
// with its outputs (tokens, text, embeddings, the final event) is in slot_output.cpp.
#include "server/scheduler.h"

#include <algorithm>
#include <cstdio>

#include "runtime/context.h"
#include "server/scheduler_slot.h"

namespace mmojo {

Scheduler::Scheduler(Context& context, const SchedulerOptions& options)
    : ctx_(context), options_(options) {
    options_.n_slots = std::max(1, options_.n_slots);
    options_.n_batch = std::max(1, options_.n_batch);
    for (int32_t i = 0; i < options_.n_slots; ++i) {
        auto slot = std::make_unique<Slot>();
        slot->id = slot->status.id = i;
        slot->status.n_ctx = n_ctx_slot();
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

std::vector<SlotResponse> Scheduler::slots() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<SlotResponse> out;
    for (const auto& slot : slots_) out.push_back(slot->status);
    return out;
}

void Scheduler::assign_pending() {
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
        chosen->last_used = ++use_counter_;
        it = pending_.erase(it);
        start_task(*chosen, task);
    }
    metrics_.requests_deferred = int32_t(pending_.size());
}

void Scheduler::start_task(Slot& slot, std::shared_ptr<Task> task) {
    slot.task = std::move(task);
    const Task& t = *slot.task;
    slot.generating = false;
    slot.next_token = -1;
    slot.text = TextStream(t.params.stop);
    slot.generated.clear();
    slot.pending_tokens.clear();
    slot.pending_probs.clear();
    if (t.type == Task::Type::kEmbedding) slot.pooler = std::make_unique<EmbeddingPooler>(t.pooling, ctx_.output_size());
    slot.t_start = SchedulerClock::now();

    size_t n_keep = 0;
    if (t.type == Task::Type::kCompletion && t.params.cache_prompt && !t.prompt.empty()) {
        // Reuse the cached prefix, but always evaluate at least the last prompt token so
        // there are logits to sample from. The state may keep less than asked (a layer
        // that cannot go back that far); the rest is evaluated again.
        n_keep = std::min(common_prefix(slot.cache_tokens, t.prompt), t.prompt.size() - 1);
    }
    n_keep = size_t(ctx_.seq_truncate(slot.id, int32_t(n_keep)));
    slot.cache_tokens.resize(n_keep);
    slot.n_prompt_done = n_keep;
    slot.n_cached = int32_t(n_keep);

    slot.n_predict = t.params.n_predict;
    if (options_.n_predict_max >= 0 && (slot.n_predict < 0 || slot.n_predict > options_.n_predict_max)) {
        slot.n_predict = options_.n_predict_max;
    }
    if (t.type == Task::Type::kCompletion) {
        slot.sampler = std::make_unique<Sampler>(t.params.sampling, ctx_.model().tokenizer().n_vocab());
        for (int32_t tok : t.prompt) slot.sampler->accept(tok);
        if (t.params.grammar_rules) {
            if (!vocab_) vocab_ = TokenVocabulary::from_tokenizer(ctx_.model().tokenizer());
            slot.grammar = std::make_unique<GrammarSampler>(t.params.grammar_rules, vocab_);
        }
        slot.forced.clear();
        slot.reasoning.reset();
        if (t.reasoning.budget >= 0) {
            slot.reasoning = std::make_unique<ReasoningBudget>(t.reasoning);
            if (slot.reasoning->end_before_first_token()) {
                slot.forced.assign(t.reasoning.end_tokens.begin(), t.reasoning.end_tokens.end());
            }
        }
    }
    slot.status.is_processing = true;
    slot.status.id_task = t.id;
    slot.status.n_decoded = 0;
    slot.status.n_remain = slot.n_predict;
    slot.status.params = t.params;
    metrics_.requests_processing += 1;
    if (options_.verbose) {
        std::fprintf(stderr, "slot %d: task %d: %zu prompt tokens, %d from the cache\n", slot.id, t.id,
                     t.prompt.size(), slot.n_cached);
    }
}

void Scheduler::add_prompt_chunks(Batch& batch, int& n_outputs, std::vector<Slot*>& in_batch) {
    int budget = options_.n_batch - int(batch.entries.size());
    for (auto& sp : slots_) {
        Slot& slot = *sp;
        if (!slot.task || slot.generating || budget <= 0) continue;
        const auto& prompt = slot.task->prompt;
        const bool embedding = slot.task->type == Task::Type::kEmbedding;
        int n = int(std::min<size_t>(size_t(budget), prompt.size() - slot.n_prompt_done));
        if (n <= 0) continue;
        // A pass ends at the task's checkpoint length so that the state there can be kept.
        const size_t at = slot.task->checkpoint_at;
        if (ctx_.has_recurrent_state() && at > slot.n_prompt_done && at < slot.n_prompt_done + size_t(n)) {
            n = int(at - slot.n_prompt_done);
        }
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
        in_batch.push_back(&slot);
    }
}

bool Scheduler::step() {
    // Drop the work of clients that went away.
    for (auto& sp : slots_) {
        if (sp->task && sp->task->channel->cancelled()) {
            release(*sp, std::nullopt, sp->task->type == Task::Type::kEmbedding);
        }
    }

    // The next token of every generating slot, then prompt chunks as far as n_batch allows
    // (without continuous batching, only when nobody generates).
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
    const size_t n_generating = in_batch.size();
    if (options_.cont_batching || batch.entries.empty()) add_prompt_chunks(batch, n_outputs, in_batch);
    const bool has_prompt = in_batch.size() > n_generating;
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
        // Recurrent layers return only to a checkpoint: one at the task's checkpoint length
        // and one each time the prompt crosses a multiple of n_batch tokens let a later
        // request that shares part of this prompt resume there (no-op for models without
        // recurrent layers).
        const size_t n_batch = size_t(std::max(1, options_.n_batch));
        if (slot.n_prompt_done < task.prompt.size() &&
            (slot.n_prompt_done == task.checkpoint_at ||
             slot.n_prompt_done / n_batch != (slot.n_prompt_done - size_t(slot.n_prompt_in_batch)) / n_batch)) {
            ctx_.seq_checkpoint(slot.id);
        }
        if (task.params.return_progress && task.type == Task::Type::kCompletion) {
            TaskEvent progress;
            progress.kind = TaskEvent::Kind::kProgress;
            progress.progress_total = int32_t(task.prompt.size());
            progress.progress_cache = slot.n_cached;
            progress.progress_processed = int32_t(slot.n_prompt_done);
            progress.progress_ms = ms_between(slot.t_start, SchedulerClock::now());
            emit(slot, std::move(progress));
        }
        if (task.type == Task::Type::kEmbedding) {
            for (int r = 0; r < slot.out_count; ++r) slot.pooler->add(ctx_.output(slot.out_first + r));
        }
        if (slot.n_prompt_done == task.prompt.size()) handle_prompt_done(slot);
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
