// The per-sequence state of a context (runtime/sequence_store.h) beyond the full KV cache:
// a sliding-window layer's ring of cells must give the attention of a full cache with the
// same window (and both that of a float64 softmax written here), a shared layer reads its
// owner's cells, a recurrent layer rolls back only to its checkpoint, and truncation keeps
// only what every layer can return to.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "base/thread_pool.h"
#include "ops/attention.h"
#include "runtime/kv_cache.h"
#include "runtime/sequence_store.h"

namespace mmojo {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// softmax(q.k * scale) . V over keys max(0, pos - window + 1) .. pos, in double.
std::vector<double> reference_attention(const std::vector<float>& q, const std::vector<float>& keys,
                                        const std::vector<float>& values, int pos, int window, int dim) {
    const int first = window > 0 ? std::max(0, pos - window + 1) : 0;
    std::vector<double> scores;
    double max_score = -1e300;
    for (int j = first; j <= pos; ++j) {
        double dot = 0;
        for (int d = 0; d < dim; ++d) dot += double(q[size_t(d)]) * keys[size_t(j * dim + d)];
        scores.push_back(dot / std::sqrt(double(dim)));
        max_score = std::max(max_score, scores.back());
    }
    double sum = 0;
    for (double& s : scores) sum += (s = std::exp(s - max_score));
    std::vector<double> out(size_t(dim), 0.0);
    for (int j = first; j <= pos; ++j) {
        for (int d = 0; d < dim; ++d) out[size_t(d)] += scores[size_t(j - first)] / sum * values[size_t(j * dim + d)];
    }
    return out;
}

TEST(SequenceStore, SlidingWindowRingMatchesFullCache) {
    constexpr int kDim = 32, kWindow = 5, kBatch = 3, kLength = 23;
    ThreadPool pool(2);
    // One sequence of 64 positions; the windowed layer gets a ring of window + n_batch cells.
    SequenceStore full({LayerStateSpec::key_value(1, kDim, kDim)}, 64, 1, kBatch, TensorType::kF32, TensorType::kF32);
    SequenceStore ring({LayerStateSpec::key_value(1, kDim, kDim, kWindow)}, 64, 1, kBatch, TensorType::kF32,
                       TensorType::kF32);
    EXPECT_EQ(ring.key_values(0).cells_per_seq, kWindow + kBatch);
    EXPECT_LT(ring.memory_bytes(), full.memory_bytes());
    const auto keys = random_floats(size_t(kLength * kDim), 1);
    const auto values = random_floats(size_t(kLength * kDim), 2);
    const auto queries = random_floats(size_t(kLength * kDim), 3);
    AttentionParams p;
    p.n_head = p.n_head_kv = 1;
    p.head_dim_k = p.head_dim_v = kDim;
    p.scale = 1.0f / std::sqrt(float(kDim));
    p.window = kWindow;
    int compared = 0;
    for (int start = 0; start < kLength; start += kBatch) {
        const int n = std::min(kBatch, kLength - start);
        std::vector<int32_t> pos, seq(size_t(n), 0);
        for (int i = 0; i < n; ++i) pos.push_back(start + i);
        const int32_t end = start + n;
        const AttentionRows rows{pos.data(), seq.data(), &end, n};
        std::vector<float> out_full(size_t(n * kDim)), out_ring(size_t(n * kDim));
        for (SequenceStore* store : {&full, &ring}) {
            const KvLayerView kv = store->key_values(0);
            for (int i = 0; i < n; ++i) {
                kv_store(kv, 0, start + i, keys.data() + (start + i) * kDim, values.data() + (start + i) * kDim);
            }
            attention(pool, kv, rows, p, queries.data() + start * kDim,
                      (store == &full ? out_full : out_ring).data());
            store->set_seq_length(0, end);
        }
        for (int i = 0; i < n; ++i) {
            const std::vector<float> q(queries.begin() + (start + i) * kDim, queries.begin() + (start + i + 1) * kDim);
            const auto want = reference_attention(q, keys, values, start + i, kWindow, kDim);
            for (int d = 0; d < kDim; ++d) {
                EXPECT_EQ(out_ring[size_t(i * kDim + d)], out_full[size_t(i * kDim + d)]) << "pos " << start + i;
                EXPECT_NEAR(out_full[size_t(i * kDim + d)], want[size_t(d)], 1e-5) << "pos " << start + i;
                ++compared;
            }
        }
    }
    EXPECT_EQ(compared, kLength * kDim);
}

TEST(SequenceStore, RingKeepsOnlyWhatItsWindowStillHolds) {
    // window 4 + n_batch 2 = 6 cells: after 20 positions, positions 14..19 are still there.
    SequenceStore store({LayerStateSpec::key_value(1, 32, 32), LayerStateSpec::key_value(1, 32, 32, 4)}, 64, 1, 2,
                        TensorType::kF32, TensorType::kF32);
    store.set_seq_length(0, 20);
    // A row at 18 looks back to 15: still present.
    EXPECT_EQ(store.seq_truncate(0, 18), 18);
    store.set_seq_length(0, 20);
    // A row at 10 would need 7..9, long overwritten: start again.
    EXPECT_EQ(store.seq_truncate(0, 10), 0);
    EXPECT_EQ(store.seq_length(0), 0);
}

TEST(SequenceStore, SharedLayerReadsItsOwnersCells) {
    const LayerStateSpec kv = LayerStateSpec::key_value(2, 32, 32);
    SequenceStore one({kv}, 16, 1, 4, TensorType::kF16, TensorType::kF16);
    SequenceStore shared({kv, LayerStateSpec::shared(0)}, 16, 1, 4, TensorType::kF16, TensorType::kF16);
    EXPECT_EQ(shared.key_values(1).keys, shared.key_values(0).keys);
    EXPECT_EQ(shared.key_values(1).values, shared.key_values(0).values);
    EXPECT_EQ(shared.memory_bytes(), one.memory_bytes());
    EXPECT_THROW(SequenceStore({LayerStateSpec::shared(0)}, 16, 1, 4, TensorType::kF16, TensorType::kF16),
                 std::runtime_error);
    EXPECT_THROW(SequenceStore({LayerStateSpec::recurrent(8), LayerStateSpec::shared(0)}, 16, 1, 4,
                               TensorType::kF16, TensorType::kF16),
                 std::runtime_error);
}

TEST(SequenceStore, RecurrentStateRollsBackOnlyToItsCheckpoint) {
    SequenceStore store({LayerStateSpec::key_value(1, 32, 32), LayerStateSpec::recurrent(6)}, 32, 2, 4,
                        TensorType::kF32, TensorType::kF32);
    EXPECT_THROW(store.key_values(1), std::runtime_error);
    EXPECT_THROW(store.recurrent(0, 0), std::runtime_error);
    std::span<float> s = store.recurrent(1, 1);
    ASSERT_EQ(s.size(), 6u);
    for (float x : s) EXPECT_EQ(x, 0.0f);
    for (size_t i = 0; i < s.size(); ++i) s[i] = float(i + 1);
    store.set_seq_length(1, 5);
    store.seq_checkpoint(1);
    for (float& x : s) x = -1.0f;
    store.set_seq_length(1, 9);

    EXPECT_EQ(store.seq_truncate(1, 9), 9);        // nothing to cut: state untouched
    EXPECT_EQ(s[0], -1.0f);
    EXPECT_EQ(store.seq_truncate(1, 7), 5);        // back to the checkpoint, not to 7
    EXPECT_EQ(store.seq_length(1), 5);
    for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i], float(i + 1));
    EXPECT_EQ(store.seq_truncate(1, 3), 0);        // before the checkpoint: start again
    for (float x : s) EXPECT_EQ(x, 0.0f);
    EXPECT_EQ(store.recurrent(1, 0).size(), 6u);   // the other sequence has its own state
}

