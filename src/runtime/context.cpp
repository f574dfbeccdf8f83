// Inference context: batch validation, splitting into passes of n_pass() tokens, output rows and
// sequence bookkeeping around Model::forward (see context.h).
#include "runtime/context.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "base/thread_pool.h"
#include "runtime/sequence_store.h"

namespace mmojo {

namespace {

std::string context_phrase(uint32_t n_ctx_seq, uint32_t n_seq) {
    std::string s = "the context of " + std::to_string(n_ctx_seq) + " tokens";
    if (n_seq > 1) s += " per sequence";
    return s;
}

}  // namespace

Context::Context(Model& model, const ContextParams& params) : model_(model), params_(params) {
    if (params_.n_seq == 0) throw std::runtime_error("context: n_seq must be at least 1");
    if (params_.n_batch == 0) throw std::runtime_error("context: n_batch must be at least 1");
    if (params_.n_ubatch == 0) throw std::runtime_error("context: n_ubatch must be at least 1");
    n_ctx_ = params_.n_ctx;
    if (n_ctx_ == 0) {
        const uint32_t trained = model.hparams().n_ctx_train;
        n_ctx_ = trained == 0 ? params_.n_ctx_max : std::min(trained, params_.n_ctx_max);
    }
    if (n_ctx_ < params_.n_seq) {
        throw std::runtime_error("context: " + std::to_string(n_ctx_) +
                                 " positions cannot be shared by " +
                                 std::to_string(params_.n_seq) + " sequences");
    }
    // One pool sized for the larger of the two counts; decode() picks the active count.
    n_threads_gen_ = params_.n_threads > 0 ? params_.n_threads : physical_core_count();
    n_threads_batch_ = params_.n_threads_batch > 0 ? params_.n_threads_batch : n_threads_gen_;
    pool_ = std::make_unique<ThreadPool>(std::max(n_threads_gen_, n_threads_batch_));
    state_ = std::make_unique<SequenceStore>(model.state_layers(), n_ctx_, params_.n_seq, n_pass(),
                                             params_.type_k, params_.type_v);
}

Context::~Context() = default;

void Context::decode(const Batch& batch) {
    const uint32_t n_seq = params_.n_seq;
    const uint32_t n_ctx_seq = this->n_ctx_seq();
    const int64_t n_vocab = model_.hparams().n_vocab;

    // Check the whole batch before touching the cache.
    std::vector<int64_t> added(n_seq, 0);
    int n_outputs = 0;
    for (size_t i = 0; i < batch.entries.size(); ++i) {
        const BatchEntry& e = batch.entries[i];
        if (e.seq < 0 || uint32_t(e.seq) >= n_seq) {
            throw std::runtime_error("batch entry " + std::to_string(i) + ": sequence " +
                                     std::to_string(e.seq) + " does not exist (the context has " +
                                     std::to_string(n_seq) + ")");
        }
        if (e.token < 0 || e.token >= n_vocab) {
            throw std::runtime_error("batch entry " + std::to_string(i) + ": token id " +
                                     std::to_string(e.token) + " is outside the vocabulary of " +
                                     std::to_string(n_vocab) + " tokens");
        }
        ++added[size_t(e.seq)];
        if (e.output) ++n_outputs;
    }
    for (uint32_t s = 0; s < n_seq; ++s) {
        const int64_t cached = state_->seq_length(int32_t(s));
        if (cached + added[s] > int64_t(n_ctx_seq)) {
            const std::string where = n_seq > 1 ? "sequence " + std::to_string(s) + ": " : "";
            if (cached == 0) {
                throw std::runtime_error(where + "prompt of " + std::to_string(added[s]) +
                                         " tokens does not fit " + context_phrase(n_ctx_seq, n_seq));
            }
            throw std::runtime_error(where + std::to_string(cached) + " cached and " +
                                     std::to_string(added[s]) + " new tokens do not fit " +
                                     context_phrase(n_ctx_seq, n_seq));
        }
    }
    std::vector<int32_t> next(n_seq);
    for (uint32_t s = 0; s < n_seq; ++s) next[s] = state_->seq_length(int32_t(s));
    for (size_t i = 0; i < batch.entries.size(); ++i) {
        const BatchEntry& e = batch.entries[i];
        if (e.pos != next[size_t(e.seq)]) {
            throw std::runtime_error("batch entry " + std::to_string(i) + ": position " +
                                     std::to_string(e.pos) + " of sequence " +
                                     std::to_string(e.seq) + " should be " +
                                     std::to_string(next[size_t(e.seq)]) +
                                     " (positions continue the cached sequence; truncate it "
                                     "first to rewrite it)");
        }
        ++next[size_t(e.seq)];
    }

    const size_t row = output_size();
    outputs_.assign(size_t(n_outputs) * row, 0.0f);
    n_outputs_ = 0;

    // Evaluate in chunks of at most n_pass() tokens (what a sliding-window ring is sized for).
    Batch chunk;
    int outputs_done = 0;
    for (size_t start = 0; start < batch.entries.size(); start += n_pass()) {
        const size_t end = std::min(batch.entries.size(), start + n_pass());
        chunk.entries.assign(batch.entries.begin() + std::ptrdiff_t(start),
                             batch.entries.begin() + std::ptrdiff_t(end));
        // As llama.cpp: -tb threads for prompt-sized chunks, -t for single-token steps.
        pool_->set_active_threads(chunk.entries.size() > 1 ? n_threads_batch_ : n_threads_gen_);
        model_.forward(chunk, *state_, *pool_, outputs_.data() + size_t(outputs_done) * row,
                       output_kind());
        for (const BatchEntry& e : chunk.entries) {
            if (e.pos + 1 > state_->seq_length(e.seq)) state_->set_seq_length(e.seq, e.pos + 1);
            if (e.output) ++outputs_done;
        }
        n_outputs_ = outputs_done;
    }
}

const float* Context::output(int i) const {
    if (i < 0 || i >= n_outputs_) {
        throw std::runtime_error("context output " + std::to_string(i) +
                                 " does not exist (the last decode produced " +
                                 std::to_string(n_outputs_) + ")");
    }
    return outputs_.data() + size_t(i) * output_size();
}

size_t Context::state_bytes() const { return state_->memory_bytes(); }

void Context::seq_clear(int32_t seq) { state_->seq_clear(seq); }

int32_t Context::seq_truncate(int32_t seq, int32_t n_keep) { return state_->seq_truncate(seq, n_keep); }

void Context::seq_checkpoint(int32_t seq) { state_->seq_checkpoint(seq); }

int32_t Context::seq_length(int32_t seq) const {
    if (seq < 0 || uint32_t(seq) >= params_.n_seq) {
        throw std::runtime_error("sequence " + std::to_string(seq) +
                                 " does not exist (the context has " +
                                 std::to_string(params_.n_seq) + ")");
    }
    return state_->seq_length(seq);
}

}  // namespace mmojo
