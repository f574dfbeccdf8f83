// bench: prompt-processing and generation speed, like llama-bench, plus memory read
// bandwidth to put generation speed in context.
//
//   bench -m MODEL [-m MODEL2 ...] [-t 1,2] [-p 128] [-n 64] [-r 5] [-b 2048]
//         [-ctk f16] [-ctv f16] [--bw-mib 1024] [--no-bw] [--perf-json PATH]
//
// ppN: one batch of N tokens (in -b chunks) from an empty cache, timed; tokens/s = N / time.
// tgN: N single-token decodes from an empty cache, timed together; tokens/s = N / time.
// Each figure is the median of -r runs (after one untimed warm-up run), with min and max.
// Token ids are random (mt19937, seed 1), as the speed does not depend on them.
//
// Bandwidth: a 1 GiB array of doubles is summed by T threads (each a contiguous slice, eight
// independent accumulators so the adds are not the limit); median GB/s of 9 passes at the
// start, and of 5 passes right after each tg test with that test's thread count.
// For tg, "roofline" is that second bandwidth / (bytes of tensor data): the generation speed
// if every token read every weight once at full bandwidth; "eff" is measured / roofline.
// For mixture-of-experts models the bytes are those one token reads: the chosen share of
// the experts, everything else, and one row of the embedding (bytes_read_per_token).
//
// Reference figures come from shared/reference/perf.json (llama-bench on this machine),
// matched by file name, else by tensor bytes, else ("~") by the bench preset of the same
// weight type for files named bench-*.gguf.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/app.h"
#include "model/model.h"
#include "kernels/dispatch.h"
#include "runtime/context.h"
#include "base/thread_pool.h"

namespace {

// Bytes of weights one generated token reads. Dense models: every tensor (the figure the
// existing tables use). Mixture-of-experts models (an <arch>.expert_count key): the 3-D
// expert tensors count expert_used_count / expert_count of their bytes, and the token
// embedding one row when the file has its own output matrix (the output row is all that
// is read of it).
uint64_t bytes_read_per_token(const mmojo::Model& model) {
    const mmojo::GgufFile& f = model.gguf();
    const std::string arch = model.hparams().arch;
    if (!f.has(arch + ".expert_count")) return model.size_bytes();
    const double used = double(f.get_u32_or(arch + ".expert_used_count", 1)) /
                        double(std::max<uint32_t>(1, f.get_u32(arch + ".expert_count")));
    const bool own_output = f.find_tensor("output.weight") != nullptr;
    double bytes = 0.0;
    for (const mmojo::GgufTensorInfo& t : f.tensors()) {
        if (t.name.find("_exps.") != std::string::npos) {
            bytes += double(t.n_bytes) * used;
        } else if (t.name == "token_embd.weight" && own_output) {
            bytes += double(t.n_bytes) / double(std::max<uint64_t>(1, t.rows()));
        } else {
            bytes += double(t.n_bytes);
        }
    }
    return uint64_t(bytes);
}

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct BenchArgs {
    std::vector<std::string> models;
    std::vector<int> threads;
    std::vector<int> n_prompt = {128};
    std::vector<int> n_gen = {64};
    int reps = 5;
    int n_batch = 2048;
    mmojo::TensorType type_k = mmojo::TensorType::kF16;
    mmojo::TensorType type_v = mmojo::TensorType::kF16;
    size_t bw_mib = 1024;
    bool bandwidth = true;
    std::string perf_json;
    std::string cpu_features;
};

struct Stats {
    double median = 0, min = 0, max = 0;
};

Stats stats_of(std::vector<double> v) {
    Stats s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    s.min = v.front();
    s.max = v.back();
    return s;
}

[[noreturn]] void usage_error(const std::string& msg) {
    throw std::invalid_argument(msg + " (see bench --help)");
}

long parse_long(const std::string& flag, const std::string& v, long lo, long hi) {
    char* end = nullptr;
    errno = 0;
    long x = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno == ERANGE) {
        usage_error("invalid value '" + v + "' for " + flag + ": expected an integer");
    }
    if (x < lo || x > hi) {
        usage_error("value " + v + " for " + flag + " is out of range: expected " + std::to_string(lo) + " to " +
                    std::to_string(hi));
    }
    return x;
}

std::vector<int> parse_list(const std::string& flag, const std::string& v, long lo, long hi) {
    std::vector<int> out;
    size_t start = 0;
    while (start <= v.size()) {
        size_t comma = v.find(',', start);
        if (comma == std::string::npos) comma = v.size();
        out.push_back(int(parse_long(flag, v.substr(start, comma - start), lo, hi)));
        start = comma + 1;
    }
    return out;
}

