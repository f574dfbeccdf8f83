// Fidelity of the hybrid recurrent families (lfm2, qwen35, qwen35moe) against llama.cpp, at
// every kernel level this CPU supports, with the harness of fidelity_harness.h: models
// made at test time by scripts/make_hybrid_test_model.py (F16 and Q4_K; qwen35moe F16 only,
// see kCases),
// references recorded from llama-cpp-python 0.3.36 by scripts/record_hybrid_reference.py
// into tests/reference/hybrid/ (3 prompts of 117-126 tokens: with the Gated DeltaNet chunk
// of 64 tokens a prompt crosses two chunk boundaries, and the short convolutions carry their
// state across them; greedy steps go one token at a time through the recurrent form).
// Beyond llama.cpp's numbers: the recurrent state carried across passes (a prompt in one
// pass and in pieces), several sequences in one batch, and rolling a sequence back to a
// state checkpoint (what the server's prompt cache does) give the logits of a fresh run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "model/model.h"
#include "fidelity_harness.h"
#include "runtime/context.h"

namespace mmojo {
namespace {

using nlohmann::json;
using namespace fidelity;

json load_reference(const std::string& name) {
    return read_json(std::string(MMOJO_SOURCE_DIR) + "/tests/reference/hybrid/" + name);
}
std::string model_path(const json& reference) {
    return generated_model(reference, "hybrid-models", "make_hybrid_test_model.py");
}
// The recordings' context: 256 positions, one batch per prompt, F32 cache.
ContextParams reference_params() { return context_params(256); }

// Q4_K: the README's row for quantized files (1.0 / 0.15 / 90 % / greedy until a margin
// below 1.0). llama.cpp's own batched and one-token Q4_K paths differ by up to 0.55 on these
// files (its repacked q4_K_8x8 kernels round otherwise in batches; `noise` in the JSON), and
// our logits follow its one-token path (equal to `noise` where they differ), so a greedy
// run after a batched prompt can part from the recording at a margin that size.
constexpr Limits kQuantized{1.0, 0.15, 0.90, 1.0};

struct HybridCase {
    const char* name;
    Limits limits;
    size_t max_near_ties;   // positions where llama.cpp's batched and one-token paths part
};
const HybridCase kCases[] = {
    {"hybrid-lfm2-f16", kF16Limits, 0},      {"hybrid-lfm2-q4_k", kQuantized, 0},
    {"hybrid-qwen35-f16", kF16Limits, 0},    {"hybrid-qwen35-q4_k", kQuantized, 0},
    {"hybrid-qwen35moe-f16", kF16Limits, 0},
    // Not yet: hybrid-qwen35moe-q8_0 (recorded) is within the logprob tolerances (max 0.61,
    // mean 0.057) but its greedy runs part from llama.cpp's at a margin above 0.05, which
    // needs a float64 pass to assign to a router near-tie or to us.
};

class HybridFidelity : public ::testing::TestWithParam<std::tuple<HybridCase, CpuLevel>> {
protected:
    void TearDown() override { select_kernels(detect_cpu_level()); }
};

TEST_P(HybridFidelity, TopkAndGreedyMatchLlamaCpp) {
    const HybridCase& c = std::get<0>(GetParam());
    select_kernels(std::get<1>(GetParam()));
    const json topk = load_reference(std::string(c.name) + ".topk.json");
    const json greedy = load_reference(std::string(c.name) + ".greedy.json");
    ASSERT_EQ(topk.at("sha256"), greedy.at("sha256"));
    std::unique_ptr<Model> model = Model::load(model_path(topk));
    Figures f;
    // Top-1 ids compared where the reference's best leads by 0.05 or more (one position of
    // hybrid-qwen35moe-f16 leads by 0.001: a near-tie that rounding decides).
    check_topk(*model, topk, reference_params(), c.limits.max_abs, f, 0.05);
    check_greedy(*model, greedy, reference_params(), c.limits.greedy_margin, f);
    const int top1_compared = f.positions - int(f.top1_ties.size());
    std::printf("[hybrid-fidelity] %-22s %-10s max %.3e (tol %.2g)  mean %.3e (tol %.2g)  "
                "top-1 %d/%d  greedy %d/%d  llama.cpp near-ties skipped:%s\n",
                c.name, cpu_level_name(std::get<1>(GetParam())), f.max_abs, c.limits.max_abs,
                f.mean_abs, c.limits.mean_abs, f.top1_same, top1_compared, f.greedy_same, f.greedy_compared,
                near_tie_list(f).c_str());
    EXPECT_LE(f.near_ties.size(), c.max_near_ties);
    EXPECT_LE(f.max_abs, c.limits.max_abs);
    EXPECT_LE(f.mean_abs, c.limits.mean_abs);
    EXPECT_GE(double(f.top1_same), c.limits.top1_fraction * top1_compared);
    EXPECT_GT(f.greedy_compared, 0);
}

INSTANTIATE_TEST_SUITE_P(Reference, HybridFidelity,
                         ::testing::Combine(::testing::ValuesIn(kCases),
                                            ::testing::ValuesIn(supported_cpu_levels())),
                         [](const ::testing::TestParamInfo<std::tuple<HybridCase, CpuLevel>>& info) {
                             return test_name(std::string(std::get<0>(info.param).name) + "_" +
                                              cpu_level_name(std::get<1>(info.param)));
                         });

// --- the recurrent state across passes, sequences and checkpoints ---------------------

// Our own runs of the same tokens split differently: a row meets other kernels in a batch
// than alone (register-blocked tiles against one-row products), so logits agree within
// the F16 tolerance, not bit for bit.
constexpr double kSameTokens = 3e-2;

class HybridState : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        ref_ = load_reference(std::string(GetParam()) + ".topk.json");
        model_ = Model::load(model_path(ref_));
        tokens_ = ref_.at("prompts").at(0).at("tokens").get<std::vector<int32_t>>();
    }
    // Logits of tokens[from, to) of sequence `seq`, decoded in passes of `piece` tokens.
    static std::vector<float> run(Context& ctx, const std::vector<int32_t>& tokens, size_t from, size_t to,
                                  size_t piece, int32_t seq = 0) {
        std::vector<float> out;
        for (size_t start = from; start < to; start += piece) {
            Batch batch;
            const size_t end = std::min(to, start + piece);
            for (size_t i = start; i < end; ++i) batch.add(tokens[i], int32_t(i), seq, true);
            ctx.decode(batch);
            for (int r = 0; r < ctx.n_outputs(); ++r) {
                out.insert(out.end(), ctx.output(r), ctx.output(r) + ctx.output_size());
            }
        }
        return out;
    }
    static double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
        EXPECT_EQ(a.size(), b.size());
        double m = 0.0;
        for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
        return m;
    }
    json ref_;
    std::unique_ptr<Model> model_;
    std::vector<int32_t> tokens_;
};

