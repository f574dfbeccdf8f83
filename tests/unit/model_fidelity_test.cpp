// Fidelity of the forward pass against llama.cpp (shared/reference, see its README):
//  - teacher-forced top-10 log-probabilities of 4 prompts x 48 positions, all 48 tokens
//    evaluated in one decode with outputs everywhere, F32 KV cache, n_ctx 256; our
//    log-softmax (in double) is looked up at every reference id and compared within the
//    README's tolerances for the weight type (max abs, mean abs, top-1 agreement);
//  - greedy continuations from one-token decodes, compared up to the first step whose
//    reference margin is below the tolerance row's threshold (all 48 for F32 weights);
//  - test-f32 with our own F16 KV cache against the reference's default-settings run.
// The measured figures are printed for the report.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "model/model.h"
#include "kernels/dispatch.h"
#include "runtime/context.h"

namespace mmojo {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kShared = MMOJO_SHARED_DIR;

json read_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return json::parse(in);
}

// A row of the README's tolerance table.
struct Tolerance {
    double max_abs;
    double mean_abs;
    double top1_min;        // fraction of positions whose top-1 id must agree
    double greedy_margin;   // compare greedy ids until the first step with a smaller margin
};

constexpr Tolerance kF32{1e-4, 1e-5, 1.0, 0.0};
constexpr Tolerance kF16{3e-2, 5e-3, 0.99, 0.05};
constexpr Tolerance kBF16{0.25, 0.03, 0.97, 0.25};
constexpr Tolerance kQuantized{1.0, 0.15, 0.90, 1.0};
constexpr Tolerance kF32WithF16Cache{5e-2, 1e-2, 0.99, 0.1};

struct ModelCase {
    const char* name;   // reference file stem
    Tolerance tolerance;
};

const ModelCase kCases[] = {
    {"stories260K", kF32},       {"test-f32", kF32},          {"llama-2-tiny-random", kF16},
    {"test-f16", kF16},          {"test-bf16", kBF16},        {"test-q8_0", kQuantized},
    {"test-q4_0", kQuantized},   {"test-q4_1", kQuantized},   {"test-q5_0", kQuantized},
    {"test-q5_1", kQuantized},   {"test-q2_k", kQuantized},   {"test-q3_k_m", kQuantized},
    {"test-q4_k_m", kQuantized}, {"test-q5_k_m", kQuantized}, {"test-q6_k", kQuantized},
    {"test-iq4_nl", kQuantized}, {"test-iq4_xs", kQuantized},
};

std::unique_ptr<Model> load_model(const json& reference) {
    return Model::load(kShared + "/models/" + reference.at("model").get<std::string>());
}

ContextParams reference_context(TensorType cache_type) {
    ContextParams params;
    params.n_ctx = 256;
    params.n_batch = 256;
    params.n_threads = 1;
    params.type_k = cache_type;
    params.type_v = cache_type;
    return params;
}

// log-softmax of n logits, in double.
std::vector<double> log_softmax(const float* logits, int64_t n) {
    double max_logit = logits[0];
    for (int64_t i = 1; i < n; ++i) max_logit = std::max(max_logit, double(logits[i]));
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(double(logits[i]) - max_logit);
    const double log_sum = std::log(sum) + max_logit;
    std::vector<double> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out[size_t(i)] = double(logits[i]) - log_sum;
    return out;
}

// The highest logit, lowest id on a tie.
int32_t argmax(const float* logits, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i) {
        if (logits[i] > logits[best]) best = i;
    }
    return int32_t(best);
}

struct TopkFigures {
    double max_abs = 0.0;
    double mean_abs = 0.0;
    int top1_agree = 0;
    int positions = 0;
};

