// The harness of the fidelity tests against llama.cpp's recorded outputs (moe_fidelity_test,
// hybrid_fidelity_test): the random-weight models are made at test time by a generator
// script (the project's .venv Python with numpy and gguf) into a folder under the working
// directory, and the sha256 recorded in the reference must match, so the weights are the
// ones llama.cpp saw; the references (recorded by scripts/record_*_reference.py with the
// procedure and format of ../shared/reference/README.md) give teacher-forced top-10
// log-probabilities and greedy continuations from one-token decodes, with the margin of
// every greedy step.
//  - check_topk decodes each prompt's tokens in one batch and looks our log-softmax up at
//    each reference id; a position where llama.cpp's own batched and one-token paths differ
//    by more than `near_tie` (positions[i].noise) is listed and skipped.
//  - check_greedy follows the reference up to the first step whose margin is below the
//    tolerance row's threshold (a near-tie, where either choice is right).
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "model/model.h"
#include "package/archive/sha256.h"
#include "runtime/context.h"

namespace mmojo::fidelity {

// Where one family of references lives and how its models are made.
struct ReferenceSet {
    std::string reference_dir;   // under the source tree, e.g. "tests/reference/moe"
    std::string models_dir;      // under the working directory, e.g. "moe-models"
    std::string generator;       // under the source tree, e.g. "scripts/make_moe_test_model.py"
    std::string prefix;          // model names are <prefix><arch>-<type>, e.g. "moe-"
};

inline const std::string& source_dir() {
    static const std::string dir = MMOJO_SOURCE_DIR;
    return dir;
}

inline nlohmann::json load_reference(const ReferenceSet& set, const std::string& name) {
    const std::string path = source_dir() + "/" + set.reference_dir + "/" + name;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    return nlohmann::json::parse(in);
}

inline std::string file_sha256(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    return Sha256::hex(Sha256::digest(bytes.data(), bytes.size()));
}

// The model of `reference`, generated unless a file with the recorded sha256 is there.
inline std::string model_path(const ReferenceSet& set, const nlohmann::json& reference) {
    namespace fs = std::filesystem;
    const std::string file = reference.at("model").get<std::string>();
    const std::string stem = file.substr(0, file.size() - 5);   // without .gguf
    const std::string path = (fs::current_path() / set.models_dir / file).string();
    const std::string sha = reference.at("sha256").get<std::string>();
    if (!fs::exists(path) || file_sha256(path) != sha) {
        fs::create_directories(fs::path(path).parent_path());
        const size_t dash = stem.rfind('-');
        const std::string arch = stem.substr(set.prefix.size(), dash - set.prefix.size());
        std::string type = stem.substr(dash + 1);
        for (char& ch : type) ch = char(std::toupper(static_cast<unsigned char>(ch)));
        const std::string command = "'" + source_dir() + "/.venv/bin/python' '" + source_dir() + "/" +
                                    set.generator + "' --arch " + arch + " --type " + type + " '" + path + "'";
        if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
        if (file_sha256(path) != sha) {
            throw std::runtime_error(path + " does not have the sha256 of the reference (" + sha +
                                     "): the generator or its numpy/gguf versions changed");
        }
    }
    return path;
}

struct Limits {
    double max_abs, mean_abs, top1_fraction, greedy_margin;
};
// The shared README's row for F16 files.
constexpr Limits kF16Limits{3e-2, 5e-3, 1.0, 0.05};

// The context of the recordings: 256 positions, one batch per prompt, F32 cache.
inline ContextParams reference_params() {
    ContextParams p;
    p.n_ctx = 256;
    p.n_batch = 256;
    p.n_threads = 2;
    p.type_k = TensorType::kF32;
    p.type_v = TensorType::kF32;
    return p;
}

inline int32_t best_id(const float* logits, int64_t n) {
    return int32_t(std::max_element(logits, logits + n) - logits);
}

struct Figures {
    double max_abs = 0.0, mean_abs = 0.0;
    int positions = 0, top1_same = 0;
    int top1_compared = 0;                // positions whose reference top-1 leads by >= top1_margin
    int greedy_compared = 0, greedy_same = 0;
    std::vector<std::string> near_ties;   // "prompt:position" skipped
};

// top1_margin: the top-1 ids are compared where the reference's best leads its second by at
// least this much (a closer pair is a near-tie that rounding decides either way).
inline void check_topk(Model& model, const nlohmann::json& ref, double near_tie, Figures& f,
                       double top1_margin = 0.0, const ContextParams& params = reference_params()) {
    Context ctx(model, params);
    const int64_t n_vocab = model.hparams().n_vocab;
    EXPECT_EQ(n_vocab, ref.at("n_vocab").get<int64_t>());
    double total = 0.0;
    int64_t count = 0;
    for (const nlohmann::json& prompt : ref.at("prompts")) {
        const auto tokens = prompt.at("tokens").get<std::vector<int32_t>>();
        ctx.seq_clear(0);
        Batch batch;
        for (size_t i = 0; i < tokens.size(); ++i) batch.add(tokens[i], int32_t(i), 0, true);
        ctx.decode(batch);
        for (const nlohmann::json& position : prompt.at("positions")) {
            const int i = position.at("pos").get<int>();
            if (position.at("noise").get<double>() > near_tie) {
                f.near_ties.push_back(std::to_string(&prompt - &ref.at("prompts")[0]) + ":" + std::to_string(i));
                continue;
            }
            const float* logits = ctx.output(i);
            const double top = *std::max_element(logits, logits + n_vocab);
            double z = 0.0;
            for (int64_t t = 0; t < n_vocab; ++t) z += std::exp(double(logits[t]) - top);
            const double log_z = top + std::log(z);
            for (const nlohmann::json& entry : position.at("top")) {
                const double ours = double(logits[entry.at(0).get<int32_t>()]) - log_z;
                const double diff = std::fabs(ours - entry.at(1).get<double>());
                f.max_abs = std::max(f.max_abs, diff);
                total += diff;
                ++count;
            }
            ++f.positions;
            const nlohmann::json& ranked = position.at("top");
            if (ranked.at(0).at(1).get<double>() - ranked.at(1).at(1).get<double>() >= top1_margin) {
                ++f.top1_compared;
                f.top1_same += best_id(logits, n_vocab) == ranked.at(0).at(0).get<int32_t>();
            }
        }
    }
    f.mean_abs = count ? total / double(count) : 1e9;
}

inline void check_greedy(Model& model, const nlohmann::json& ref, double min_margin, Figures& f,
                         const ContextParams& params = reference_params()) {
    Context ctx(model, params);
    const int64_t n_vocab = model.hparams().n_vocab;
    for (const nlohmann::json& prompt : ref.at("prompts")) {
        const auto prompt_tokens = prompt.at("prompt_tokens").get<std::vector<int32_t>>();
        const auto expected = prompt.at("tokens").get<std::vector<int32_t>>();
        const auto margins = prompt.at("margins").get<std::vector<double>>();
        ctx.seq_clear(0);
        Batch batch;
        for (size_t i = 0; i < prompt_tokens.size(); ++i) {
            batch.add(prompt_tokens[i], int32_t(i), 0, i + 1 == prompt_tokens.size());
        }
        ctx.decode(batch);
        for (size_t step = 0; step < expected.size() && margins.at(step) >= min_margin; ++step) {
            const int32_t next = best_id(ctx.output(0), n_vocab);
            ++f.greedy_compared;
            if (next != expected[step]) {
                ADD_FAILURE() << "greedy step " << step << " of '" << prompt.at("text").get<std::string>()
                              << "': got " << next << ", expected " << expected[step];
                break;
            }
            ++f.greedy_same;
            batch.clear();
            batch.add(next, ctx.seq_length(0), 0, true);
            ctx.decode(batch);
        }
    }
}

// A test name of letters, digits and underscores.
inline std::string test_name(std::string name) {
    for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    }
    return name;
}

}  // namespace mmojo::fidelity
