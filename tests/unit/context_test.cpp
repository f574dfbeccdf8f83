// Context behaviour: batch chunking, several sequences in one batch, truncation, thread
// counts (each checked against the llama.cpp top-k reference of stories260K, F32 cache,
// within the F32 tolerance), and the errors for batches that do not fit or are malformed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "runtime/context.h"

namespace mmojo {
namespace {

using nlohmann::json;

const std::string kShared = MMOJO_SHARED_DIR;
constexpr double kMaxAbs = 1e-4;   // README: F32 weights against topk.json

class ContextTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        std::ifstream in(kShared + "/reference/stories260K.topk.json");
        reference_ = new json(json::parse(in));
        model_ = Model::load(kShared + "/models/stories260K.gguf").release();
    }
    static void TearDownTestSuite() {
        delete model_;
        delete reference_;
    }

    static ContextParams params(uint32_t n_ctx, uint32_t n_seq, uint32_t n_batch, int threads) {
        ContextParams p;
        p.n_ctx = n_ctx;
        p.n_seq = n_seq;
        p.n_batch = n_batch;
        p.n_threads = threads;
        p.type_k = TensorType::kF32;
        p.type_v = TensorType::kF32;
        return p;
    }
    static std::vector<int32_t> tokens(int prompt) {
        return reference_->at("prompts").at(size_t(prompt)).at("tokens").get<std::vector<int32_t>>();
    }
    // Largest difference between our log-softmax of `logits` and the reference top-10 at
    // position `pos` of `prompt`; also checks the top-1 id.
    static double diff_at(const float* logits, int prompt, int pos) {
        const json& entry = reference_->at("prompts").at(size_t(prompt)).at("positions").at(size_t(pos));
        const int64_t n = model_->hparams().n_vocab;
        double mx = logits[0];
        for (int64_t i = 1; i < n; ++i) mx = std::max(mx, double(logits[i]));
        double z = 0.0;
        for (int64_t i = 0; i < n; ++i) z += std::exp(double(logits[i]) - mx);
        const double log_z = std::log(z) + mx;
        double worst = 0.0;
        for (const json& top : entry.at("top")) {
            worst = std::max(worst, std::fabs(double(logits[top.at(0).get<int32_t>()]) - log_z -
                                              top.at(1).get<double>()));
        }
        EXPECT_EQ(std::max_element(logits, logits + n) - logits,
                  entry.at("top").at(0).at(0).get<int32_t>())
            << "prompt " << prompt << " pos " << pos;
        return worst;
    }

    static json* reference_;
    static Model* model_;
};

json* ContextTest::reference_ = nullptr;
Model* ContextTest::model_ = nullptr;

TEST_F(ContextTest, SmallBatchChunksAndThreadCountsGiveTheReference) {
    for (auto [n_batch, threads] : {std::pair{7u, 1}, std::pair{1u, 2}, std::pair{48u, 3}}) {
        Context ctx(*model_, params(256, 1, n_batch, threads));
        const auto t = tokens(0);
        Batch batch;
        for (size_t i = 0; i < t.size(); ++i) batch.add(t[i], int32_t(i), 0, true);
        ctx.decode(batch);
        ASSERT_EQ(ctx.n_outputs(), 48);
        for (int i = 0; i < 48; ++i) {
            EXPECT_LE(diff_at(ctx.output(i), 0, i), kMaxAbs) << "n_batch " << n_batch << " pos " << i;
        }
        EXPECT_EQ(ctx.seq_length(0), 48);
    }
}

TEST_F(ContextTest, InterleavedSequencesInOneBatch) {
    Context ctx(*model_, params(200, 4, 512, 2));
    EXPECT_EQ(ctx.n_ctx_seq(), 50u);
    const auto a = tokens(1);
    const auto b = tokens(3);
    // Sequence 2 gets prompt 1 and sequence 0 prompt 3, alternating, outputs on odd positions.
    Batch batch;
    for (size_t i = 0; i < 48; ++i) {
        batch.add(a[i], int32_t(i), 2, i % 2 == 1);
        batch.add(b[i], int32_t(i), 0, i % 2 == 1);
    }
    ctx.decode(batch);
    ASSERT_EQ(ctx.n_outputs(), 48);
    for (int k = 0; k < 24; ++k) {
        const int pos = 2 * k + 1;
        EXPECT_LE(diff_at(ctx.output(2 * k), 1, pos), kMaxAbs) << "seq 2 pos " << pos;
        EXPECT_LE(diff_at(ctx.output(2 * k + 1), 3, pos), kMaxAbs) << "seq 0 pos " << pos;
    }
    EXPECT_EQ(ctx.seq_length(0), 48);
    EXPECT_EQ(ctx.seq_length(1), 0);
    EXPECT_EQ(ctx.seq_length(2), 48);
}

TEST_F(ContextTest, TruncateAndContinueOneTokenAtATime) {
    Context ctx(*model_, params(64, 1, 64, 1));
    const auto t = tokens(2);
    Batch batch;
    for (int i = 0; i < 30; ++i) batch.add(t[size_t(i)], i, 0, false);
    ctx.decode(batch);
    EXPECT_EQ(ctx.n_outputs(), 0);
    ctx.seq_truncate(0, 12);
    EXPECT_EQ(ctx.seq_length(0), 12);
    for (int i = 12; i < 48; ++i) {
        batch.clear();
        batch.add(t[size_t(i)], i, 0, true);
        ctx.decode(batch);
        ASSERT_EQ(ctx.n_outputs(), 1);
        EXPECT_LE(diff_at(ctx.output(0), 2, i), kMaxAbs) << "pos " << i;
    }
    ctx.seq_truncate(0, 100);   // longer than the sequence: no change
    EXPECT_EQ(ctx.seq_length(0), 48);
}

