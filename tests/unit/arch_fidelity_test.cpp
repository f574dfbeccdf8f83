// Fidelity of the non-llama architectures against llama.cpp (shared/reference, section
// "Other architectures" of its README):
//  - decoders (qwen2, qwen3, gemma2, gemma3 F16 and Q8_0, phi3 at n_ctx 256 and 8192):
//    teacher-forced top-10 log-probabilities of 4 prompts x 48 positions (one decode per
//    prompt, F32 KV cache), our log-softmax looked up at each reference id; and greedy
//    continuations from one-token decodes up to the first step whose reference margin is
//    below the tolerance row's threshold;
//  - bert: the tokenization of 6 sentences, each token's final hidden state, and the
//    mean-pooled, L2-normalized embedding (cosine with the reference > 0.9999).
// Measured figures are printed for the report.
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
#include <vector>

#include "fidelity_harness.h"
#include "model/model.h"
#include "kernels/dispatch.h"
#include "runtime/context.h"

namespace mmojo {
namespace {

using namespace fidelity;

const std::string kShared = MMOJO_SHARED_DIR;

json load_reference(const std::string& file) { return read_json(kShared + "/reference/" + file); }

std::unique_ptr<Model> open_model(const json& reference) {
    static const bool kernels_chosen = [] {
        select_kernels(detect_cpu_level());   // as the programs do at start-up
        return true;
    }();
    (void)kernels_chosen;
    return Model::load(kShared + "/models/" + reference.at("model").get<std::string>());
}

struct DecoderCase {
    const char* model;       // reference stem
    const char* suffix;      // "" or "-ctx8192"
    uint32_t n_ctx;
    Limits limits;
};

const DecoderCase kDecoders[] = {
    {"arch-qwen2-f16", "", 256, kF16Limits},     {"arch-qwen3-f16", "", 256, kF16Limits},
    {"arch-gemma2-f16", "", 256, kF16Limits},    {"arch-gemma3-f16", "", 256, kF16Limits},
    {"arch-gemma3-q8_0", "", 256, kQuantizedLimits},
    {"arch-phi3-f16", "", 256, kF16Limits},      {"arch-phi3-f16", "-ctx8192", 8192, kF16Limits},
};

ContextParams params_for(uint32_t n_ctx) { return context_params(n_ctx); }

class ArchDecoderFidelity : public ::testing::TestWithParam<DecoderCase> {};

TEST_P(ArchDecoderFidelity, TopkAndGreedyMatchLlamaCpp) {
    const DecoderCase& c = GetParam();
    const json topk = load_reference(std::string(c.model) + ".topk" + c.suffix + ".json");
    const json greedy = load_reference(std::string(c.model) + ".greedy" + c.suffix + ".json");
    ASSERT_EQ(topk.at("settings").at("n_ctx").get<uint32_t>(), c.n_ctx);
    std::unique_ptr<Model> model = open_model(topk);
    Figures f;
    check_topk(*model, topk, params_for(c.n_ctx), c.limits.max_abs, f);
    check_greedy(*model, greedy, params_for(c.n_ctx), c.limits.greedy_margin, f);
    std::printf("[arch-fidelity] %-18s %-8s max %.3e (tol %.2g)  mean %.3e (tol %.2g)  "
                "top-1 %d/%d  greedy %d/%d\n",
                c.model, c.suffix[0] ? c.suffix + 1 : "ctx256", f.max_abs, c.limits.max_abs,
                f.mean_abs, c.limits.mean_abs, f.top1_same, f.positions, f.greedy_same,
                f.greedy_compared);
    expect_within(f, c.limits, 192, 0);
}

INSTANTIATE_TEST_SUITE_P(Reference, ArchDecoderFidelity, ::testing::ValuesIn(kDecoders),
                         [](const ::testing::TestParamInfo<DecoderCase>& info) {
                             return test_name(std::string(info.param.model) + info.param.suffix);
                         });

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

// BERT: tokens, per-token hidden states and pooled embeddings of the reference sentences,
// each sentence a sequence of its own (as the server's slots), all in one context.
TEST(ArchBertFidelity, EmbeddingsMatchLlamaServer) {
    const json ref = load_reference("arch-bert-f16.embeddings.json");
    std::unique_ptr<Model> model = open_model(ref);
    ASSERT_FALSE(model->hparams().causal);
    ASSERT_EQ(model->hparams().pooling, Pooling::kMean);
    const json& sentences = ref.at("sentences");
    ContextParams params = params_for(512 * uint32_t(sentences.size()));
    params.n_seq = uint32_t(sentences.size());
    params.n_batch = 512;
    params.embeddings = true;
    Context ctx(*model, params);
    const int64_t d = model->hparams().n_embd;
    ASSERT_EQ(ctx.output_size(), uint32_t(d));

    Batch batch;
    for (size_t s = 0; s < sentences.size(); ++s) {
        const std::string text = sentences[s].at("text").get<std::string>();
        const auto expected = sentences[s].at("tokens").get<std::vector<int32_t>>();
        const std::vector<TokenId> ours = model->tokenizer().encode(text, true, false);
        EXPECT_EQ(std::vector<int32_t>(ours.begin(), ours.end()), expected) << text;
        for (size_t i = 0; i < expected.size(); ++i) batch.add(expected[i], int32_t(i), int32_t(s), true);
    }
    ctx.decode(batch);

    int row = 0;
    double min_cos = 1.0, max_abs_embd = 0.0, max_abs_state = 0.0;
    for (const json& sentence : sentences) {
        const json& states = sentence.at("token_states");
        std::vector<double> mean(size_t(d), 0.0);
        for (const json& state : states) {
            const float* h = ctx.output(row++);
            for (int64_t k = 0; k < d; ++k) {
                mean[size_t(k)] += h[k];
                max_abs_state = std::max(max_abs_state, std::fabs(h[k] - state.at(size_t(k)).get<double>()));
            }
        }
        double norm = 0.0;
        for (double& v : mean) {
            v /= double(states.size());
            norm += v * v;
        }
        norm = std::sqrt(norm);
        EXPECT_NEAR(norm, sentence.at("pooled_l2_norm").get<double>(), 1e-2);
        const auto expected = sentence.at("embedding").get<std::vector<double>>();
        ASSERT_EQ(expected.size(), size_t(d));
        for (size_t k = 0; k < mean.size(); ++k) {
            mean[k] /= norm;
            max_abs_embd = std::max(max_abs_embd, std::fabs(mean[k] - expected[k]));
        }
        const double c = cosine(mean, expected);
        min_cos = std::min(min_cos, c);
        EXPECT_GT(c, 0.9999) << sentence.at("text").get<std::string>();
    }
    std::printf("[arch-fidelity] arch-bert-f16     embeddings: min cosine %.8f  max abs %.3e (tol 1e-3)  "
                "token states max abs %.3e (tol 1e-2)\n",
                min_cos, max_abs_embd, max_abs_state);
    EXPECT_LT(max_abs_embd, 1e-3);
    EXPECT_LT(max_abs_state, 1e-2);
}

// Every generated architecture model has a check above.
TEST(ArchFidelityCoverage, EveryArchitectureModelIsChecked) {
    std::set<std::string> covered{"arch-bert-f16"};
    for (const DecoderCase& c : kDecoders) covered.insert(c.model);
    int n_files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(kShared + "/models/gen")) {
        const std::string stem = entry.path().stem().string();
        if (entry.path().extension() == ".gguf" && stem.rfind("arch-", 0) == 0) {
            ++n_files;
            EXPECT_TRUE(covered.count(stem)) << stem << " has no fidelity check";
        }
    }
    EXPECT_EQ(n_files, 7);
}

}  // namespace
}  // namespace mmojo