// One pass over the whole prompt (chunked form) and passes of 1, 5 and 50 tokens (the
// state carried between passes, recurrent and chunked forms mixed) give the same logits.
TEST_P(HybridState, PassesOfAnySizeGiveTheSameLogits) {
    Context ctx(*model_, reference_params());
    const std::vector<float> whole = run(ctx, tokens_, 0, tokens_.size(), tokens_.size());
    for (size_t piece : {size_t(1), size_t(5), size_t(50)}) {
        ctx.seq_clear(0);
        EXPECT_LT(max_diff(whole, run(ctx, tokens_, 0, tokens_.size(), piece)), kSameTokens) << "passes of " << piece;
    }
}

// Two sequences decoded together in one batch each get their own state.
TEST_P(HybridState, SequencesInOneBatchKeepTheirOwnState) {
    ContextParams p = reference_params();
    p.n_seq = 2;
    p.n_ctx = 512;
    Context alone(*model_, reference_params());
    const size_t n = 80;
    const std::vector<float> a = run(alone, tokens_, 0, n, n);
    std::vector<int32_t> other(tokens_.rbegin(), tokens_.rend());
    alone.seq_clear(0);
    const std::vector<float> b = run(alone, other, 0, n, n);

    Context both(*model_, p);
    Batch batch;
    for (size_t i = 0; i < n; ++i) {   // interleaved rows of the two sequences
        batch.add(tokens_[i], int32_t(i), 0, true);
        batch.add(other[i], int32_t(i), 1, true);
    }
    both.decode(batch);
    std::vector<float> a2, b2;
    for (int r = 0; r < both.n_outputs(); ++r) {
        std::vector<float>& to = r % 2 == 0 ? a2 : b2;
        to.insert(to.end(), both.output(r), both.output(r) + both.output_size());
    }
    EXPECT_LT(max_diff(a, a2), kSameTokens);
    EXPECT_LT(max_diff(b, b2), kSameTokens);
}

// The prompt cache: after a checkpoint at 70 positions and 30 more, truncating to 85
// returns to the checkpoint (70); evaluating 70.. again gives the logits of a fresh run.
// Without a checkpoint the sequence starts again.
TEST_P(HybridState, TruncateReturnsToTheLongestCheckpoint) {
    Context ctx(*model_, reference_params());
    const std::vector<float> fresh = run(ctx, tokens_, 0, 110, 110);
    ctx.seq_clear(0);
    run(ctx, tokens_, 0, 40, 40);
    ctx.seq_checkpoint(0);
    run(ctx, tokens_, 40, 70, 30);
    ctx.seq_checkpoint(0);
    run(ctx, tokens_, 70, 100, 30);
    EXPECT_EQ(ctx.seq_truncate(0, 85), 70);
    EXPECT_EQ(ctx.seq_length(0), 70);
    const std::vector<float> resumed = run(ctx, tokens_, 70, 110, 40);
    const std::vector<float> tail(fresh.end() - std::ptrdiff_t(40 * ctx.output_size()), fresh.end());
    EXPECT_LT(max_diff(tail, resumed), kSameTokens);
    // The checkpoint at 70 was written before the rewrite, which is the same tokens; the one
    // at 40 survives too. Truncating to 50 goes back to 40.
    EXPECT_EQ(ctx.seq_truncate(0, 50), 40);
    EXPECT_EQ(ctx.seq_truncate(0, 20), 0);   // no checkpoint below 40: start again
    EXPECT_EQ(ctx.seq_length(0), 0);
}

INSTANTIATE_TEST_SUITE_P(Models, HybridState,
                         // qwen35moe shares qwen35's recurrent code; its router turns rounding
                         // differences between splits into different expert mixes (0.1).
                         ::testing::Values("hybrid-lfm2-f16", "hybrid-qwen35-f16"),
                         [](const ::testing::TestParamInfo<const char*>& info) { return test_name(info.param); });

}  // namespace
}  // namespace mmojo