TEST_F(ContextTest, EmbeddingsAreTheStatesTheLogitsComeFrom) {
    // With `embeddings` the outputs are the normalized final states; multiplying them by
    // output.weight (read here from the file, in double) must give llama.cpp's logits.
    ContextParams p = params(64, 1, 64, 1);
    p.embeddings = true;
    Context ctx(*model_, p);
    EXPECT_EQ(ctx.output_size(), 64u);
    const auto t = tokens(1);
    Batch batch;
    for (size_t i = 0; i < t.size(); ++i) batch.add(t[i], int32_t(i), 0, i % 5 == 0);
    ctx.decode(batch);
    const GgufTensorInfo& out = model_->gguf().tensor("output.weight");
    ASSERT_EQ(out.type, TensorType::kF32);
    const float* w = reinterpret_cast<const float*>(out.data);
    std::vector<float> logits(512);
    int k = 0;
    for (size_t i = 0; i < t.size(); i += 5, ++k) {
        const float* e = ctx.output(k);
        for (int v = 0; v < 512; ++v) {
            double s = 0.0;
            for (int c = 0; c < 64; ++c) s += double(w[v * 64 + c]) * e[c];
            logits[size_t(v)] = float(s);
        }
        EXPECT_LE(diff_at(logits.data(), 1, int(i)), kMaxAbs) << "pos " << i;
    }
    EXPECT_EQ(k, ctx.n_outputs());
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST_F(ContextTest, BatchesThatDoNotFitAreRejectedWithoutSideEffects) {
    Context ctx(*model_, params(256, 1, 64, 1));
    Batch batch;
    for (int i = 0; i < 300; ++i) batch.add(1, i, 0, false);
    EXPECT_EQ(error_of([&] { ctx.decode(batch); }),
              "prompt of 300 tokens does not fit the context of 256 tokens");
    EXPECT_EQ(ctx.seq_length(0), 0);

    batch.entries.resize(256);
    ctx.decode(batch);
    EXPECT_EQ(ctx.seq_length(0), 256);
    batch.clear();
    batch.add(5, 256, 0, true);
    EXPECT_EQ(error_of([&] { ctx.decode(batch); }),
              "256 cached and 1 new tokens do not fit the context of 256 tokens");

    Context shared(*model_, params(256, 2, 64, 1));
    batch.clear();
    for (int i = 0; i < 129; ++i) batch.add(1, i, 1, false);
    EXPECT_EQ(error_of([&] { shared.decode(batch); }),
              "sequence 1: prompt of 129 tokens does not fit the context of 128 tokens per sequence");
}

TEST_F(ContextTest, MalformedBatchesAndBadIndicesGiveErrors) {
    Context ctx(*model_, params(64, 2, 64, 1));
    Batch batch;
    batch.add(512, 0, 0, true);
    EXPECT_EQ(error_of([&] { ctx.decode(batch); }),
              "batch entry 0: token id 512 is outside the vocabulary of 512 tokens");
    batch.clear();
    batch.add(1, 0, 0, false);
    batch.add(-3, 1, 0, true);
    EXPECT_NE(error_of([&] { ctx.decode(batch); }).find("token id -3"), std::string::npos);
    batch.clear();
    batch.add(1, 0, 2, true);
    EXPECT_EQ(error_of([&] { ctx.decode(batch); }),
              "batch entry 0: sequence 2 does not exist (the context has 2)");
    batch.clear();
    batch.add(1, 0, 1, false);
    batch.add(1, 2, 1, false);
    EXPECT_NE(error_of([&] { ctx.decode(batch); }).find("position 2 of sequence 1 should be 1"),
              std::string::npos);
    EXPECT_EQ(ctx.seq_length(1), 0);

    batch.clear();
    batch.add(1, 0, 0, true);
    ctx.decode(batch);
    EXPECT_EQ(ctx.n_outputs(), 1);
    EXPECT_NO_THROW(ctx.output(0));
    EXPECT_THROW(ctx.output(1), std::runtime_error);
    EXPECT_THROW(ctx.output(-1), std::runtime_error);
    EXPECT_THROW(ctx.seq_length(2), std::runtime_error);
    EXPECT_THROW(ctx.seq_clear(-1), std::runtime_error);
    EXPECT_THROW(ctx.seq_truncate(5, 0), std::runtime_error);

    batch.clear();   // an empty batch is a no-op
    ctx.decode(batch);
    EXPECT_EQ(ctx.n_outputs(), 0);
    EXPECT_EQ(ctx.seq_length(0), 1);
}

TEST_F(ContextTest, ContextSizeDefaultsAndLimits) {
    // stories260K: llama.context_length = 2048.
    ContextParams p = params(0, 1, 64, 1);
    EXPECT_EQ(Context(*model_, p).n_ctx(), 2048u);
    p.n_ctx_max = 100;
    EXPECT_EQ(Context(*model_, p).n_ctx(), 100u);
    p.n_ctx = 300;   // an explicit size is not capped
    EXPECT_EQ(Context(*model_, p).n_ctx(), 300u);
    p.n_seq = 3;
    EXPECT_EQ(Context(*model_, p).n_ctx_seq(), 100u);
    p.n_seq = 0;
    EXPECT_THROW(Context(*model_, p), std::runtime_error);
    p = params(2, 3, 64, 1);
    EXPECT_THROW(Context(*model_, p), std::runtime_error);
    p = params(64, 1, 0, 1);
    EXPECT_THROW(Context(*model_, p), std::runtime_error);
    p = params(64, 1, 64, 1);
    p.type_k = TensorType::kQ4_0;   // cannot be written
    EXPECT_THROW(Context(*model_, p), std::runtime_error);
}

}  // namespace
}  // namespace mmojo