mmojo::TensorType parse_cache(const std::string& flag, const std::string& v) {
    if (v == "f32") return mmojo::TensorType::kF32;
    if (v == "f16") return mmojo::TensorType::kF16;
    usage_error("unsupported cache type '" + v + "' for " + flag + ": expected f32 or f16");
}

const char* kUsage =
    "usage: bench -m MODEL [options]\n"
    "  -m, --model FNAME       model to measure (repeat for several)\n"
    "  -t, --threads LIST      comma-separated thread counts (default: physical cores)\n"
    "  -p, --n-prompt LIST     prompt lengths for ppN tests, 0 = none (default: 128)\n"
    "  -n, --n-gen LIST        generation lengths for tgN tests, 0 = none (default: 64)\n"
    "  -r, --repetitions N     timed runs per test; the median is reported (default: 5)\n"
    "  -b, --batch-size N      most tokens per forward pass (default: 2048)\n"
    "  -ctk, -ctv TYPE         K/V cache type, f32 or f16 (default: f16)\n"
    "  --cpu-features LEVEL    use at most this SIMD level (generic, avx2, avx512, ...)\n"
    "  --bw-mib N              size of the bandwidth test buffer in MiB (default: 1024)\n"
    "  --no-bw                 skip the memory bandwidth test\n"
    "  --perf-json PATH        llama.cpp reference figures (default: shared/reference/perf.json\n"
    "                          found from $MMOJO_SHARED_DIR, the working folder or the program's)\n";

BenchArgs parse_args(int argc, char** argv) {
    BenchArgs a;
    for (int i = 1; i < argc; ++i) {
        std::string f = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error("missing value for " + f);
            return argv[++i];
        };
        if (f == "-h" || f == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (f == "-m" || f == "--model") {
            a.models.push_back(value());
        } else if (f == "-t" || f == "--threads") {
            a.threads = parse_list(f, value(), 1, 1024);
        } else if (f == "-p" || f == "--n-prompt") {
            a.n_prompt = parse_list(f, value(), 0, 1 << 20);
        } else if (f == "-n" || f == "--n-gen") {
            a.n_gen = parse_list(f, value(), 0, 1 << 20);
        } else if (f == "-r" || f == "--repetitions") {
            a.reps = int(parse_long(f, value(), 1, 1000));
        } else if (f == "-b" || f == "--batch-size") {
            a.n_batch = int(parse_long(f, value(), 1, 1 << 20));
        } else if (f == "-ctk" || f == "--cache-type-k") {
            a.type_k = parse_cache(f, value());
        } else if (f == "-ctv" || f == "--cache-type-v") {
            a.type_v = parse_cache(f, value());
        } else if (f == "--cpu-features") {
            a.cpu_features = value();
        } else if (f == "--bw-mib") {
            a.bw_mib = size_t(parse_long(f, value(), 1, 1 << 20));
        } else if (f == "--no-bw") {
            a.bandwidth = false;
        } else if (f == "--perf-json") {
            a.perf_json = value();
        } else {
            usage_error("unknown argument '" + f + "'");
        }
    }
    if (a.models.empty()) usage_error("no model given: pass -m/--model FNAME");
    if (a.threads.empty()) a.threads = {mmojo::physical_core_count()};
    return a;
}

// ---- memory bandwidth ----------------------------------------------------------------------

// Median GB/s (1e9 bytes per second) of reading `buf` with `pool`'s threads.
double measure_bandwidth(const std::vector<double>& buf, mmojo::ThreadPool& pool, int passes) {
    const int64_t n = int64_t(buf.size());
    std::vector<double> partial(size_t(pool.n_threads()) * 8, 0.0);  // one cache line per thread
    std::vector<double> rates;
    double sink = 0.0;
    for (int pass = 0; pass < passes + 1; ++pass) {
        auto t0 = Clock::now();
        pool.run([&](int ith, int nth) {
            int64_t begin = n * ith / nth, end = n * (ith + 1) / nth;
            double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            const double* p = buf.data();
            int64_t i = begin;
            for (; i + 8 <= end; i += 8) {
                for (int k = 0; k < 8; ++k) acc[k] += p[i + k];
            }
            for (; i < end; ++i) acc[0] += p[i];
            partial[size_t(ith) * 8] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        });
        double sec = std::chrono::duration<double>(Clock::now() - t0).count();
        for (int t = 0; t < pool.n_threads(); ++t) sink += partial[size_t(t) * 8];
        if (pass > 0) rates.push_back(double(n) * sizeof(double) / sec / 1e9);  // pass 0 warms up
    }
    if (sink == 42.0) std::fprintf(stderr, " ");  // keeps the sums observable
    return stats_of(rates).median;
}

