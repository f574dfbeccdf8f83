// The shared harness of the fidelity tests against llama.cpp's recorded outputs (format and
// procedure of ../shared/reference/README.md, "Top-k and greedy files"):
//  - check_topk: teacher-forced top-10 log-probabilities, one decode per prompt asking for
//    every position, our log-softmax (log Z in double) looked up at each reference id;
//    a position whose recorded llama.cpp noise (its own batched versus one-token paths,
//    positions[i].noise, when the file has it) exceeds `near_tie` is listed and skipped,
//    and a different top-1 id where llama.cpp's two best are closer than `near_tie` is
//    listed, not counted as a disagreement;
//  - check_greedy: the prompt in one decode, then one-token decodes, compared with the
//    reference ids up to the first step whose reference margin is below `min_margin`;
//  - generated_model: a test model made at test time by one of the repository's
//    generator scripts (the project's .venv Python), checked against the reference's sha256,
//    so the weights are the ones llama.cpp saw.
// Used by arch_fidelity_test, moe_fidelity_test, family_fidelity_test and
// hybrid_fidelity_test.
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

#include "base/cpu_features.h"
#include "model/model.h"
#include "package/archive/sha256.h"
#include "runtime/context.h"

namespace mmojo::fidelity {

using nlohmann::json;

// Rows of the shared README's tolerance table ("What a from-scratch implementation can be
// held to"): max and mean |delta logprob| over the top-10 entries, share of positions
// with the same top-1 id, and the reference margin below which greedy stops comparing.
struct Limits {
    double max_abs, mean_abs, top1_fraction, greedy_margin;
};
constexpr Limits kF16Limits{3e-2, 5e-3, 1.0, 0.05};
constexpr Limits kQuantizedLimits{1.0, 0.15, 0.90, 1.0};
// The quantized row, but greedy until a margin below 0.05 instead of 1.0: for types whose
// products round activations as llama.cpp's do (Q8_0, Q4_0, MXFP4), which the README
// allows holding tighter.
constexpr Limits kQuantizedSameRounding{1.0, 0.15, 0.90, 0.05};

inline json read_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    return json::parse(in);
}

inline std::string file_sha256(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    return Sha256::hex(Sha256::digest(bytes.data(), bytes.size()));
}

// The model of `reference` ("<prefix>-<arch>-<type>.gguf") in `folder` under the working
// directory, made by `script` (scripts/ of the source tree) unless a file with the
// recorded sha256 is already there.
inline std::string generated_model(const json& reference, const std::string& folder, const std::string& script) {
    namespace fs = std::filesystem;
    const std::string source = MMOJO_SOURCE_DIR;
    const std::string file = reference.at("model").get<std::string>();
    const std::string stem = file.substr(0, file.size() - 5);   // without .gguf
    const std::string path = (fs::current_path() / folder / file).string();
    const std::string sha = reference.at("sha256").get<std::string>();
    if (fs::exists(path) && file_sha256(path) == sha) return path;
    fs::create_directories(fs::path(path).parent_path());
    const size_t first = stem.find('-');
    const size_t last = stem.rfind('-');
    const std::string arch = stem.substr(first + 1, last - first - 1);
    std::string type = stem.substr(last + 1);
    for (char& ch : type) ch = char(std::toupper(static_cast<unsigned char>(ch)));
    const std::string command = "'" + source + "/.venv/bin/python' '" + source + "/scripts/" + script +
                                "' --arch " + arch + " --type " + type + " '" + path + "'";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
    if (file_sha256(path) != sha) {
        throw std::runtime_error(path + " does not have the sha256 of the reference (" + sha +
                                 "): the generator or its numpy/gguf versions changed");
    }
    return path;
}

// The reference's settings: F32 cache, n_batch 256.
inline ContextParams context_params(uint32_t n_ctx) {
    ContextParams p;
    p.n_ctx = n_ctx;
    p.n_batch = 256;
    p.n_threads = 2;
    p.type_k = TensorType::kF32;
    p.type_v = TensorType::kF32;
    return p;
}

inline int32_t best_id(const float* logits, int64_t n) {
    return int32_t(std::max_element(logits, logits + n) - logits);   // first maximum
}

struct Figures {
    double max_abs = 0.0, mean_abs = 0.0;
    int positions = 0, top1_same = 0;
    // Top-1 ids that differ where llama.cpp's two best are closer than `near_tie`: not
    // counted as disagreements ("prompt:position").
    std::vector<std::string> top1_ties;
    int greedy_compared = 0, greedy_same = 0;
    std::vector<std::string> near_ties;   // "prompt:position" skipped by check_topk
};