// Teacher-forced comparison of every prompt of a topk reference file.
TopkFigures compare_topk(Model& model, const json& reference, TensorType cache_type) {
    Context ctx(model, reference_context(cache_type));
    const int64_t n_vocab = model.hparams().n_vocab;
    EXPECT_EQ(n_vocab, reference.at("n_vocab").get<int64_t>());
    TopkFigures f;
    double sum_abs = 0.0;
    int64_t n_entries = 0;
    for (const json& prompt : reference.at("prompts")) {
        const auto tokens = prompt.at("tokens").get<std::vector<int32_t>>();
        ctx.seq_clear(0);
        Batch batch;
        for (size_t i = 0; i < tokens.size(); ++i) batch.add(tokens[i], int32_t(i), 0, true);
        ctx.decode(batch);
        const json& positions = prompt.at("positions");
        EXPECT_EQ(ctx.n_outputs(), int(positions.size()));
        for (size_t i = 0; i < positions.size() && int(i) < ctx.n_outputs(); ++i) {
            const json& pos = positions[i];
            EXPECT_EQ(pos.at("pos").get<size_t>(), i);
            const float* logits = ctx.output(int(i));
            const std::vector<double> lp = log_softmax(logits, n_vocab);
            for (const json& entry : pos.at("top")) {
                const int32_t id = entry.at(0).get<int32_t>();
                const double diff = std::fabs(lp[size_t(id)] - entry.at(1).get<double>());
                f.max_abs = std::max(f.max_abs, diff);
                sum_abs += diff;
                ++n_entries;
            }
            f.top1_agree += argmax(logits, n_vocab) == pos.at("top").at(0).at(0).get<int32_t>();
            ++f.positions;
        }
    }
    f.mean_abs = n_entries ? sum_abs / double(n_entries) : 0.0;
    return f;
}

struct GreedyFigures {
    int compared = 0;    // steps compared over all prompts
    int matched = 0;     // of which equal
};

// Greedy continuation with one-token decodes, compared with the reference ids up to the
// first step whose reference margin is below `margin` (steps after it are not generated).
GreedyFigures compare_greedy(Model& model, const json& reference, double margin,
                             TensorType cache_type) {
    Context ctx(model, reference_context(cache_type));
    const int64_t n_vocab = model.hparams().n_vocab;
    GreedyFigures g;
    for (const json& prompt : reference.at("prompts")) {
        const auto prompt_tokens = prompt.at("prompt_tokens").get<std::vector<int32_t>>();
        const auto expected = prompt.at("tokens").get<std::vector<int32_t>>();
        const auto margins = prompt.at("margins").get<std::vector<double>>();
        size_t n_steps = 0;
        while (n_steps < expected.size() && margins.at(n_steps) >= margin) ++n_steps;

        ctx.seq_clear(0);
        Batch batch;
        for (size_t i = 0; i < prompt_tokens.size(); ++i) {
            batch.add(prompt_tokens[i], int32_t(i), 0, i + 1 == prompt_tokens.size());
        }
        ctx.decode(batch);
        std::vector<int32_t> generated;
        for (size_t step = 0; step < n_steps; ++step) {
            const int32_t next = argmax(ctx.output(0), n_vocab);
            generated.push_back(next);
            batch.clear();
            batch.add(next, ctx.seq_length(0), 0, true);
            ctx.decode(batch);
        }
        for (size_t step = 0; step < n_steps; ++step) {
            ++g.compared;
            if (generated[step] == expected[step]) {
                ++g.matched;
            } else {
                ADD_FAILURE() << "greedy step " << step << " of prompt '"
                              << prompt.at("text").get<std::string>() << "': got "
                              << generated[step] << ", expected " << expected[step];
                break;
            }
        }
    }
    return g;
}

// Every model at every kernel level this CPU supports (generic, and e.g. avx2, avx512,
// avx512vnni), as --cpu-features would select them.
class ModelFidelity : public ::testing::TestWithParam<std::tuple<ModelCase, CpuLevel>> {
protected:
    void TearDown() override { select_kernels(detect_cpu_level()); }
};