// ---- llama.cpp reference figures -----------------------------------------------------------

std::string find_perf_json(const std::string& given, const char* argv0) {
    if (!given.empty()) return given;
    std::vector<fs::path> starts;
    if (const char* shared = std::getenv("MMOJO_SHARED_DIR")) {
        fs::path p = fs::path(shared) / "reference" / "perf.json";
        if (fs::exists(p)) return p.string();
    }
    std::error_code ec;
    starts.push_back(fs::current_path(ec));
    fs::path exe = fs::weakly_canonical(fs::path(argv0), ec);
    if (!ec) starts.push_back(exe.parent_path());
    for (fs::path dir : starts) {
        for (int up = 0; up < 6 && !dir.empty(); ++up) {
            fs::path p = dir / "shared" / "reference" / "perf.json";
            if (fs::exists(p, ec)) return p.string();
            if (dir == dir.parent_path()) break;
            dir = dir.parent_path();
        }
    }
    return "";
}

struct RefFigure {
    std::vector<double> medians;  // one per pass (A, B, ...)
    bool approx = false;
};

// Reference medians for (model, test, threads).
RefFigure find_reference(const nlohmann::json& perf, const std::string& model_path, uint64_t tensor_bytes,
                         const std::string& type_label, const std::string& test, int threads) {
    const std::string base = fs::path(model_path).filename().string();
    RefFigure exact, by_size, preset;
    preset.approx = true;
    if (!perf.contains("results")) return exact;
    for (const auto& r : perf["results"]) {
        if (r.value("test", "") != test || r.value("threads", 0) != threads) continue;
        const std::string name = r.value("model", "");
        const double median = r.value("median", 0.0);
        if (fs::path(name).filename().string() == base) {
            exact.medians.push_back(median);
        } else if (r.value("model_size_bytes", uint64_t(0)) == tensor_bytes) {
            by_size.medians.push_back(median);
        } else if (base.rfind("bench", 0) == 0 && name == "bench preset, " + type_label) {
            preset.medians.push_back(median);
        }
    }
    if (!exact.medians.empty()) return exact;
    if (!by_size.medians.empty()) return by_size;
    return preset;
}

std::string format_ref(const RefFigure& r) {
    if (r.medians.empty()) return "-";
    std::string s = r.approx ? "~" : "";
    for (size_t i = 0; i < r.medians.size(); ++i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s%.2f", i ? " / " : "", r.medians[i]);
        s += buf;
    }
    return s;
}

// ---- model tests ---------------------------------------------------------------------------

std::vector<int32_t> random_tokens(int n, uint32_t n_vocab, std::mt19937& rng) {
    std::uniform_int_distribution<int32_t> dist(0, int32_t(n_vocab) - 1);
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (int32_t& x : t) x = dist(rng);
    return t;
}

