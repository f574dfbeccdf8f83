// grammar_bench: generation speed with and without a grammar on the same model, prompt and
// sampling settings, to see what constrained output costs per token.
//
//   grammar_bench -m MODEL [-n 64] [-r 4] [-t 2] [--schema FILE.json] [--grammar FILE.gbnf]
//
// Each round runs both sides from an empty cache, in alternating order (unconstrained first
// in even rounds, constrained first in odd ones), so a slow spell of a shared machine hits
// both; a side's figure is its total tokens over its total time, sampling and decoding
// included, and the median over rounds of the per-round ratio is printed too (less moved
// by one slow spell). The grammar is a JSON schema (default: a list of records with free-text
// strings, numbers, an enum and a date), so most steps are inside strings where nearly
// every token is allowed, and a few are where only punctuation is. Also printed: how often
// the sampler needed the whole-vocabulary mask, its mean time, the time per token spent
// sampling (the grammar's whole cost, less exposed to the machine's load than the decode
// that dominates a token), and the time to build the
// vocabulary trie (once per model). Figures on a machine shared with other jobs are
// noisy; run under `nice` and compare the ratio rather than the absolute speeds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/batch.h"
#include "model/model.h"
#include "runtime/context.h"
#include "sampling/grammar_sampler.h"
#include "sampling/json_schema_grammar.h"
#include "sampling/sampler.h"

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

const char* kDefaultSchema = R"({"type":"array","items":{"type":"object","properties":{
  "name":{"type":"string"},"note":{"type":"string"},"count":{"type":"integer"},
  "kind":{"enum":["book","film","song"]},"when":{"type":"string","format":"date"}},
  "required":["name","note","count","kind","when"]}})";

// Counts the calls to the whole-vocabulary mask and their time.
class TimedConstraint : public mmojo::TokenConstraint {
public:
    explicit TimedConstraint(mmojo::GrammarSampler& g) : g_(g) {}
    bool allows(int32_t t) override { return g_.allows(t); }
    void allowed(std::vector<uint8_t>& mask) override {
        const auto t0 = Clock::now();
        g_.allowed(mask);
        mask_ms += ms_since(t0);
        ++n_masks;
    }
    bool allowed_if_cheap(std::vector<uint8_t>& mask, size_t effort) override {
        const auto t0 = Clock::now();
        const bool ok = g_.allowed_if_cheap(mask, effort);
        if (ok) {
            mask_ms += ms_since(t0);
            ++n_cheap;
        }
        return ok;
    }
    double mask_ms = 0;
    int n_masks = 0, n_cheap = 0;

private:
    mmojo::GrammarSampler& g_;
};

struct Run {
    int tokens = 0;
    double ms = 0;
    int masks = 0, cheap = 0;
    double mask_ms = 0;
    double sample_ms = 0;   // in sample() and the grammar's accept(), not decoding
    std::string text;
};

