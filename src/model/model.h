// A loaded model: hyperparameters, tokenizer and weights (pointers into the mapped GGUF).
// Each architecture family is one small file under src/model/ that registers a forward pass
// built from the shared blocks (norms, attention, feed-forward).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "model/sequence_state.h"
#include "tokenizer/tokenizer.h"

namespace mmojo {

class ThreadPool;
struct Batch;
class TensorBinder;

// What forward() writes per output row: logits over the vocabulary, or the final
// (normalized) hidden state, which is what embeddings are made of.
enum class OutputKind : int32_t { kLogits = 0, kEmbeddings = 1 };

// Pooling of per-token states into one embedding (llama.cpp's pooling_type numbers).
enum class Pooling : int32_t { kUnspecified = -1, kNone = 0, kMean = 1, kCls = 2, kLast = 3 };

struct ModelHparams {
    std::string arch;             // general.architecture
    uint32_t n_vocab = 0;
    uint32_t n_ctx_train = 0;     // <arch>.context_length
    uint32_t n_embd = 0;
    uint32_t n_layer = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim_k = 0;      // <arch>.attention.key_length, default n_embd / n_head
    uint32_t head_dim_v = 0;
    uint32_t n_ff = 0;
    float norm_eps = 1e-5f;       // attention.layer_norm_rms_epsilon (or layer_norm_epsilon)
    bool causal = true;           // false for encoders (bert)
    Pooling pooling = Pooling::kUnspecified;

    // Rotary position embedding (<arch>.rope.*).
    uint32_t n_rot = 0;                  // rope.dimension_count, default head_dim_k
    float rope_freq_base = 10000.0f;     // rope.freq_base
    float rope_freq_scale = 1.0f;        // 1 / rope.scaling.factor (linear scaling)
    std::string rope_scaling = "linear"; // rope.scaling.type: none, linear, yarn, longrope
    uint32_t n_ctx_orig = 0;             // rope.scaling.original_context_length (0: n_ctx_train)
};

struct ModelLoadOptions {
    // Byte range of the GGUF inside a larger file (an entry of the executable's ZIP).
    uint64_t offset = 0;
    uint64_t length = 0;
    // Called with a fraction in [0, 1] while loading (for /health and the loading page).
    std::function<void(float)> progress;
};

class Model {
public:
    virtual ~Model() = default;
    // Reads the file, picks the architecture by general.architecture and binds every
    // tensor. Throws std::runtime_error naming an unknown architecture or missing tensor.
    static std::unique_ptr<Model> load(const std::string& path, const ModelLoadOptions& options = {});

    const ModelHparams& hparams() const { return hparams_; }
    const Tokenizer& tokenizer() const { return *tokenizer_; }
    const GgufFile& gguf() const { return *gguf_; }
    uint64_t n_params() const { return n_params_; }
    uint64_t size_bytes() const { return size_bytes_; }   // bytes of tensor data
    // tokenizer.chat_template, or "" when the file has none.
    std::string chat_template() const;
    // One line such as "Q4_0" for the dominant weight type (general.file_type when present).
    std::string type_label() const;

    // Floats per output row: n_vocab logits for decoders, n_embd for encoders (which have
    // no logits) and for OutputKind::kEmbeddings.
    uint32_t output_size() const { return hparams_.causal ? hparams_.n_vocab : hparams_.n_embd; }
    uint32_t output_size(OutputKind kind) const {
        return kind == OutputKind::kEmbeddings ? hparams_.n_embd : output_size();
    }
    // What each layer keeps per sequence between passes (one entry per layer): by default
    // keys and values of every position with the heads of hparams().
    virtual std::vector<LayerStateSpec> state_layers() const;

    // Runs the network on a batch (model/batch.h), reading and extending `state`.
    // Writes output_size(kind) floats for every batch entry that asks for output, in batch
    // order: logits, or (kEmbeddings, and always for encoders) the final normalized hidden
    // states. The caller (Context) has checked the batch: tokens in range, each sequence's
    // positions continuing its state and fitting it; it updates the sequence lengths after.
    virtual void forward(const Batch& batch, SequenceState& state, ThreadPool& pool, float* out,
                         OutputKind kind) = 0;

protected:
    // Called by load() after gguf_ and tokenizer_ are set: reads hparams_ (architecture
    // keys) and binds every tensor through `binder`.
    virtual void load_weights(TensorBinder& binder) = 0;

    ModelHparams hparams_;
    std::unique_ptr<GgufFile> gguf_;
    std::unique_ptr<Tokenizer> tokenizer_;
    uint64_t n_params_ = 0;
    uint64_t size_bytes_ = 0;
};

}  // namespace mmojo