double time_prompt(mmojo::Context& ctx, const std::vector<int32_t>& tokens) {
    ctx.seq_clear(0);
    mmojo::Batch batch;
    for (size_t i = 0; i < tokens.size(); ++i) batch.add(tokens[i], int32_t(i), 0, i + 1 == tokens.size());
    auto t0 = Clock::now();
    ctx.decode(batch);
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double time_generation(mmojo::Context& ctx, const std::vector<int32_t>& tokens) {
    ctx.seq_clear(0);
    mmojo::Batch batch;
    auto t0 = Clock::now();
    for (size_t i = 0; i < tokens.size(); ++i) {
        batch.clear();
        batch.add(tokens[i], int32_t(i), 0, true);
        ctx.decode(batch);
    }
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

int run(int argc, char** argv) {
    BenchArgs args = parse_args(argc, argv);
    mmojo::select_kernels(mmojo::resolve_cpu_level(args.cpu_features));
    std::printf("kernels: %s (best on this CPU: %s)\n",
                mmojo::cpu_level_name(mmojo::resolve_cpu_level(args.cpu_features)),
                mmojo::cpu_level_name(mmojo::detect_cpu_level()));

    nlohmann::json perf;
    const std::string perf_path = find_perf_json(args.perf_json, argv[0]);
    if (!perf_path.empty()) {
        std::ifstream in(perf_path);
        try {
            perf = nlohmann::json::parse(in);
            std::printf("reference: %s (llama.cpp %s)\n", perf_path.c_str(),
                        perf.value("llama_cpp_commit", std::string("?")).substr(0, 12).c_str());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "warning: cannot read %s: %s\n", perf_path.c_str(), e.what());
        }
    } else if (!args.perf_json.empty()) {
        std::fprintf(stderr, "warning: %s not found\n", args.perf_json.c_str());
    }

    // Bandwidth per thread count, measured before the models are loaded and again next to
    // each generation test: this VM's bandwidth drifts by a third within minutes, so eff
    // is taken against the figure measured right after the test's own runs.
    std::vector<double> buf;
    if (args.bandwidth) {
        buf.resize(args.bw_mib * 1024 * 1024 / sizeof(double));
        {
            mmojo::ThreadPool init(args.threads.back());
            const int64_t n = int64_t(buf.size());
            init.run([&](int ith, int nth) {  // touch the pages from the reading threads
                for (int64_t i = n * ith / nth; i < n * (ith + 1) / nth; ++i) buf[size_t(i)] = double(i & 1023);
            });
        }
        std::printf("\nmemory read bandwidth (%zu MiB, median of 9 passes):\n", args.bw_mib);
        for (int t : args.threads) {
            mmojo::ThreadPool pool(t);
            std::printf("  threads %2d: %8.2f GB/s\n", t, measure_bandwidth(buf, pool, 9));
        }
    }

    std::printf("\n| %-28s | %9s | %8s | %-6s | %3s | %10s | %10s | %10s | %-19s | %s\n", "model", "size MiB",
                "params M", "test", "t", "t/s median", "min", "max", "llama.cpp median", "roofline");
    std::printf("|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s\n", std::string(30, '-').c_str(), std::string(11, '-').c_str(),
                std::string(10, '-').c_str(), std::string(8, '-').c_str(), std::string(5, '-').c_str(),
                std::string(12, '-').c_str(), std::string(12, '-').c_str(), std::string(12, '-').c_str(),
                std::string(21, '-').c_str(), std::string(10, '-').c_str());
    std::mt19937 rng(1);
    for (const std::string& path : args.models) {
        std::unique_ptr<mmojo::Model> model = mmojo::Model::load(path);
        const uint64_t bytes = model->size_bytes();
        const uint64_t bytes_per_token = bytes_read_per_token(*model);
        const std::string label = fs::path(path).filename().string() + " " + model->type_label();
        int max_p = 0, max_n = 0;
        for (int p : args.n_prompt) max_p = std::max(max_p, p);
        for (int n : args.n_gen) max_n = std::max(max_n, n);
        for (size_t ti = 0; ti < args.threads.size(); ++ti) {
            const int t = args.threads[ti];
            mmojo::ContextParams cp;
            cp.n_ctx = uint32_t(std::max(16, std::max(max_p, max_n) + 1));
            cp.n_batch = uint32_t(args.n_batch);
            cp.n_threads = t;
            cp.type_k = args.type_k;
            cp.type_v = args.type_v;
            mmojo::Context ctx(*model, cp);
            struct Test { std::string name; int n; bool prompt; };
            std::vector<Test> tests;
            for (int p : args.n_prompt) {
                if (p > 0) tests.push_back({"pp" + std::to_string(p), p, true});
            }
            for (int n : args.n_gen) {
                if (n > 0) tests.push_back({"tg" + std::to_string(n), n, false});
            }
            for (const Test& test : tests) {
                std::vector<double> rates;
                for (int rep = 0; rep < args.reps + 1; ++rep) {
                    auto tokens = random_tokens(test.n, model->hparams().n_vocab, rng);
                    double sec = test.prompt ? time_prompt(ctx, tokens) : time_generation(ctx, tokens);
                    if (rep > 0) rates.push_back(double(test.n) / sec);  // rep 0 warms up
                }
                Stats s = stats_of(rates);
                RefFigure ref = find_reference(perf, path, bytes, model->type_label(), test.name, t);
                std::string roof = "-";
                if (!test.prompt && !buf.empty()) {
                    mmojo::ThreadPool pool(t);
                    const double gbs = measure_bandwidth(buf, pool, 5);
                    const double roofline = gbs * 1e9 / double(bytes_per_token);
                    char text[64];
                    std::snprintf(text, sizeof text, "%.1f t/s at %.1f GB/s, eff %.0f%%", roofline, gbs,
                                  100.0 * s.median / roofline);
                    roof = text;
                }
                std::printf("| %-28s | %9.2f | %8.2f | %-6s | %3d | %10.2f | %10.2f | %10.2f | %-19s | %s\n",
                            label.c_str(), double(bytes) / (1024.0 * 1024.0), double(model->n_params()) / 1e6,
                            test.name.c_str(), t, s.median, s.min, s.max, format_ref(ref).c_str(), roof.c_str());
                std::fflush(stdout);
            }
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
