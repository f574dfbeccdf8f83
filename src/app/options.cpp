// The table of every command-line flag and the parser that applies it to Options.
// Flag names, defaults and environment variables follow llama.cpp's llama-server and
// llama-cli (common/arg.cpp's documented behaviour); flags marked "ours" are mmojo-only.
#include "app/options.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "app/option_values.h"
#include "app/options_compat.h"
#include "base/cpu_features.h"
#include "sampling/grammar.h"
#include "sampling/json_schema_grammar.h"

namespace mmojo {

namespace {

// ---- table construction helpers --------------------------------------------------------

using Apply = std::function<void(Options&, const std::string&, const std::string&)>;

OptionSpec make(std::vector<std::string> names, ValueKind kind, std::string value_name, OptionGroup group,
                std::string env, std::string help, std::function<std::string()> default_text, Apply apply) {
    OptionSpec s;
    s.names = std::move(names);
    s.kind = kind;
    s.value_name = std::move(value_name);
    s.group = group;
    s.env = std::move(env);
    s.help = std::move(help);
    s.default_text = std::move(default_text);
    s.apply = std::move(apply);
    return s;
}

OptionSpec flag(std::vector<std::string> names, OptionGroup group, std::string env, std::string help,
                std::function<void(Options&)> set) {
    return make(std::move(names), ValueKind::kNone, "", group, std::move(env), std::move(help), nullptr,
                [set](Options& o, const std::string&, const std::string&) { set(o); });
}

// An on/off pair: `on` names turn it on, `off` names turn it off (apply gets "1" or "0").
OptionSpec toggle(std::vector<std::string> on, std::vector<std::string> off, OptionGroup group, std::string env,
                  std::string help, std::function<void(Options&, bool, const std::string&)> set) {
    OptionSpec s = make(std::move(on), ValueKind::kNone, "", group, std::move(env), std::move(help), nullptr,
                        [set](Options& o, const std::string& f, const std::string& v) { set(o, v == "1", f); });
    s.negative_names = std::move(off);
    return s;
}

// Integer option stored through `get` (a reference accessor), range [lo, hi].
template <typename T, typename Get>
OptionSpec int_option(std::vector<std::string> names, std::string value_name, OptionGroup group,
                      std::string env, std::string help, int64_t lo, int64_t hi, Get get) {
    return make(std::move(names), ValueKind::kInt, std::move(value_name), group, std::move(env),
                std::move(help),
                [get] { Options d; return std::to_string(get(d)); },
                [get, lo, hi](Options& o, const std::string& f, const std::string& v) {
                    get(o) = T(parse_integer(f, v, lo, hi));
                });
}

template <typename Get>
OptionSpec float_option(std::vector<std::string> names, OptionGroup group, std::string env, std::string help,
                        double lo, double hi, bool lo_open, Get get) {
    return make(std::move(names), ValueKind::kFloat, "N", group, std::move(env), std::move(help),
                [get] { Options d; return format_float(double(get(d))); },
                [get, lo, hi, lo_open](Options& o, const std::string& f, const std::string& v) {
                    get(o) = parse_real(f, v, lo, hi, lo_open);
                });
}

constexpr double kInf = std::numeric_limits<double>::max();
constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();

// "generic, avx2, ..., neondot": the levels of base/cpu_features.h.
std::string cpu_level_list() {
    std::string list;
    for (const std::string& name : cpu_level_names()) list += (list.empty() ? "" : ", ") + name;
    return list;
}

std::vector<OptionSpec> build_table() {
    using G = OptionGroup;
    std::vector<OptionSpec> t;

    // ---- common ----
    t.push_back(flag({"-h", "--usage", "--help"}, G::kCommon, "", "print this usage and exit",
                     [](Options& o) { o.help = true; }));
    t.push_back(flag({"--version"}, G::kCommon, "", "print the version and exit",
                     [](Options& o) { o.version = true; }));
    t.push_back(flag({"--cli"}, G::kCommon, "",
                     "CLI mode (ours): generate from -p/-f once, stream the text to stdout, print "
                     "timings to stderr and exit, instead of starting the server",
                     [](Options& o) { o.cli = true; }));
    t.push_back(make({"-m", "--model"}, ValueKind::kPath, "FNAME", G::kCommon, "LLAMA_ARG_MODEL",
                     "model path (a GGUF file)", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) {
                         if (v.empty()) throw OptionsError("empty path given to " + f);
                         o.model = v;
                     }));
    t.push_back(make({"-p", "--prompt"}, ValueKind::kString, "PROMPT", G::kCommon, "",
                     "prompt to start generation with (CLI mode)", nullptr,
                     [](Options& o, const std::string&, const std::string& v) {
                         o.prompt = v;
                         o.prompt_file.clear();
                     }));
    t.push_back(make({"-f", "--file"}, ValueKind::kPath, "FNAME", G::kCommon, "",
                     "a file containing the prompt (one trailing newline is dropped)", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) {
                         std::string text = read_text_file(f, v);
                         if (!text.empty() && text.back() == '\n') text.pop_back();
                         o.prompt = std::move(text);
                         o.prompt_file = v;
                     }));
    t.push_back(toggle({"-e", "--escape"}, {"--no-escape"}, G::kCommon, "",
                       "process escape sequences (\\n, \\r, \\t, \\', \\\", \\\\, \\xHH) in the prompt "
                       "(default: on)",
                       [](Options& o, bool on, const std::string&) { o.escape = on; }));
    t.push_back(int_option<int32_t>({"-n", "--predict", "--n-predict"}, "N", G::kCommon, "LLAMA_ARG_N_PREDICT",
                                    "number of tokens to predict (-1 = until an end-of-generation token "
                                    "or a full context; -2 = the same)",
                                    -2, kI32Max, [](Options& o) -> int32_t& { return o.n_predict; }));
    t.push_back(int_option<uint32_t>({"-c", "--ctx-size"}, "N", G::kCommon, "LLAMA_ARG_CTX_SIZE",
                                     "size of the prompt context in tokens (0 = the model's trained "
                                     "length, capped by --ctx-size-max)",
                                     0, 1 << 24, [](Options& o) -> uint32_t& { return o.n_ctx; }));
    t.push_back(int_option<uint32_t>({"--ctx-size-max"}, "N", G::kCommon, "",
                                     "ours: when -c is not given (or 0), the context is the model's "
                                     "trained length capped by this many tokens",
                                     1, 1 << 24, [](Options& o) -> uint32_t& { return o.n_ctx_max; }));
    t.push_back(int_option<uint32_t>({"-b", "--batch-size"}, "N", G::kCommon, "LLAMA_ARG_BATCH",
                                     "largest number of tokens evaluated in one forward pass", 1, 1 << 20,
                                     [](Options& o) -> uint32_t& { return o.n_batch; }));
    t.push_back(int_option<uint32_t>({"-ub", "--ubatch-size"}, "N", G::kCommon, "LLAMA_ARG_UBATCH",
                                     "physical batch: most tokens in one forward pass (a batch is split "
                                     "into passes of this size; sliding-window layers keep window + N cells)",
                                     1, 1 << 20, [](Options& o) -> uint32_t& { return o.n_ubatch; }));
    t.push_back(int_option<int32_t>({"--keep"}, "N", G::kCommon, "",
                                    "default n_keep of requests: prompt tokens to keep when the context "
                                    "is cut (-1 = all)",
                                    -1, kI32Max, [](Options& o) -> int32_t& { return o.n_keep; }));
    t.push_back(make({"-t", "--threads"}, ValueKind::kInt, "N", G::kCommon, "LLAMA_ARG_THREADS",
                     "number of CPU threads (-1 or 0 = the number of physical cores)",
                     [] { return std::string("-1"); },
                     [](Options& o, const std::string& f, const std::string& v) {
                         int64_t n = parse_integer(f, v, -1, 1024);
                         o.n_threads = n < 0 ? 0 : int32_t(n);
                     }));
    t.push_back(make({"-tb", "--threads-batch"}, ValueKind::kInt, "N", G::kCommon, "",
                     "number of CPU threads for prompt processing (batches of more than one token; "
                     "-1 or 0 = the same as --threads)",
                     [] { return std::string("same as --threads"); },
                     [](Options& o, const std::string& f, const std::string& v) {
                         int64_t n = parse_integer(f, v, -1, 1024);
                         o.n_threads_batch = n < 0 ? 0 : int32_t(n);
                     }));
    t.push_back(make({"-ctk", "--cache-type-k"}, ValueKind::kEnum, "TYPE", G::kCommon, "LLAMA_ARG_CACHE_TYPE_K",
                     "KV cache data type for K: f32 or f16",
                     [] { return cache_type_name(Options{}.cache_type_k); },
                     [](Options& o, const std::string& f, const std::string& v) {
                         o.cache_type_k = parse_cache_type(f, v);
                     }));
    t.push_back(make({"-ctv", "--cache-type-v"}, ValueKind::kEnum, "TYPE", G::kCommon, "LLAMA_ARG_CACHE_TYPE_V",
                     "KV cache data type for V: f32 or f16",
                     [] { return cache_type_name(Options{}.cache_type_v); },
                     [](Options& o, const std::string& f, const std::string& v) {
                         o.cache_type_v = parse_cache_type(f, v);
                     }));
    t.push_back(make({"--cpu-features"}, ValueKind::kEnum, "LEVEL", G::kCommon, "MMOJO_CPU_FEATURES",
                     "ours: use at most this SIMD level instead of the best the CPU has: " +
                         cpu_level_list() + " (the x86-64 ones on x86-64, the neon ones on ARM64), or auto",
                     [] { return std::string("auto"); },
                     [](Options& o, const std::string& f, const std::string& v) {
                         if (v == "auto") {
                             o.cpu_features.clear();
                             return;
                         }
                         if (!cpu_level_from_name(v)) {
                             throw OptionsError("unknown CPU feature level " + in_quotes(v) + " for " + f +
                                                ": expected auto or one of " + cpu_level_list());
                         }
                         o.cpu_features = v;
                     }));
    t.push_back(toggle({"--mmap"}, {"--no-mmap"}, G::kCommon, "LLAMA_ARG_MMAP",
                       "memory-map the model file (default: on; the loader always maps it, so "
                       "--no-mmap is accepted and ignored)",
                       [](Options& o, bool on, const std::string& f) {
                           if (!on) o.notices.push_back(ignored_notice(f, "the model file is always memory-mapped"));
                       }));
    t.push_back(flag({"--mlock"}, G::kCommon, "LLAMA_ARG_MLOCK",
                     "keep the model in RAM: lock the process's pages so they are never swapped out "
                     "(needs the memory-lock limit, see ulimit -l)",
                     [](Options& o) { o.mlock = true; }));
    t.push_back(make({"-lm", "--load-mode"}, ValueKind::kEnum, "MODE", G::kCommon, "LLAMA_ARG_LOAD_MODE",
                     "auto, none, mmap, mlock, mmap+mlock or dio: mlock and mmap+mlock act as --mlock; "
                     "the file is always memory-mapped",
                     [] { return std::string("auto"); },
                     [](Options& o, const std::string& f, const std::string& v) {
                         if (v == "mlock" || v == "mmap+mlock") {
                             o.mlock = true;
                         } else if (v == "none" || v == "dio") {
                             o.notices.push_back(ignored_notice(f + " " + v, "the model file is always memory-mapped"));
                         } else if (v != "auto" && v != "mmap") {
                             throw OptionsError("invalid value " + in_quotes(v) + " for " + f +
                                                ": expected auto, none, mmap, mlock, mmap+mlock or dio");
                         }
                     }));
    t.push_back(flag({"-v", "--verbose", "--log-verbose"}, G::kCommon, "", "print more log lines (repeat for more)",
                     [](Options& o) { ++o.verbosity; }));
    t.push_back(make({"-lv", "--verbosity", "--log-verbosity"}, ValueKind::kInt, "N", G::kCommon,
                     "LLAMA_ARG_LOG_VERBOSITY",
                     "log threshold as llama.cpp counts it: 3 = info (our normal output), 4 and up = "
                     "debug (as -v)",
                     [] { return std::string("3"); },
                     [](Options& o, const std::string& f, const std::string& v) {
                         o.verbosity = int32_t(std::max<int64_t>(0, parse_integer(f, v, -1, 1000) - 3));
                     }));
    t.push_back(flag({"--log-disable"}, G::kCommon, "", "print no log lines (stderr is discarded)",
                     [](Options& o) { o.log_disable = true; }));
    t.push_back(make({"--log-file"}, ValueKind::kPath, "FNAME", G::kCommon, "LLAMA_ARG_LOG_FILE",
                     "append the log to this file (instead of stderr)", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) {
                         if (v.empty()) throw OptionsError("empty path given to " + f);
                         o.log_file = v;
                     }));

    // ---- sampling ----
    t.push_back(make({"-s", "--seed"}, ValueKind::kInt, "SEED", G::kSampling, "",
                     "random seed (-1 = a random seed); the draw uses std::mt19937 seeded with it",
                     [] { return std::string("-1"); },
                     [](Options& o, const std::string& f, const std::string& v) {
                         int64_t s = parse_integer(f, v, -1, 0xFFFFFFFFll);
                         o.sampling.seed = s < 0 ? 0xFFFFFFFFu : uint32_t(s);
                     }));
    t.push_back(make({"--grammar"}, ValueKind::kString, "GRAMMAR", G::kSampling, "",
                     "GBNF grammar the output must match (requests may bring their own)", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) { o.grammar = checked_grammar(f, v); }));
    t.push_back(make({"--grammar-file"}, ValueKind::kPath, "FNAME", G::kSampling, "",
                     "read the GBNF grammar from this file", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) {
                         o.grammar = checked_grammar(f, read_text_file(f, v));
                     }));
    t.push_back(make({"-j", "--json-schema"}, ValueKind::kString, "SCHEMA", G::kSampling, "",
                     "JSON Schema the output must validate against (see docs/server.md for the subset)", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) { o.grammar = schema_grammar(f, v); }));
    t.push_back(make({"-jf", "--json-schema-file"}, ValueKind::kPath, "FNAME", G::kSampling, "",
                     "read the JSON Schema from this file", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) {
                         o.grammar = schema_grammar(f, read_text_file(f, v));
                     }));
    t.push_back(float_option({"--temp", "--temperature"}, G::kSampling, "LLAMA_ARG_TEMPERATURE", "temperature (<= 0 = greedy: the most likely token)",
                             -kInf, kInf, false, [](Options& o) -> float& { return o.sampling.temperature; }));
    t.push_back(int_option<int32_t>({"--top-k"}, "N", G::kSampling, "LLAMA_ARG_TOP_K",
                                    "keep only the k most likely tokens (<= 0 = off)", -kI32Max, kI32Max,
                                    [](Options& o) -> int32_t& { return o.sampling.top_k; }));
    t.push_back(float_option({"--top-p"}, G::kSampling, "LLAMA_ARG_TOP_P",
                             "keep the most likely tokens whose probabilities add up to p (1 = off)", 0.0, 1.0,
                             false, [](Options& o) -> float& { return o.sampling.top_p; }));
    t.push_back(float_option({"--min-p"}, G::kSampling, "LLAMA_ARG_MIN_P",
                             "drop tokens less likely than p times the most likely one (0 = off)", 0.0, 1.0,
                             false, [](Options& o) -> float& { return o.sampling.min_p; }));
    t.push_back(float_option({"--typical", "--typical-p"}, G::kSampling, "", "locally typical sampling with parameter p (1 = off)",
                             0.0, 1.0, false, [](Options& o) -> float& { return o.sampling.typical_p; }));
    t.push_back(float_option({"--repeat-penalty"}, G::kSampling, "LLAMA_ARG_REPEAT_PENALTY",
                             "penalize repeated tokens: positive logits are divided by it, negative ones "
                             "multiplied (1 = off)",
                             0.0, kInf, true, [](Options& o) -> float& { return o.sampling.repeat_penalty; }));
    t.push_back(int_option<int32_t>({"--repeat-last-n"}, "N", G::kSampling, "",
                                    "how many of the last tokens the penalties look at (0 = off, -1 = the "
                                    "whole context)",
                                    -1, kI32Max, [](Options& o) -> int32_t& { return o.sampling.repeat_last_n; }));
    t.push_back(float_option({"--presence-penalty"}, G::kSampling, "LLAMA_ARG_PRESENCE_PENALTY",
                             "subtracted from the logit of every token seen in the last N (0 = off)", -kInf,
                             kInf, false, [](Options& o) -> float& { return o.sampling.presence_penalty; }));
    t.push_back(float_option({"--frequency-penalty"}, G::kSampling, "LLAMA_ARG_FREQUENCY_PENALTY",
                             "subtracted from a token's logit once per occurrence in the last N (0 = off)",
                             -kInf, kInf, false, [](Options& o) -> float& { return o.sampling.frequency_penalty; }));
    t.push_back(make({"-l", "--logit-bias"}, ValueKind::kString, "TOKEN_ID(+/-)BIAS", G::kSampling, "",
                     "add BIAS to the logit of token TOKEN_ID, e.g. 15043+1 or 15043-inf (repeatable)", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) {
                         o.sampling.logit_bias.push_back(parse_logit_bias(f, v));
                     }));
    t.push_back(flag({"--ignore-eos"}, G::kSampling, "",
                     "keep generating after end-of-generation tokens (the default of requests' ignore_eos)",
                     [](Options& o) { o.ignore_eos = true; }));

    // ---- server ----
    t.push_back(make({"--host"}, ValueKind::kString, "HOST", G::kServer, "LLAMA_ARG_HOST",
                     "IP address to listen on", [] { return Options{}.host; },
                     [](Options& o, const std::string& f, const std::string& v) {
                         if (v.empty()) throw OptionsError("empty host given to " + f);
                         o.host = v;
                     }));
    t.push_back(int_option<uint16_t>({"--port"}, "PORT", G::kServer, "LLAMA_ARG_PORT", "port to listen on", 1,
                                     65535, [](Options& o) -> uint16_t& { return o.port; }));
    t.push_back(make({"-np", "--parallel"}, ValueKind::kInt, "N", G::kServer, "LLAMA_ARG_N_PARALLEL",
                     "number of slots (requests decoded together; -1 = auto, which is 1)",
                     [] { return std::to_string(Options{}.n_parallel); },
                     [](Options& o, const std::string& f, const std::string& v) {
                         int64_t n = parse_integer(f, v, -1, 256);
                         if (n == 0) throw OptionsError("value 0 for " + f + " is out of range: expected -1 or 1 to 256");
                         o.n_parallel = n < 0 ? 1 : int32_t(n);
                     }));
    t.push_back(make({"-a", "--alias"}, ValueKind::kString, "NAME", G::kServer, "LLAMA_ARG_ALIAS",
                     "model name reported by the API (default: the model file name)", nullptr,
                     [](Options& o, const std::string&, const std::string& v) { o.alias = v; }));
    t.push_back(make({"--api-key"}, ValueKind::kString, "KEY", G::kServer, "LLAMA_API_KEY",
                     "require this API key (Authorization: Bearer KEY); a comma-separated list allows several",
                     nullptr,
                     [](Options& o, const std::string& f, const std::string& v) {
                         std::vector<std::string> keys;
                         size_t start = 0;
                         while (start <= v.size()) {
                             size_t comma = v.find(',', start);
                             if (comma == std::string::npos) comma = v.size();
                             if (comma > start) keys.push_back(v.substr(start, comma - start));
                             start = comma + 1;
                         }
                         if (keys.empty()) throw OptionsError("empty API key given to " + f);
                         o.api_keys.insert(o.api_keys.end(), keys.begin(), keys.end());
                     }));
    t.push_back(int_option<int32_t>({"-to", "--timeout"}, "N", G::kServer, "LLAMA_ARG_TIMEOUT",
                                    "seconds a client may stop reading a response (requests have their own deadlines)", 1, 1 << 30,
                                    [](Options& o) -> int32_t& { return o.timeout_s; }));
    t.push_back(make({"--path"}, ValueKind::kPath, "PATH", G::kServer, "LLAMA_ARG_STATIC_PATH",
                     "serve static files from this folder instead of the built-in web UI", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) {
                         if (v.empty()) throw OptionsError("empty path given to " + f);
                         o.static_path = v;
                     }));
    t.push_back(make({"--ssl-key-file"}, ValueKind::kPath, "FNAME", G::kServer, "LLAMA_ARG_SSL_KEY_FILE",
                     "PEM private key: serve HTTPS (with --ssl-cert-file)", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) {
                         if (v.empty()) throw OptionsError("empty path given to " + f);
                         o.ssl_key_file = v;
                     }));
    t.push_back(make({"--ssl-cert-file"}, ValueKind::kPath, "FNAME", G::kServer, "LLAMA_ARG_SSL_CERT_FILE",
                     "PEM certificate chain: serve HTTPS (with --ssl-key-file)", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) {
                         if (v.empty()) throw OptionsError("empty path given to " + f);
                         o.ssl_cert_file = v;
                     }));
    t.push_back(toggle({"--ui", "--webui"}, {"--no-ui", "--no-webui"}, G::kServer, "LLAMA_ARG_UI",
                       "serve the built-in web UI (default: on)",
                       [](Options& o, bool on, const std::string&) { o.webui = on; }));
    t.back().env_aliases = {"LLAMA_ARG_WEBUI"};
    t.push_back(flag({"--embedding", "--embeddings"}, G::kServer, "LLAMA_ARG_EMBEDDINGS",
                     "embeddings mode: serve only the embeddings endpoints", [](Options& o) { o.embeddings = true; }));
    t.push_back(flag({"--metrics"}, G::kServer, "LLAMA_ARG_ENDPOINT_METRICS",
                     "serve Prometheus-compatible metrics at /metrics", [](Options& o) { o.metrics = true; }));
    t.push_back(toggle({"--slots"}, {"--no-slots"}, G::kServer, "LLAMA_ARG_ENDPOINT_SLOTS",
                       "serve the slots monitoring endpoint /slots (default: on)",
                       [](Options& o, bool on, const std::string&) { o.slots = on; }));
    t.push_back(toggle({"-cb", "--cont-batching"}, {"-nocb", "--no-cont-batching"}, G::kServer,
                       "LLAMA_ARG_CONT_BATCHING", "continuous batching: decode the slots' tokens together (default: on)",
                       [](Options& o, bool on, const std::string&) { o.cont_batching = on; }));
    t.push_back(toggle({"--jinja"}, {"--no-jinja"}, G::kServer, "LLAMA_ARG_JINJA",
                       "run chat templates with the Jinja interpreter (always on: --no-jinja is accepted "
                       "and ignored)",
                       [](Options& o, bool on, const std::string& f) {
                           if (!on) o.notices.push_back(ignored_notice(f, "chat templates always run in the Jinja interpreter"));
                       }));
    t.push_back(make({"--api-key-file"}, ValueKind::kPath, "FNAME", G::kServer, "LLAMA_ARG_API_KEY_FILE",
                     "read API keys from this file, one per line ('#' starts a comment line)", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) {
                         std::vector<std::string> keys = read_api_key_file(f, v);
                         o.api_keys.insert(o.api_keys.end(), keys.begin(), keys.end());
                     }));
    t.push_back(make({"--threads-http"}, ValueKind::kInt, "N", G::kServer, "LLAMA_ARG_THREADS_HTTP",
                     "HTTP connection slots, one thread each (-1 = automatic: 512)",
                     [] { return std::string("-1"); },
                     [](Options& o, const std::string& f, const std::string& v) {
                         int64_t n = parse_integer(f, v, -1, 1024);
                         o.n_threads_http = n <= 0 ? -1 : int32_t(n);
                     }));
    t.push_back(make({"--chat-template"}, ValueKind::kString, "TEMPLATE", G::kServer, "LLAMA_ARG_CHAT_TEMPLATE",
                     "chat template (a built-in name or Jinja source) instead of the model's own", nullptr,
                     [](Options& o, const std::string&, const std::string& v) { o.chat_template = v; }));
    t.push_back(make({"--chat-template-file"}, ValueKind::kPath, "FNAME", G::kServer,
                     "LLAMA_ARG_CHAT_TEMPLATE_FILE", "read the chat template (Jinja) from this file", nullptr,
                     [](Options& o, const std::string& f, const std::string& v) {
                         o.chat_template = read_text_file(f, v);
                     }));
    t.push_back(make({"--reasoning-format"}, ValueKind::kEnum, "FORMAT", G::kServer, "LLAMA_ARG_THINK",
                     "where thinking goes: none (left in content), deepseek (message.reasoning_content), "
                     "deepseek-legacy (both), auto (= deepseek)",
                     [] { return Options().reasoning_format; },
                     [](Options& o, const std::string& f, const std::string& v) {
                         if (v != "none" && v != "deepseek" && v != "deepseek-legacy" && v != "auto") {
                             throw OptionsError("unknown reasoning format " + in_quotes(v) + " for " + f +
                                                ": expected none, deepseek, deepseek-legacy or auto");
                         }
                         o.reasoning_format = v;
                     }));
    t.push_back(int_option<int32_t>({"--reasoning-budget"}, "N", G::kServer, "LLAMA_ARG_THINK_BUDGET",
                                    "thinking tokens per answer: -1 unlimited, 0 no thinking (the template's "
                                    "enable_thinking=false), N ends the thinking block after N tokens",
                                    -1, kI32Max, [](Options& o) -> int32_t& { return o.reasoning_budget; }));
    t.push_back(make({"--chat-template-kwargs"}, ValueKind::kString, "JSON", G::kServer,
                     "LLAMA_ARG_CHAT_TEMPLATE_KWARGS",
                     "extra chat template variables as a JSON object, e.g. '{\"enable_thinking\": false}' "
                     "(a request's chat_template_kwargs override them)",
                     nullptr, [](Options& o, const std::string& f, const std::string& v) {
                         const auto j = nlohmann::json::parse(v, nullptr, false);
                         if (!j.is_object()) throw OptionsError(f + " needs a JSON object, got " + in_quotes(v));
                         o.chat_template_kwargs = v;
                     }));
    t.push_back(make({"--reasoning-effort"}, ValueKind::kString, "LEVEL", G::kServer, "LLAMA_ARG_REASONING_EFFORT",
                     "reasoning_effort passed to the chat template (gpt-oss: low, medium, high); "
                     "'default' keeps the template's own", nullptr,
                     [](Options& o, const std::string&, const std::string& v) {
                         o.reasoning_effort = v == "default" ? "" : v;
                     }));
    t.push_back(int_option<int32_t>({"--batch-sleep-ms"}, "N", G::kServer, "",
                                    "ours: sleep N milliseconds after each prompt batch, so that a busy "
                                    "server leaves CPU time to others",
                                    0, 60000, [](Options& o) -> int32_t& { return o.batch_sleep_ms; }));
    add_compat_options(t);
    return t;
}

// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
// neighbours each cost 1 (so "--prot" is 1 away from "--port").
size_t edit_distance(std::string_view a, std::string_view b) {
    const size_t w = b.size() + 1;
    std::vector<size_t> d((a.size() + 1) * w);
    for (size_t i = 0; i <= a.size(); ++i) d[i * w] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v = std::min({d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                v = std::min(v, d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    return d[a.size() * w + b.size()];
}

struct FoundOption {
    const OptionSpec* spec = nullptr;
    bool negative = false;   // one of spec->negative_names
};

FoundOption find_option(std::string_view name) {
    for (const OptionSpec& s : option_table()) {
        for (const std::string& n : s.names) {
            if (n == name) return {&s, false};
        }
        for (const std::string& n : s.negative_names) {
            if (n == name) return {&s, true};
        }
    }
    return {};
}

// "LLAMA_ARG_X" -> "LLAMA_ARG_NO_X": how llama.cpp spells "off" for an on/off pair.
std::string negative_env(const std::string& env) {
    const std::string prefix = "LLAMA_ARG_";
    if (env.rfind(prefix, 0) != 0) return "";
    return prefix + "NO_" + env.substr(prefix.size());
}

// Applies one environment variable of `s` if set; returns whether it was.
bool apply_env(Options& o, const OptionSpec& s, const std::string& var, const EnvLookup& env) {
    const bool pair = !s.negative_names.empty();
    if (pair) {
        std::string off = negative_env(var);
        if (!off.empty() && env(off)) {
            s.apply(o, off, "0");
            return true;
        }
    }
    std::optional<std::string> v = env(var);
    if (!v) return false;
    if (pair) {
        s.apply(o, var, parse_env_bool(var, *v) ? "1" : "0");
    } else if (s.kind == ValueKind::kNone) {
        if (parse_env_bool(var, *v)) s.apply(o, var, "");
    } else {
        s.apply(o, var, *v);
    }
    return true;
}

std::string spellings(const OptionSpec& s) {
    std::string out;
    for (const std::string& n : s.names) {
        if (!out.empty()) out += ", ";
        out += n;
    }
    for (const std::string& n : s.negative_names) out += ", " + n;
    return out;
}

void note_given(Options& o, const OptionSpec& s) {
    if (!o.was_given(s.long_name())) o.given.push_back(s.long_name());
}

}  // namespace

bool Options::was_given(std::string_view long_name) const {
    return std::find(given.begin(), given.end(), long_name) != given.end();
}

const std::vector<OptionSpec>& option_table() {
    static const std::vector<OptionSpec> table = build_table();
    return table;
}

EnvLookup process_env() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (!v) return std::nullopt;
        return std::string(v);
    };
}

