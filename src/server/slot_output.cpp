// What a slot does with the outputs of a decode (see scheduler.h): sample the next token
// and stream its text, pool embedding rows, and end the task with its final event.
// Probabilities come from sampling/logprobs.h, stop strings and UTF-8 hold-back from
// sampling/text_stream.h, pooling from runtime/pooling.h.
#include <algorithm>
#include <cstdio>
#include <utility>

#include "runtime/context.h"
#include "sampling/logprobs.h"
#include "server/scheduler_slot.h"

namespace mmojo {

void Scheduler::emit(Slot& slot, TaskEvent event) {
    event.index = slot.task->index;
    slot.task->channel->push(std::move(event));
}

void Scheduler::release(Slot& slot, std::optional<TaskEvent> event, bool clear_sequence,
                        const std::function<void(SchedulerMetrics&)>& count) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (count) count(metrics_);
        metrics_.requests_processing -= 1;
        slot.status.is_processing = false;
    }
    if (event) emit(slot, std::move(*event));
    if (clear_sequence) {
        ctx_.seq_clear(slot.id);
        slot.cache_tokens.clear();
    }
    slot.task.reset();
    slot.sampler.reset();
    slot.grammar.reset();
    slot.pooler.reset();
    slot.reasoning.reset();
    slot.forced.clear();
    slot.generating = false;
}

void Scheduler::finish(Slot& slot, TaskEvent event) {
    const auto now = SchedulerClock::now();
    const Task& task = *slot.task;
    // The state after the prompt and the evaluated answer: a follow-up chat turn usually
    // repeats both, and resumes here even when another request used the slot in between
    // (the sequence then truncates to this checkpoint).
    if (slot.generating) ctx_.seq_checkpoint(slot.id);
    const double prompt_ms = ms_between(slot.t_start, slot.generating ? slot.t_prompt_done : now);
    const double predicted_ms = slot.generating ? ms_between(slot.t_prompt_done, now) : 0.0;
    event.kind = TaskEvent::Kind::kFinal;
    event.slot_id = slot.id;
    event.n_prompt = int32_t(task.prompt.size());
    event.n_cached = slot.n_cached;
    event.timings = {event.n_prompt - slot.n_cached, prompt_ms, int32_t(slot.generated.size()), predicted_ms};
    if (task.type == Task::Type::kCompletion) {
        event.text = slot.text.text();
        event.tokens = slot.generated;
    }
    if (options_.verbose) {
        std::fprintf(stderr, "slot %d: task %d: done (%s), %d tokens evaluated in %.1f ms, %zu generated in %.1f ms\n",
                     slot.id, task.id, event.stop_type.empty() ? "embedding" : event.stop_type.c_str(),
                     event.timings.prompt_n, prompt_ms, slot.generated.size(), predicted_ms);
    }
    // Counters first, so a client that reads /metrics right after its answer sees them.
    const TaskTimings t = event.timings;
    release(slot, std::move(event), task.type == Task::Type::kEmbedding, [&](SchedulerMetrics& m) {
        m.prompt_tokens_total += uint64_t(std::max(0, t.prompt_n));
        m.prompt_seconds_total += t.prompt_ms / 1000.0;
        m.tokens_predicted_total += uint64_t(t.predicted_n);
        m.tokens_predicted_seconds_total += t.predicted_ms / 1000.0;
    });
}

void Scheduler::fail(Slot& slot, ErrorType type, const std::string& message) {
    TaskEvent event;
    event.kind = TaskEvent::Kind::kError;
    event.error_type = type;
    event.text = message;
    release(slot, std::move(event), true);
}