// Several checkpoints: truncation returns to the longest one that fits, forgets the ones
// past it (they belong to the rewritten continuation), and the oldest is replaced when all
// RecurrentState::kDefaultCheckpoints slots are in use.
TEST(SequenceStore, RecurrentStateKeepsSeveralCheckpoints) {
    SequenceStore store({LayerStateSpec::recurrent(2)}, 64, 1, 4, TensorType::kF32, TensorType::kF32);
    std::span<float> s = store.recurrent(0, 0);
    auto mark = [&](int32_t length) {   // a state that names its length
        store.set_seq_length(0, length);
        s[0] = float(length);
        store.seq_checkpoint(0);
    };
    mark(10);
    mark(20);
    mark(30);
    store.set_seq_length(0, 40);
    EXPECT_EQ(store.seq_truncate(0, 25), 20);
    EXPECT_EQ(s[0], 20.0f);
    store.set_seq_length(0, 35);
    EXPECT_EQ(store.seq_truncate(0, 33), 20);   // the checkpoint at 30 went with the rewrite
    EXPECT_EQ(store.seq_truncate(0, 15), 10);
    EXPECT_EQ(s[0], 10.0f);
    for (int32_t len : {11, 12, 13, 14}) mark(len);   // 10 is the oldest: replaced by 14
    store.set_seq_length(0, 50);
    EXPECT_EQ(store.seq_truncate(0, 10), 0);
    EXPECT_EQ(s[0], 0.0f);
}

}  // namespace
}  // namespace mmojo