Run generate(mmojo::Model& model, mmojo::Context& ctx, const std::vector<int32_t>& prompt, int n,
             const std::shared_ptr<const mmojo::Grammar>& grammar,
             const std::shared_ptr<const mmojo::TokenVocabulary>& vocab) {
    const mmojo::Tokenizer& tok = model.tokenizer();
    mmojo::SamplingParams sp;
    sp.seed = 42;
    mmojo::Sampler sampler(sp, tok.n_vocab());
    std::unique_ptr<mmojo::GrammarSampler> gs;
    std::unique_ptr<TimedConstraint> timed;
    if (grammar) {
        gs = std::make_unique<mmojo::GrammarSampler>(grammar, vocab);
        timed = std::make_unique<TimedConstraint>(*gs);
    }
    ctx.seq_clear(0);
    mmojo::Batch batch;
    for (size_t i = 0; i < prompt.size(); ++i) batch.add(prompt[i], int32_t(i), 0, i + 1 == prompt.size());
    ctx.decode(batch);
    Run run;
    const auto t0 = Clock::now();
    int32_t pos = int32_t(prompt.size());
    for (int i = 0; i < n; ++i) {
        int32_t id = 0;
        const auto t_sample = Clock::now();
        try {
            id = sampler.sample(ctx.output(0), nullptr, timed.get());
        } catch (const mmojo::NoAllowedToken&) {
            break;   // a complete grammar in a vocabulary without EOS
        }
        sampler.accept(id);
        if (gs) gs->accept(id);
        run.sample_ms += ms_since(t_sample);
        if (tok.is_eog(id)) break;
        run.text += tok.token_to_piece(id, false);
        ++run.tokens;
        batch.clear();
        batch.add(id, pos++, 0, true);
        ctx.decode(batch);
    }
    run.ms = ms_since(t0);
    if (timed) {
        run.masks = timed->n_masks;
        run.cheap = timed->n_cheap;
        run.mask_ms = timed->mask_ms;
    }
    return run;
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
    std::string model_path, schema_path, grammar_path;
    int n = 64, rounds = 4, threads = 2;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "-m") model_path = next();
        else if (a == "-n") n = std::atoi(next().c_str());
        else if (a == "-r") rounds = std::atoi(next().c_str());
        else if (a == "-t") threads = std::atoi(next().c_str());
        else if (a == "--schema") schema_path = next();
        else if (a == "--grammar") grammar_path = next();
        else {
            std::fprintf(stderr, "usage: grammar_bench -m MODEL [-n 64] [-r 4] [-t 2] [--schema F] [--grammar F]\n");
            return 2;
        }
    }
    if (model_path.empty()) {
        std::fprintf(stderr, "grammar_bench: -m MODEL is required\n");
        return 2;
    }
    try {
        auto model = mmojo::Model::load(model_path);
        mmojo::ContextParams cp;
        cp.n_ctx = 1024;
        cp.n_seq = 1;
        cp.n_threads = threads;
        mmojo::Context ctx(*model, cp);
        const mmojo::Tokenizer& tok = model->tokenizer();

        const std::string gbnf = !grammar_path.empty() ? read_file(grammar_path)
                                 : mmojo::json_schema_to_gbnf(nlohmann::ordered_json::parse(
                                       schema_path.empty() ? std::string(kDefaultSchema) : read_file(schema_path)));
        auto grammar = mmojo::Grammar::parse(gbnf);
        const auto t_vocab = Clock::now();
        auto vocab = mmojo::TokenVocabulary::from_tokenizer(tok);
        const double vocab_ms = ms_since(t_vocab);
        std::printf("model %s: %d tokens in the vocabulary, trie of %zu nodes built in %.0f ms\n", model_path.c_str(),
                    tok.n_vocab(), vocab->trie.nodes.size(), vocab_ms);

        const auto prompt = tok.encode("Here is a list of things I liked this year, as JSON:\n", true, true);
        generate(*model, ctx, prompt, 4, nullptr, vocab);   // warm-up
        Run plain_total, constrained_total;
        std::vector<double> ratios;   // per round: constrained / unconstrained tokens per second
        for (int r = 0; r < rounds; ++r) {
            double speed[2] = {0, 0};
            for (int side = 0; side < 2; ++side) {
                const bool constrained = (side == 1) != (r % 2 == 1);
                Run run = generate(*model, ctx, prompt, n, constrained ? grammar : nullptr, vocab);
                Run& total = constrained ? constrained_total : plain_total;
                speed[constrained ? 1 : 0] = run.tokens / run.ms;
                total.tokens += run.tokens;
                total.ms += run.ms;
                total.masks += run.masks;
                total.cheap += run.cheap;
                total.mask_ms += run.mask_ms;
                total.sample_ms += run.sample_ms;
                std::printf("round %d %-13s %3d tokens %8.1f ms  %6.2f tok/s%s\n", r,
                            constrained ? "constrained" : "unconstrained", run.tokens, run.ms,
                            1e3 * run.tokens / run.ms, constrained ? (" masks " + std::to_string(run.masks)).c_str() : "");
                if (constrained && r == 0) std::printf("  text: %.200s\n", run.text.c_str());
            }
            ratios.push_back(speed[1] / speed[0]);
        }
        std::sort(ratios.begin(), ratios.end());
        const double median = ratios.size() % 2 ? ratios[ratios.size() / 2]
                                                : 0.5 * (ratios[ratios.size() / 2 - 1] + ratios[ratios.size() / 2]);
        std::printf("per-round constrained/unconstrained: median %.3f (min %.3f, max %.3f)\n", median, ratios.front(),
                    ratios.back());
        const double plain = 1e3 * plain_total.tokens / plain_total.ms;
        const double constrained = 1e3 * constrained_total.tokens / constrained_total.ms;
        std::printf("unconstrained %.2f tok/s, constrained %.2f tok/s: constrained/unconstrained = %.3f\n", plain,
                    constrained, constrained / plain);
        std::printf("sampling per token: unconstrained %.2f ms, constrained %.2f ms (of %.1f and %.1f ms per token)\n",
                    plain_total.sample_ms / plain_total.tokens, constrained_total.sample_ms / constrained_total.tokens,
                    plain_total.ms / plain_total.tokens, constrained_total.ms / constrained_total.tokens);
        std::printf("whole-vocabulary masks: %d cheap (restrictive states) and %d after the best candidates "
                    "failed, of %d constrained steps; %.2f ms each on average\n",
                    constrained_total.cheap, constrained_total.masks, constrained_total.tokens,
                    constrained_total.masks + constrained_total.cheap
                        ? constrained_total.mask_ms / (constrained_total.masks + constrained_total.cheap)
                        : 0.0);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "grammar_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