TEST_P(ModelFidelity, TopkAndGreedyMatchLlamaCpp) {
    const ModelCase& c = std::get<0>(GetParam());
    select_kernels(std::get<1>(GetParam()));
    const json topk = read_json(kShared + "/reference/" + c.name + ".topk.json");
    const json greedy = read_json(kShared + "/reference/" + c.name + ".greedy.json");
    std::unique_ptr<Model> model = load_model(topk);

    const TopkFigures f = compare_topk(*model, topk, TensorType::kF32);
    const double top1 = f.positions ? double(f.top1_agree) / f.positions : 0.0;
    const GreedyFigures g = compare_greedy(*model, greedy, c.tolerance.greedy_margin, TensorType::kF32);
    std::printf("[fidelity] %-20s %-10s max %.3e (tol %.2g)  mean %.3e (tol %.2g)  top-1 %d/%d  "
                "greedy %d/%d steps compared equal\n",
                c.name, cpu_level_name(std::get<1>(GetParam())), f.max_abs, c.tolerance.max_abs, f.mean_abs, c.tolerance.mean_abs,
                f.top1_agree, f.positions, g.matched, g.compared);
    EXPECT_EQ(f.positions, 192);
    EXPECT_LE(f.max_abs, c.tolerance.max_abs);
    EXPECT_LE(f.mean_abs, c.tolerance.mean_abs);
    EXPECT_GE(top1, c.tolerance.top1_min);
    if (c.tolerance.greedy_margin == 0.0) {
        EXPECT_EQ(g.compared, 4 * 48);   // F32: every step
    }
}

INSTANTIATE_TEST_SUITE_P(Reference, ModelFidelity,
                         ::testing::Combine(::testing::ValuesIn(kCases),
                                            ::testing::ValuesIn(supported_cpu_levels())),
                         [](const ::testing::TestParamInfo<std::tuple<ModelCase, CpuLevel>>& info) {
                             std::string name = std::string(std::get<0>(info.param).name) + "_" +
                                                cpu_level_name(std::get<1>(info.param));
                             for (char& ch : name) {
                                 if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                             }
                             return name;
                         });

// Our own F16 cache against llama.cpp's default settings (F16 cache, flash attention).
TEST(ModelFidelityF16Cache, TestF32MatchesDefaultSettings) {
    select_kernels(detect_cpu_level());
    const json topk = read_json(kShared + "/reference/test-f32.topk-default.json");
    const json greedy = read_json(kShared + "/reference/test-f32.greedy-default.json");
    std::unique_ptr<Model> model = load_model(topk);
    const TopkFigures f = compare_topk(*model, topk, TensorType::kF16);
    const GreedyFigures g = compare_greedy(*model, greedy, kF32WithF16Cache.greedy_margin, TensorType::kF16);
    std::printf("[fidelity] test-f32 with F16 cache vs topk-default: max %.3e (tol %.2g)  "
                "mean %.3e (tol %.2g)  top-1 %d/%d  greedy %d/%d\n",
                f.max_abs, kF32WithF16Cache.max_abs, f.mean_abs, kF32WithF16Cache.mean_abs,
                f.top1_agree, f.positions, g.matched, g.compared);
    EXPECT_LE(f.max_abs, kF32WithF16Cache.max_abs);
    EXPECT_LE(f.mean_abs, kF32WithF16Cache.mean_abs);
    EXPECT_GE(double(f.top1_agree) / f.positions, kF32WithF16Cache.top1_min);
}

// Every generated llama test model has a case above.
TEST(ModelFidelityCoverage, EveryGeneratedTestModelIsChecked) {
    std::set<std::string> covered;
    for (const ModelCase& c : kCases) covered.insert(c.name);
    int n_files = 0;
    for (const auto& entry : fs::directory_iterator(kShared + "/models/gen")) {
        const std::string stem = entry.path().stem().string();
        if (entry.path().extension() == ".gguf" && stem.rfind("test-", 0) == 0) {
            ++n_files;
            EXPECT_TRUE(covered.count(stem)) << stem << " has no fidelity case";
        }
    }
    EXPECT_EQ(n_files, 15);
}

}  // namespace
}  // namespace mmojo