std::string suggest_option(std::string_view arg) {
    std::string_view name = arg.substr(0, arg.find('='));
    std::string best;
    size_t best_d = std::numeric_limits<size_t>::max();
    for (const OptionSpec& s : option_table()) {
        for (const std::string& n : s.names) {
            size_t d = edit_distance(name, n);
            if (d < best_d) {
                best_d = d;
                best = n;
            }
        }
    }
    // Close enough to be a typo: a third of the length, and at least one edit allowed.
    size_t limit = std::max<size_t>(1, name.size() / 3);
    return best_d <= limit ? best : std::string();
}

Options parse_options(const std::vector<std::string>& args, const EnvLookup& env) {
    Options o;
    if (env) {
        for (const OptionSpec& s : option_table()) {
            if (s.env.empty()) continue;
            bool set = apply_env(o, s, s.env, env);
            for (size_t a = 0; !set && a < s.env_aliases.size(); ++a) set = apply_env(o, s, s.env_aliases[a], env);
            if (set) note_given(o, s);
        }
    }
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        std::string name = arg;
        std::optional<std::string> inline_value;
        if (arg.rfind("--", 0) == 0) {
            size_t eq = arg.find('=');
            if (eq != std::string::npos) {
                name = arg.substr(0, eq);
                inline_value = arg.substr(eq + 1);
            }
            std::replace(name.begin(), name.end(), '_', '-');   // --ctx_size is --ctx-size
        }
        const auto [spec, negative] = find_option(name);
        if (!spec) {
            std::string msg = (arg.empty() || arg[0] != '-') ? "unexpected argument " + in_quotes(arg)
                                                             : "unknown argument " + in_quotes(arg);
            std::string hint = suggest_option(arg);
            if (!hint.empty()) msg += "; did you mean " + in_quotes(hint) + "?";
            msg += " (see --help)";
            throw OptionsError(msg);
        }
        if (spec->kind == ValueKind::kNone) {
            if (inline_value) throw OptionsError("flag " + name + " does not take a value");
            spec->apply(o, name, spec->negative_names.empty() ? "" : negative ? "0" : "1");
        } else if (spec->kind == ValueKind::kTwo) {
            if (inline_value) throw OptionsError("flag " + name + " takes two values: " + spec->value_name);
            if (i + 2 >= args.size()) {
                throw OptionsError("missing value for " + name + " (expected " + spec->value_name + ")");
            }
            spec->apply(o, name, args[i + 1] + "\n" + args[i + 2]);
            i += 2;
        } else {
            std::string value;
            if (inline_value) {
                value = *inline_value;
            } else {
                if (i + 1 >= args.size()) {
                    throw OptionsError("missing value for " + name + " (expected " + spec->value_name + ")");
                }
                value = args[++i];
            }
            spec->apply(o, name, value);
        }
        note_given(o, *spec);
    }
    if (o.escape) o.prompt = process_escapes(o.prompt);
    return o;
}