// top1_margin: a different top-1 id counts as a tie, not a disagreement, where llama.cpp's
// two best are closer than this (default: near_tie).
inline void check_topk(Model& model, const json& ref, const ContextParams& params, double near_tie, Figures& f,
                       double top1_margin = -1.0) {
    if (top1_margin < 0.0) top1_margin = near_tie;
    Context ctx(model, params);
    const int64_t n_vocab = model.hparams().n_vocab;
    EXPECT_EQ(n_vocab, ref.at("n_vocab").get<int64_t>());
    double total = 0.0;
    int64_t count = 0;
    for (const json& prompt : ref.at("prompts")) {
        const auto tokens = prompt.at("tokens").get<std::vector<int32_t>>();
        ctx.seq_clear(0);
        Batch batch;
        for (size_t i = 0; i < tokens.size(); ++i) batch.add(tokens[i], int32_t(i), 0, true);
        ctx.decode(batch);
        const json& positions = prompt.at("positions");
        EXPECT_EQ(size_t(ctx.n_outputs()), positions.size());
        for (const json& position : positions) {
            const int i = position.at("pos").get<int>();
            if (i >= ctx.n_outputs()) continue;
            // llama.cpp's own two paths disagree here by more than the tolerance.
            if (position.value("noise", 0.0) > near_tie) {
                f.near_ties.push_back(std::to_string(&prompt - &ref.at("prompts")[0]) + ":" + std::to_string(i));
                continue;
            }
            const float* logits = ctx.output(i);
            const double top = *std::max_element(logits, logits + n_vocab);
            double z = 0.0;
            for (int64_t t = 0; t < n_vocab; ++t) z += std::exp(double(logits[t]) - top);
            const double log_z = top + std::log(z);
            for (const json& entry : position.at("top")) {
                const double ours = double(logits[entry.at(0).get<int32_t>()]) - log_z;
                const double diff = std::fabs(ours - entry.at(1).get<double>());
                f.max_abs = std::max(f.max_abs, diff);
                total += diff;
                ++count;
            }
            ++f.positions;
            const json& ref_top = position.at("top");
            if (best_id(logits, n_vocab) == ref_top.at(0).at(0).get<int32_t>()) {
                ++f.top1_same;
            } else if (ref_top.at(0).at(1).get<double>() - ref_top.at(1).at(1).get<double>() < top1_margin) {
                f.top1_ties.push_back(std::to_string(&prompt - &ref.at("prompts")[0]) + ":" + std::to_string(i));
            }
        }
    }
    f.mean_abs = count ? total / double(count) : 1e9;
}

// `listed`: greedy near-ties, "prompt:step" where llama.cpp's margin is so small that a
// rounding flip decides it; a different id there ends that prompt's comparison without a
// failure (and is named in f.near_ties).
inline void check_greedy(Model& model, const json& ref, const ContextParams& params, double min_margin, Figures& f,
                         const std::vector<std::string>& listed = {}) {
    Context ctx(model, params);
    const int64_t n_vocab = model.hparams().n_vocab;
    for (const json& prompt : ref.at("prompts")) {
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
                const std::string where = std::to_string(&prompt - &ref.at("prompts")[0]) + ":" + std::to_string(step);
                if (std::find(listed.begin(), listed.end(), where) != listed.end()) {
                    --f.greedy_compared;
                    f.near_ties.push_back("greedy " + where);
                    break;
                }
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

// The figures against `limits`, as every fidelity test asserts them: all `n_positions`
// positions compared or skipped as llama.cpp's near-ties (at most `max_near_ties`; listed
// greedy near-ties are not counted).
inline void expect_within(const Figures& f, const Limits& limits, int n_positions, size_t max_near_ties) {
    const auto greedy_ties = std::count_if(f.near_ties.begin(), f.near_ties.end(),
                                           [](const std::string& t) { return t.rfind("greedy ", 0) == 0; });
    EXPECT_EQ(f.positions + int(f.near_ties.size()) - int(greedy_ties), n_positions);
    EXPECT_LE(f.near_ties.size() - size_t(greedy_ties), max_near_ties);
    EXPECT_LE(f.max_abs, limits.max_abs);
    EXPECT_LE(f.mean_abs, limits.mean_abs);
    EXPECT_GE(double(f.top1_same), limits.top1_fraction * double(f.positions - int(f.top1_ties.size())));
    EXPECT_GT(f.greedy_compared, 0);
}

inline std::string near_tie_list(const Figures& f) {
    std::string ties;
    for (const std::string& t : f.near_ties) ties += " " + t;
    for (const std::string& t : f.top1_ties) ties += " top-1 " + t;
    return ties.empty() ? " none" : ties;
}

// A gtest parameter name from free text: every character that is not alphanumeric -> '_'.
inline std::string test_name(std::string name) {
    for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    }
    return name;
}

}  // namespace mmojo::fidelity