void Scheduler::handle_token(Slot& slot, const float* logits) {
    const Tokenizer& tok = ctx_.model().tokenizer();
    const GenerationParams& params = slot.task->params;
    const int32_t n_probs = params.sampling.n_probs;

    std::vector<TokenProb> post;
    const bool want_post = n_probs > 0 && params.post_sampling_probs;
    int32_t id = -1;   // stays -1 when a complete grammar allows no further token
    if (!slot.forced.empty()) {
        // The reasoning budget ran out: its end marker replaces the samples.
        id = slot.forced.front();
        slot.forced.pop_front();
    } else {
        try {
            id = slot.sampler->sample(logits, want_post ? &post : nullptr, slot.grammar.get());
            if (slot.grammar) slot.grammar->accept(id);
        } catch (const NoAllowedToken&) {
            if (!slot.grammar || !slot.grammar->is_complete()) {
                std::string tail = tok.decode(slot.generated, false);
                if (tail.size() > 60) tail = "..." + tail.substr(tail.size() - 60);
                fail(slot, ErrorType::kInvalidRequest,
                     "the grammar allows no token of the vocabulary after " + std::to_string(slot.generated.size()) +
                         " generated tokens (it needs text no token can produce), at the end of: " + tail);
                return;
            }
        } catch (const GrammarError& e) {
            fail(slot, ErrorType::kInvalidRequest, e.what());
            return;
        }
    }
    if (id < 0) {
        // The grammar is complete and the model has no end-of-generation token to pick.
        TaskEvent final_event;
        final_event.stop_type = "eos";
        TaskEvent partial;
        partial.kind = TaskEvent::Kind::kPartial;
        partial.text = slot.text.take_ready(true);
        partial.tokens = std::exchange(slot.pending_tokens, {});
        partial.probs = std::exchange(slot.pending_probs, {});
        emit(slot, std::move(partial));
        finish(slot, std::move(final_event));
        return;
    }
    slot.sampler->accept(id);
    slot.generated.push_back(id);
    slot.pending_tokens.push_back(id);

    const auto& keep = slot.task->preserved_tokens;
    const std::string piece = tok.token_to_piece(id, std::binary_search(keep.begin(), keep.end(), id));
    if (slot.reasoning && slot.reasoning->on_token(piece)) {
        const auto& end = slot.task->reasoning.end_tokens;
        slot.forced.assign(end.begin(), end.end());
    }
    if (n_probs > 0) {
        TokenProbs tp;
        tp.id = id;
        tp.piece = piece;
        if (want_post) {
            for (const auto& c : post) {
                if (c.id == id) tp.value = c.prob;
                if (int32_t(tp.top.size()) < n_probs) tp.top.emplace_back(c.id, c.prob);
            }
        } else {
            tp.value = log_softmax_top(logits, tok.n_vocab(), id, n_probs, tp.top);
        }
        slot.pending_probs.push_back(std::move(tp));
    }

    TaskEvent final_event;
    bool done = true;
    if (tok.is_eog(id) && !params.ignore_eos) {
        final_event.stop_type = "eos";
    } else if (slot.text.append(piece)) {
        final_event.stop_type = "word";
        final_event.stopping_word = slot.text.stopping_word();
    } else if (slot.n_predict >= 0 && int32_t(slot.generated.size()) >= slot.n_predict) {
        final_event.stop_type = "limit";
    } else if (int32_t(slot.cache_tokens.size()) + 1 >= n_ctx_slot()) {
        // The next token would not fit this slot's share of the context.
        final_event.stop_type = "limit";
        final_event.truncated = true;
    } else {
        done = false;
    }

    std::string ready = slot.text.take_ready(done);
    if (done || !ready.empty()) {
        TaskEvent partial;
        partial.kind = TaskEvent::Kind::kPartial;
        partial.text = std::move(ready);
        partial.tokens = std::exchange(slot.pending_tokens, {});
        partial.probs = std::exchange(slot.pending_probs, {});
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

void Scheduler::handle_prompt_done(Slot& slot) {
    const Task& task = *slot.task;
    // A point the sequence can return to when the next request shares this prompt.
    ctx_.seq_checkpoint(slot.id);
    if (task.type == Task::Type::kEmbedding) {
        TaskEvent event;
        event.embedding = slot.pooler->finish(task.normalize);
        finish(slot, std::move(event));
        return;
    }
    slot.generating = true;
    slot.t_prompt_done = SchedulerClock::now();
    if (slot.n_predict == 0) {
        TaskEvent event;
        event.stop_type = "limit";
        finish(slot, std::move(event));
    } else {
        handle_token(slot, ctx_.output(slot.out_first));
    }
}

}  // namespace mmojo