std::string help_text(const std::string& program) {
    std::ostringstream os;
    os << "usage: " << program << " [options]                         run the HTTP server\n"
       << "       " << program << " --cli -m FNAME -p PROMPT [options]  generate once on stdout\n"
       << "       " << program << " pack [options]                    build a self-contained executable\n";
    struct GroupName { OptionGroup group; const char* title; };
    const GroupName groups[] = {{OptionGroup::kCommon, "common"},
                                {OptionGroup::kSampling, "sampling"},
                                {OptionGroup::kSpeculative, "speculative"},
                                {OptionGroup::kServer, "server"},
                                {OptionGroup::kPackaging, "packaging"}};
    constexpr size_t kHelpColumn = 36;
    constexpr size_t kWidth = 100;
    for (const GroupName& g : groups) {
        os << "\n----- " << g.title << " -----\n\n";
        if (g.group == OptionGroup::kPackaging) {
            os << "pack ...                            subcommand: build one executable that holds the\n"
               << "                                    server, a model and its arguments (run '" << program
               << " pack --help')\n"
               << "args files                          arguments stored in the executable or in a file next\n"
               << "                                    to it are read before the command line\n";
        }
        for (const OptionSpec& s : option_table()) {
            if (s.group != g.group) continue;
            std::string head = spellings(s);
            if (s.kind != ValueKind::kNone) head += " " + s.value_name;
            std::string text = s.help;
            std::string def = s.default_text ? s.default_text() : "";
            if (!def.empty()) text += " (default: " + def + ")";

            // Word-wrap the help text into the right-hand column.
            std::vector<std::string> lines;
            std::istringstream words(text);
            std::string word, line;
            while (words >> word) {
                if (!line.empty() && kHelpColumn + line.size() + 1 + word.size() > kWidth) {
                    lines.push_back(line);
                    line.clear();
                }
                line += (line.empty() ? "" : " ") + word;
            }
            if (!line.empty()) lines.push_back(line);
            if (head.size() + 1 >= kHelpColumn) {
                os << head << "\n" << std::string(kHelpColumn, ' ');
            } else {
                os << head << std::string(kHelpColumn - head.size(), ' ');
            }
            for (size_t i = 0; i < lines.size(); ++i) {
                if (i > 0) os << std::string(kHelpColumn, ' ');
                os << lines[i] << "\n";
            }
            if (lines.empty()) os << "\n";
            if (!s.env.empty()) os << std::string(kHelpColumn, ' ') << "(env: " << s.env << ")\n";
        }
    }
    return os.str();
}

}  // namespace mmojo
