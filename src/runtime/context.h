// An inference context: a model plus its per-sequence state, thread pool and output buffers. Several
// sequences (server slots) share one context and are decoded together in one batch
// (continuous batching); each sequence owns its own region of the state (KV cache, ...).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "model/batch.h"
#include "model/model.h"
#include "kernels/tensor_type.h"

namespace mmojo {

struct ContextParams {
    uint32_t n_ctx = 0;           // total cache positions; 0: the model's trained size capped by n_ctx_max
    uint32_t n_ctx_max = 8192;    // --ctx-size-max
    uint32_t n_seq = 1;           // sequences (server slots); each gets n_ctx / n_seq positions
    uint32_t n_batch = 512;       // largest number of tokens evaluated in one forward pass
    // The same, llama.cpp's physical batch: a pass takes at most min(n_batch, n_ubatch)
    // tokens, and a sliding-window layer's ring holds window + that many cells per sequence.
    uint32_t n_ubatch = 512;
    int n_threads = 0;            // 0: physical cores
    int n_threads_batch = 0;      // threads for batches of more than one token; 0: n_threads
    TensorType type_k = TensorType::kF16;
    TensorType type_v = TensorType::kF16;
    // Outputs are the final normalized hidden states (n_embd floats) instead of logits
    // (as llama.cpp's `embeddings` context flag). Encoders always give those.
    bool embeddings = false;
};

class ThreadPool;
class SequenceStore;

class Context {
public:
    Context(Model& model, const ContextParams& params);
    ~Context();

    // Evaluates the batch (split into chunks of n_pass() tokens). Throws std::runtime_error
    // when a position does not fit the sequence's share of the cache.
    void decode(const Batch& batch);
    // Output row i (in batch order among entries with output=true) of the last decode:
    // n_vocab logits for decoders, n_embd hidden state for encoders.
    const float* output(int i) const;
    int n_outputs() const { return n_outputs_; }
    // Floats per output row: n_vocab logits, or n_embd with `embeddings` or for encoders.
    uint32_t output_size() const { return model_.output_size(output_kind()); }
    OutputKind output_kind() const {
        return params_.embeddings ? OutputKind::kEmbeddings : OutputKind::kLogits;
    }

    // Sequence bookkeeping for slots: forget everything, or keep at most the positions
    // < n_keep. seq_truncate returns how many it kept, which can be fewer than n_keep when
    // a layer cannot return there (a recurrent state goes back only to its checkpoint, see
    // runtime/sequence_store.h); the caller evaluates the rest again. seq_checkpoint marks
    // the present state as a point to return to.
    void seq_clear(int32_t seq);
    int32_t seq_truncate(int32_t seq, int32_t n_keep);
    void seq_checkpoint(int32_t seq);
    int32_t seq_length(int32_t seq) const;   // next free position

    Model& model() const { return model_; }
    uint32_t n_ctx() const { return n_ctx_; }
    uint32_t n_ctx_seq() const { return n_ctx_ / params_.n_seq; }
    const ContextParams& params() const { return params_; }
    // Most tokens in one forward pass: min(n_batch, n_ubatch).
    uint32_t n_pass() const { return std::min(params_.n_batch, params_.n_ubatch); }
    // Bytes of per-sequence state (KV cells of every layer, recurrent states).
    size_t state_bytes() const;
    ThreadPool& pool() { return *pool_; }

private:
    Model& model_;
    ContextParams params_;
    uint32_t n_ctx_ = 0;
    int n_threads_gen_ = 1;      // resolved -t
    int n_threads_batch_ = 1;    // resolved -tb
    std::unique_ptr<ThreadPool> pool_;
    std::unique_ptr<SequenceStore> state_;
    std::vector<float> outputs_;
    int n_outputs_ = 0;
};

}  // namespace mmojo
