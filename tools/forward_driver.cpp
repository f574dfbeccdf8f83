// Test and diagnostic driver for the forward pass: runs a model on given token ids and
// prints what fidelity checks compare with llama.cpp and with a float64 reference
// (tests/integration/test_real_gemma3.py, scripts/fidelity/*.py).
//
//   forward_driver MODEL [--cache f32|f16] [--threads N] [--cpu LEVEL] [--n-ctx N]
//                  [--n-ubatch N] [--logits FILE] [--greedy N] (TOKEN... | --prompt TEXT)
//
// The tokens are one sequence (BOS included when the model wants it); --prompt tokenizes
// TEXT with the model's tokenizer (special tokens added, none parsed) instead.
//   --logits FILE  teacher forcing: all tokens in one decode with outputs everywhere; the
//                  logits (n_tokens x n_vocab float32, native byte order) go to FILE.
//   --greedy N     the tokens as a prompt in one decode, then N one-token steps, each the
//                  argmax of the last logits (lowest id on a tie).
//   --expect IDS   (comma-separated) with --greedy: stop after the first step whose token
//                  differs from the expected one at that step.
//   --n-ubatch N   tokens per forward pass (default: all of them in one pass).
// stdout gets one JSON object: {"n_vocab", "level", "n_ctx", "state_bytes" (KV cells and
// recurrent state of the context), "tokens", "greedy": [ids], "margins": [top-1 minus top-2
// logit of each step]}.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/model.h"
#include "kernels/dispatch.h"
#include "runtime/context.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace mmojo;

struct Args {
    std::string model;
    TensorType cache = TensorType::kF32;
    int threads = 1;
    uint32_t n_ctx = 256;
    uint32_t n_ubatch = 0;   // 0: n_ctx
    std::string level;
    std::string logits_path;
    int n_greedy = 0;
    std::vector<int32_t> expect;   // --expect: stop greedy at the first step that differs
    std::vector<int32_t> tokens;
    std::string prompt;
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string s = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error(s + " needs a value");
            return argv[++i];
        };
        if (s == "--cache") {
            const std::string v = value();
            if (v == "f32") a.cache = TensorType::kF32;
            else if (v == "f16") a.cache = TensorType::kF16;
            else throw std::runtime_error("--cache: f32 or f16, not " + v);
        } else if (s == "--threads") {
            a.threads = std::stoi(value());
        } else if (s == "--n-ctx") {
            a.n_ctx = uint32_t(std::stoul(value()));
        } else if (s == "--n-ubatch") {
            a.n_ubatch = uint32_t(std::stoul(value()));
        } else if (s == "--cpu") {
            a.level = value();
        } else if (s == "--logits") {
            a.logits_path = value();
        } else if (s == "--prompt") {
            a.prompt = value();
        } else if (s == "--expect") {
            const std::string v = value();
            for (size_t at = 0; at < v.size();) {
                const size_t comma = v.find(',', at);
                a.expect.push_back(int32_t(std::stol(v.substr(at, comma - at))));
                at = comma == std::string::npos ? v.size() : comma + 1;
            }
        } else if (s == "--greedy") {
            a.n_greedy = std::stoi(value());
        } else if (a.model.empty()) {
            a.model = s;
        } else {
            a.tokens.push_back(int32_t(std::stol(s)));
        }
    }
    if (a.model.empty() || (a.tokens.empty() && a.prompt.empty())) throw std::runtime_error("usage: forward_driver MODEL [options] TOKEN...");
    return a;
}

CpuLevel level_named(const std::string& name) {
    for (CpuLevel level : supported_cpu_levels()) {
        if (name == cpu_level_name(level)) return level;
    }
    throw std::runtime_error("--cpu: '" + name + "' is not a level this CPU supports");
}

int32_t argmax(const float* x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i) {
        if (x[i] > x[best]) best = i;
    }
    return int32_t(best);
}

float margin(const float* x, int64_t n, int32_t best) {
    float second = -3.4e38f;
    for (int64_t i = 0; i < n; ++i) {
        if (i != best) second = std::max(second, x[i]);
    }
    return x[best] - second;
}

int run(Args a) {
    select_kernels(a.level.empty() ? detect_cpu_level() : level_named(a.level));
    std::unique_ptr<Model> model = Model::load(a.model);
    if (!a.prompt.empty()) {
        for (int32_t id : model->tokenizer().encode(a.prompt, /*add_special=*/true, /*parse_special=*/false)) {
            a.tokens.push_back(id);
        }
    }
    const int64_t n_vocab = model->hparams().n_vocab;
    ContextParams params;
    params.n_ctx = std::max<uint32_t>(a.n_ctx, uint32_t(a.tokens.size() + size_t(a.n_greedy)));
    params.n_batch = params.n_ctx;
    params.n_ubatch = a.n_ubatch ? a.n_ubatch : params.n_ctx;
    params.n_threads = a.threads;
    params.type_k = a.cache;
    params.type_v = a.cache;
    Context ctx(*model, params);

    if (!a.logits_path.empty()) {
        Batch batch;
        for (size_t i = 0; i < a.tokens.size(); ++i) batch.add(a.tokens[i], int32_t(i), 0, true);
        ctx.decode(batch);
        std::ofstream out(a.logits_path, std::ios::binary);
        for (int i = 0; i < ctx.n_outputs(); ++i) {
            out.write(reinterpret_cast<const char*>(ctx.output(i)), std::streamsize(n_vocab * sizeof(float)));
        }
        if (!out) throw std::runtime_error("cannot write " + a.logits_path);
    }

    std::vector<int32_t> greedy;
    std::vector<float> margins;
    if (a.n_greedy > 0) {
        ctx.seq_clear(0);
        Batch batch;
        for (size_t i = 0; i < a.tokens.size(); ++i) batch.add(a.tokens[i], int32_t(i), 0, i + 1 == a.tokens.size());
        ctx.decode(batch);
        for (int step = 0; step < a.n_greedy; ++step) {
            const int32_t next = argmax(ctx.output(0), n_vocab);
            greedy.push_back(next);
            margins.push_back(margin(ctx.output(0), n_vocab, next));
            if (size_t(step) < a.expect.size() && next != a.expect[size_t(step)]) break;
            batch.clear();
            batch.add(next, ctx.seq_length(0), 0, true);
            ctx.decode(batch);
        }
    }

    std::printf("{\"n_vocab\": %lld, \"level\": \"%s\", \"n_ctx\": %u, \"state_bytes\": %zu, \"tokens\": [",
                static_cast<long long>(n_vocab), cpu_level_name(selected_cpu_level()), ctx.n_ctx(), ctx.state_bytes());
    for (size_t i = 0; i < a.tokens.size(); ++i) std::printf("%s%d", i ? ", " : "", a.tokens[i]);
    std::printf("], \"greedy\": [");
    for (size_t i = 0; i < greedy.size(); ++i) std::printf("%s%d", i ? ", " : "", greedy[i]);
    std::printf("], \"margins\": [");
    for (size_t i = 0; i < margins.size(); ++i) std::printf("%s%.6g", i ? ", " : "", double(margins[i]));
    std::printf("]}\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "forward_driver: %s\n", e.what());
        return 1;
    }
}
