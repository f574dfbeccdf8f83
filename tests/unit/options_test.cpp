// Command-line parsing (src/app/options.cpp): every flag's names reach the same field,
// defaults are llama.cpp's documented ones, the environment is read with lower precedence,
// and every kind of bad input gives an OptionsError naming the flag.
#include "app/options.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

namespace mmojo {
namespace {

Options parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    EnvLookup lookup = [env](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
    };
    return parse_options(args, lookup);
}

// The OptionsError message for `args`, or "" if parsing succeeded.
std::string error_of(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    try {
        parse(std::move(args), std::move(env));
    } catch (const OptionsError& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(Options, DefaultsAreLlamaCppDefaults) {
    Options o = parse({});
    EXPECT_EQ(o.host, "127.0.0.1");
    EXPECT_EQ(o.port, 8080);
    EXPECT_EQ(o.n_predict, -1);
    EXPECT_EQ(o.n_ctx, 0u);
    EXPECT_EQ(o.n_ctx_max, 8192u);
    EXPECT_EQ(o.n_batch, 2048u);
    EXPECT_EQ(o.timeout_s, 600);
    EXPECT_EQ(o.cache_type_k, TensorType::kF16);
    EXPECT_EQ(o.cache_type_v, TensorType::kF16);
    EXPECT_FLOAT_EQ(o.sampling.temperature, 0.8f);
    EXPECT_EQ(o.sampling.top_k, 40);
    EXPECT_FLOAT_EQ(o.sampling.top_p, 0.95f);
    EXPECT_FLOAT_EQ(o.sampling.min_p, 0.05f);
    EXPECT_FLOAT_EQ(o.sampling.typical_p, 1.0f);
    EXPECT_FLOAT_EQ(o.sampling.repeat_penalty, 1.0f);
    EXPECT_EQ(o.sampling.repeat_last_n, 64);
    EXPECT_EQ(o.sampling.seed, 0xFFFFFFFFu);
    EXPECT_TRUE(o.cont_batching);
    EXPECT_TRUE(o.webui);
    EXPECT_FALSE(o.cli);
    EXPECT_FALSE(o.embeddings);
    EXPECT_FALSE(o.metrics);
    EXPECT_EQ(o.batch_sleep_ms, 0);
    EXPECT_TRUE(o.given.empty());
}

TEST(Options, ShortAndLongNamesSetTheSameField) {
    const std::vector<std::pair<std::string, std::string>> pairs = {
        {"-m", "--model"}, {"-n", "--n-predict"}, {"-c", "--ctx-size"}, {"-b", "--batch-size"},
        {"-t", "--threads"}, {"-s", "--seed"}, {"-np", "--parallel"}, {"-a", "--alias"}, {"-to", "--timeout"}};
    for (const auto& [s, l] : pairs) {
        Options a = parse({s, "7"});
        Options b = parse({l, "7"});
        EXPECT_EQ(a.model, b.model) << s;
        EXPECT_EQ(a.n_predict, b.n_predict) << s;
        EXPECT_EQ(a.n_ctx, b.n_ctx) << s;
        EXPECT_EQ(a.n_batch, b.n_batch) << s;
        EXPECT_EQ(a.n_threads, b.n_threads) << s;
        EXPECT_EQ(a.sampling.seed, b.sampling.seed) << s;
        EXPECT_EQ(a.n_parallel, b.n_parallel) << s;
        EXPECT_EQ(a.alias, b.alias) << s;
        EXPECT_EQ(a.timeout_s, b.timeout_s) << s;
        EXPECT_TRUE(a.was_given(l)) << s;
    }
    EXPECT_EQ(parse({"-n", "7"}).n_predict, 7);
    EXPECT_EQ(parse({"--predict", "9"}).n_predict, 9);
    EXPECT_EQ(parse({"-c", "512"}).n_ctx, 512u);
    EXPECT_EQ(parse({"-s", "7"}).sampling.seed, 7u);
    EXPECT_EQ(parse({"-m", "x.gguf"}).model, "x.gguf");
}

TEST(Options, ParsesEveryKindOfValue) {
    Options o = parse({"--cli", "-m", "m.gguf", "-p", "hello", "-n", "48", "--temp", "0", "--top-k", "7",
                       "--top-p", "0.5", "--min-p", "0.1", "--typical", "0.9", "--repeat-penalty", "1.1",
                       "--repeat-last-n", "-1", "--presence-penalty", "-0.5", "--frequency-penalty", "0.25",
                       "-ctk", "f32", "-ctv", "f32", "--ctx-size-max", "4096", "--host", "0.0.0.0", "--port",
                       "9090", "-np", "4", "--api-key", "k1,k2", "--path", "/srv", "--no-webui", "--embeddings",
                       "--metrics", "--no-slots", "-nocb", "--chat-template", "chatml", "--batch-sleep-ms", "5",
                       "--cpu-features", "avx2", "-s", "-1"});
    EXPECT_TRUE(o.cli);
    EXPECT_EQ(o.model, "m.gguf");
    EXPECT_EQ(o.prompt, "hello");
    EXPECT_EQ(o.n_predict, 48);
    EXPECT_FLOAT_EQ(o.sampling.temperature, 0.0f);
    EXPECT_EQ(o.sampling.top_k, 7);
    EXPECT_FLOAT_EQ(o.sampling.top_p, 0.5f);
    EXPECT_FLOAT_EQ(o.sampling.min_p, 0.1f);
    EXPECT_FLOAT_EQ(o.sampling.typical_p, 0.9f);
    EXPECT_FLOAT_EQ(o.sampling.repeat_penalty, 1.1f);
    EXPECT_EQ(o.sampling.repeat_last_n, -1);
    EXPECT_FLOAT_EQ(o.sampling.presence_penalty, -0.5f);
    EXPECT_FLOAT_EQ(o.sampling.frequency_penalty, 0.25f);
    EXPECT_EQ(o.cache_type_k, TensorType::kF32);
    EXPECT_EQ(o.cache_type_v, TensorType::kF32);
    EXPECT_EQ(o.n_ctx_max, 4096u);
    EXPECT_EQ(o.host, "0.0.0.0");
    EXPECT_EQ(o.port, 9090);
    EXPECT_EQ(o.n_parallel, 4);
    EXPECT_EQ(o.api_keys, (std::vector<std::string>{"k1", "k2"}));
    EXPECT_EQ(o.static_path, "/srv");
    EXPECT_FALSE(o.webui);
    EXPECT_TRUE(o.embeddings);
    EXPECT_TRUE(o.metrics);
    EXPECT_FALSE(o.slots);
    EXPECT_FALSE(o.cont_batching);
    EXPECT_EQ(o.chat_template, "chatml");
    EXPECT_EQ(o.batch_sleep_ms, 5);
    EXPECT_EQ(o.cpu_features, "avx2");
    EXPECT_EQ(o.sampling.seed, 0xFFFFFFFFu);
}

TEST(Options, InlineValuesAndLastOneWins) {
    Options o = parse({"--port=1234", "--temp=0.25", "-cb", "-nocb", "-cb", "-p", "a", "-p", "b"});
    EXPECT_EQ(o.port, 1234);
    EXPECT_FLOAT_EQ(o.sampling.temperature, 0.25f);
    EXPECT_TRUE(o.cont_batching);
    EXPECT_EQ(o.prompt, "b");
}

TEST(Options, ThreadsAndParallelAutoValues) {
    EXPECT_EQ(parse({"-t", "-1"}).n_threads, 0);
    EXPECT_EQ(parse({"-t", "3"}).n_threads, 3);
    EXPECT_EQ(parse({"-np", "-1"}).n_parallel, 1);
    EXPECT_EQ(parse({"-s", "4294967294"}).sampling.seed, 4294967294u);
}

TEST(Options, UnknownArgumentWithSuggestion) {
    std::string e = error_of({"--foo"});
    EXPECT_TRUE(contains(e, "unknown argument '--foo'")) << e;
    EXPECT_FALSE(contains(e, "did you mean")) << e;
    e = error_of({"--tmep", "1"});
    EXPECT_TRUE(contains(e, "unknown argument '--tmep'")) << e;
    EXPECT_TRUE(contains(e, "did you mean '--temp'")) << e;
    e = error_of({"--ctx-sise", "1"});
    EXPECT_TRUE(contains(e, "did you mean '--ctx-size'")) << e;
    e = error_of({"--top-k=3x"});
    EXPECT_TRUE(contains(e, "invalid value '3x' for --top-k")) << e;
    e = error_of({"model.gguf"});
    EXPECT_TRUE(contains(e, "unexpected argument 'model.gguf'")) << e;
}

TEST(Options, MissingValueNamesTheFlag) {
    for (const std::string flag : {"-m", "--model", "-p", "-n", "--port", "--temp", "-ctk", "--api-key"}) {
        std::string e = error_of({"--cli", flag});
        EXPECT_TRUE(contains(e, "missing value for " + flag)) << e;
    }
}

TEST(Options, BadNumbersNameTheFlag) {
    struct Case { std::vector<std::string> args; std::string expect; };
    const std::vector<Case> cases = {
        {{"-n", "abc"}, "invalid value 'abc' for -n: expected an integer"},
        {{"-n", "12abc"}, "invalid value '12abc' for -n"},
        {{"-n", ""}, "invalid value '' for -n"},
        {{"-n", "1.5"}, "invalid value '1.5' for -n"},
        {{"-n", "-3"}, "value -3 for -n is out of range"},
        {{"--port", "70000"}, "value 70000 for --port is out of range: expected 1 to 65535"},
        {{"--port", "0"}, "value 0 for --port is out of range"},
        {{"-c", "99999999999999999999"}, "for -c is out of range"},
        {{"--temp", "hot"}, "invalid value 'hot' for --temp: expected a number"},
        {{"--temp", "nan"}, "invalid value 'nan' for --temp"},
        {{"--temp", "inf"}, "invalid value 'inf' for --temp"},
        {{"--top-p", "1.5"}, "value 1.5 for --top-p is out of range: expected 0 to 1"},
        {{"--min-p", "-0.1"}, "value -0.1 for --min-p is out of range"},
        {{"--repeat-penalty", "0"}, "value 0 for --repeat-penalty is out of range: expected greater than 0"},
        {{"--repeat-last-n", "-2"}, "value -2 for --repeat-last-n is out of range"},
        {{"-s", "4294967296"}, "value 4294967296 for -s is out of range"},
        {{"-np", "0"}, "value 0 for -np is out of range"},
        {{"-b", "0"}, "value 0 for -b is out of range"},
        {{"-t", "-5"}, "value -5 for -t is out of range"},
        {{"--batch-sleep-ms", "-1"}, "value -1 for --batch-sleep-ms is out of range"},
        {{"-ctk", "q8_0"}, "unsupported cache type 'q8_0' for -ctk: expected f32 or f16"},
        {{"--cache-type-v", "bf16"}, "unsupported cache type 'bf16' for --cache-type-v"},
        {{"--cpu-features", "sse9"}, "unknown CPU feature level 'sse9' for --cpu-features"},
        {{"--api-key", ","}, "empty API key given to --api-key"},
        {{"--cli=1"}, "flag --cli does not take a value"},
    };
    for (const Case& c : cases) {
        std::string e = error_of(c.args);
        EXPECT_TRUE(contains(e, c.expect)) << "args " << c.args[0] << " got: " << e;
    }
}

TEST(Options, EnvironmentHasLowerPrecedence) {
    Options o = parse({}, {{"LLAMA_ARG_PORT", "9001"}, {"LLAMA_ARG_MODEL", "env.gguf"},
                           {"LLAMA_ARG_NO_WEBUI", "1"}, {"LLAMA_ARG_CONT_BATCHING", "false"},
                           {"LLAMA_API_KEY", "secret"}, {"LLAMA_ARG_CACHE_TYPE_K", "f32"}});
    EXPECT_EQ(o.port, 9001);
    EXPECT_EQ(o.model, "env.gguf");
    EXPECT_FALSE(o.webui);          // the older variable name is still read
    EXPECT_FALSE(o.cont_batching);  // an on/off pair's variable takes true or false
    EXPECT_EQ(o.api_keys, std::vector<std::string>{"secret"});
    EXPECT_EQ(o.cache_type_k, TensorType::kF32);
    EXPECT_TRUE(o.was_given("--port"));

    Options p = parse({"--port", "9002", "-m", "cli.gguf"}, {{"LLAMA_ARG_PORT", "9001"}, {"LLAMA_ARG_MODEL", "env.gguf"}});
    EXPECT_EQ(p.port, 9002);
    EXPECT_EQ(p.model, "cli.gguf");

    std::string e = error_of({}, {{"LLAMA_ARG_PORT", "http"}});
    EXPECT_TRUE(contains(e, "invalid value 'http' for LLAMA_ARG_PORT")) << e;
    e = error_of({}, {{"LLAMA_ARG_METRICS_X", "1"}, {"LLAMA_ARG_ENDPOINT_METRICS", "maybe"}});
    EXPECT_TRUE(contains(e, "LLAMA_ARG_ENDPOINT_METRICS")) << e;
}

TEST(Options, PromptFileAndEscapes) {
    std::string path = ::testing::TempDir() + "options_test_prompt.txt";
    {
        std::ofstream f(path, std::ios::binary);
        f << "line one\\tTAB\nline two\n";
    }
    Options o = parse({"-f", path});
    EXPECT_EQ(o.prompt, "line one\tTAB\nline two");
    EXPECT_EQ(o.prompt_file, path);
    Options raw = parse({"--no-escape", "-f", path});
    EXPECT_EQ(raw.prompt, "line one\\tTAB\nline two");
    std::remove(path.c_str());

    std::string e = error_of({"-f", path});
    EXPECT_TRUE(contains(e, "cannot read '" + path + "' given to -f")) << e;

    EXPECT_EQ(parse({"-p", "a\\nb\\\\n\\x41\\q"}).prompt, "a\nb\\nA\\q");
    EXPECT_EQ(parse({"-p", "trailing\\"}).prompt, "trailing\\");
    EXPECT_EQ(parse({"-e", "-p", "\\\"q\\'"}).prompt, "\"q'");
}

TEST(Options, TableHasNoDuplicateNamesAndHelpListsEveryFlag) {
    std::set<std::string> seen;
    const std::string help = help_text("mmojo-server");
    for (const OptionSpec& s : option_table()) {
        ASSERT_FALSE(s.names.empty());
        EXPECT_TRUE(s.long_name().rfind("--", 0) == 0) << s.long_name();
        EXPECT_FALSE(s.help.empty()) << s.long_name();
        for (const std::string& n : s.names) {
            EXPECT_TRUE(seen.insert(n).second) << "duplicate " << n;
            EXPECT_TRUE(contains(help, n)) << n;
        }
        for (const std::string& n : s.negative_names) {
            EXPECT_TRUE(seen.insert(n).second) << "duplicate " << n;
            EXPECT_TRUE(contains(help, n)) << n;
            EXPECT_EQ(s.kind, ValueKind::kNone) << n;
        }
        if (!s.env.empty()) {
            EXPECT_TRUE(contains(help, "(env: " + s.env + ")")) << s.env;
        }
    }
    for (const char* group : {"----- common -----", "----- sampling -----", "----- speculative -----",
                              "----- server -----", "----- packaging -----"}) {
        EXPECT_TRUE(contains(help, group)) << group;
    }
    // The flags the brief and llama-server users rely on.
    for (const char* n : {"-m", "-p", "-f", "-n", "-c", "--ctx-size-max", "-b", "-t", "-s", "--temp", "--top-k",
                          "--top-p", "--min-p", "--typical", "--repeat-penalty", "--repeat-last-n",
                          "--presence-penalty", "--frequency-penalty", "-ctk", "-ctv", "--cli", "-h", "--version",
                          "--host", "--port", "-np", "-a", "--api-key", "--timeout", "--path", "--no-webui",
                          "--embeddings", "--embedding", "--metrics", "--slots", "-cb", "-nocb", "--chat-template",
                          "--batch-sleep-ms", "--cpu-features"}) {
        EXPECT_TRUE(seen.count(n)) << n;
    }
    EXPECT_TRUE(contains(help, "(default: 8192)"));
    EXPECT_TRUE(contains(help, "(default: 127.0.0.1)"));
}

TEST(Options, EveryFlagIsDocumentedInConfigureMd) {
    std::ifstream in(std::string(MMOJO_SOURCE_DIR) + "/docs/configure.md");
    ASSERT_TRUE(in) << "docs/configure.md missing";
    std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const OptionSpec& s : option_table()) {
        for (const std::string& n : s.names) EXPECT_TRUE(contains(doc, "`" + n + "`")) << n;
        for (const std::string& n : s.negative_names) EXPECT_TRUE(contains(doc, "`" + n + "`")) << n;
        if (!s.env.empty()) {
            EXPECT_TRUE(contains(doc, s.env)) << s.env;
        }
    }
}

TEST(Options, HelpAndVersionFlags) {
    EXPECT_TRUE(parse({"-h"}).help);
    EXPECT_TRUE(parse({"--help"}).help);
    EXPECT_TRUE(parse({"--version"}).version);
}

TEST(Options, SuggestionsOnlyForCloseNames) {
    EXPECT_EQ(suggest_option("--prot"), "--port");
    EXPECT_EQ(suggest_option("--threds"), "--threads");
    EXPECT_EQ(suggest_option("--completely-different"), "");
}

TEST(Options, OnOffPairsFromArgumentsAndEnvironment) {
    EXPECT_FALSE(parse({"--no-ui"}).webui);
    EXPECT_TRUE(parse({"--no-webui", "--ui"}).webui);
    EXPECT_FALSE(parse({"--no-slots"}).slots);
    EXPECT_FALSE(parse({"-nocb"}).cont_batching);
    EXPECT_FALSE(parse({"--no-escape", "-p", "a\\n"}).escape);
    // LLAMA_ARG_X takes a boolean; LLAMA_ARG_NO_X (any value) turns the pair off, as in llama.cpp.
    EXPECT_FALSE(parse({}, {{"LLAMA_ARG_UI", "0"}}).webui);
    EXPECT_FALSE(parse({}, {{"LLAMA_ARG_NO_UI", "1"}}).webui);
    EXPECT_FALSE(parse({}, {{"LLAMA_ARG_NO_CONT_BATCHING", "1"}}).cont_batching);
    EXPECT_FALSE(parse({}, {{"LLAMA_ARG_ENDPOINT_SLOTS", "false"}}).slots);
    EXPECT_TRUE(parse({"--slots"}, {{"LLAMA_ARG_ENDPOINT_SLOTS", "false"}}).slots);  // arguments win
    std::string e = error_of({}, {{"LLAMA_ARG_UI", "perhaps"}});
    EXPECT_TRUE(contains(e, "LLAMA_ARG_UI")) << e;
    EXPECT_TRUE(contains(error_of({"--no-ui=1"}), "does not take a value"));
}

TEST(Options, LlamaServerSpellingsOfImplementedFlags) {
    EXPECT_TRUE(parse({"--usage"}).help);
    EXPECT_FLOAT_EQ(parse({"--temperature", "0.3"}).sampling.temperature, 0.3f);
    EXPECT_FLOAT_EQ(parse({"--typical-p", "0.7"}).sampling.typical_p, 0.7f);
    EXPECT_EQ(parse({"--log-verbose"}).verbosity, 1);
    EXPECT_EQ(parse({"--ctx_size", "77"}).n_ctx, 77u);   // '_' counts as '-' in long flags
    EXPECT_EQ(parse({"--n_predict=5"}).n_predict, 5);
    // Sampling variables llama-server reads.
    Options e = parse({}, {{"LLAMA_ARG_TEMPERATURE", "0.1"}, {"LLAMA_ARG_TOP_K", "5"}, {"LLAMA_ARG_TOP_P", "0.6"},
                           {"LLAMA_ARG_MIN_P", "0.2"}, {"LLAMA_ARG_REPEAT_PENALTY", "1.3"},
                           {"LLAMA_ARG_PRESENCE_PENALTY", "0.4"}, {"LLAMA_ARG_FREQUENCY_PENALTY", "0.5"}});
    EXPECT_FLOAT_EQ(e.sampling.temperature, 0.1f);
    EXPECT_EQ(e.sampling.top_k, 5);
    EXPECT_FLOAT_EQ(e.sampling.top_p, 0.6f);
    EXPECT_FLOAT_EQ(e.sampling.min_p, 0.2f);
    EXPECT_FLOAT_EQ(e.sampling.repeat_penalty, 1.3f);
    EXPECT_FLOAT_EQ(e.sampling.presence_penalty, 0.4f);
    EXPECT_FLOAT_EQ(e.sampling.frequency_penalty, 0.5f);
}

TEST(Options, ThreadsBatchUbatchKeepAndHttpThreads) {
    Options d = parse({});
    EXPECT_EQ(d.n_threads_batch, 0);
    EXPECT_EQ(d.n_ubatch, 512u);   // llama-server's default physical batch
    EXPECT_EQ(d.n_keep, 0);
    EXPECT_EQ(d.n_threads_http, -1);
    Options o = parse({"-tb", "3", "-ub", "128", "--keep", "-1", "--threads-http", "6"});
    EXPECT_EQ(o.n_threads_batch, 3);
    EXPECT_EQ(o.n_ubatch, 128u);
    EXPECT_EQ(o.n_keep, -1);
    EXPECT_EQ(o.n_threads_http, 6);
    EXPECT_EQ(parse({"--threads-batch", "-1"}).n_threads_batch, 0);
    EXPECT_EQ(parse({}, {{"LLAMA_ARG_UBATCH", "32"}}).n_ubatch, 32u);
    EXPECT_EQ(parse({}, {{"LLAMA_ARG_THREADS_HTTP", "9"}}).n_threads_http, 9);
    EXPECT_TRUE(contains(error_of({"-ub", "0"}), "value 0 for -ub is out of range"));
    EXPECT_TRUE(contains(error_of({"--keep", "x"}), "invalid value 'x' for --keep"));
}

TEST(Options, LogitBiasIgnoreEosAndLoadModes) {
    Options o = parse({"-l", "15043+1", "--logit-bias", "7-0.5", "-l", "2-inf", "--ignore-eos"});
    ASSERT_EQ(o.sampling.logit_bias.size(), 3u);
    EXPECT_EQ(o.sampling.logit_bias[0].first, 15043);
    EXPECT_FLOAT_EQ(o.sampling.logit_bias[0].second, 1.0f);
    EXPECT_EQ(o.sampling.logit_bias[1].first, 7);
    EXPECT_FLOAT_EQ(o.sampling.logit_bias[1].second, -0.5f);
    EXPECT_TRUE(std::isinf(o.sampling.logit_bias[2].second) && o.sampling.logit_bias[2].second < 0);
    EXPECT_TRUE(o.ignore_eos);
    for (const char* bad : {"15043", "x+1", "15043+", "+1", "15043*2", "15043+abc"}) {
        EXPECT_TRUE(contains(error_of({"-l", bad}), "invalid value '" + std::string(bad) + "' for -l")) << bad;
    }
    EXPECT_TRUE(parse({"--mlock"}).mlock);
    EXPECT_TRUE(parse({"-lm", "mmap+mlock"}).mlock);
    EXPECT_TRUE(parse({}, {{"LLAMA_ARG_MLOCK", "1"}}).mlock);
    EXPECT_FALSE(parse({"--load-mode", "mmap"}).mlock);
    EXPECT_TRUE(parse({"--mmap"}).notices.empty());
    EXPECT_EQ(parse({"--no-mmap"}).notices.size(), 1u);
    EXPECT_EQ(parse({"-lm", "none"}).notices.size(), 1u);
    EXPECT_TRUE(contains(error_of({"-lm", "fast"}), "invalid value 'fast' for -lm"));
}

TEST(Options, LoggingFlags) {
    EXPECT_EQ(parse({"-lv", "3"}).verbosity, 0);
    EXPECT_EQ(parse({"--verbosity", "5"}).verbosity, 2);
    EXPECT_EQ(parse({}, {{"LLAMA_ARG_LOG_VERBOSITY", "4"}}).verbosity, 1);
    EXPECT_TRUE(parse({"--log-disable"}).log_disable);
    EXPECT_EQ(parse({"--log-file", "/tmp/x.log"}).log_file, "/tmp/x.log");
    EXPECT_EQ(parse({}, {{"LLAMA_ARG_LOG_FILE", "y.log"}}).log_file, "y.log");
}

TEST(Options, ApiKeyFile) {
    std::string path = ::testing::TempDir() + "options_test_keys.txt";
    {
        std::ofstream f(path, std::ios::binary);
        f << "# production keys\r\nalpha\r\n\n  beta  \n#gamma\n";
    }
    Options o = parse({"--api-key", "k0", "--api-key-file", path});
    EXPECT_EQ(o.api_keys, (std::vector<std::string>{"k0", "alpha", "beta"}));
    EXPECT_EQ(parse({}, {{"LLAMA_ARG_API_KEY_FILE", path}}).api_keys, (std::vector<std::string>{"alpha", "beta"}));
    {
        std::ofstream f(path, std::ios::binary);
        f << "# only a comment\n";
    }
    EXPECT_TRUE(contains(error_of({"--api-key-file", path}), "no API key found in '" + path + "'"));
    std::remove(path.c_str());
    EXPECT_TRUE(contains(error_of({"--api-key-file", path}), "cannot read '" + path + "'"));
}

TEST(Options, IgnoredFlagsKeepTheirSyntaxAndLeaveANotice) {
    Options o = parse({"-ngl", "99", "--spec-draft-model", "d.gguf", "--no-kv-offload",
                       "--control-vector-layer-range", "1", "4", "--mirostat", "2", "-hf", "org/repo:Q4_K_M"});
    ASSERT_EQ(o.notices.size(), 6u);
    EXPECT_TRUE(contains(o.notices[0], "-ngl is accepted for compatibility with llama-server and ignored: "));
    EXPECT_TRUE(contains(o.notices[0], "CPU only"));
    EXPECT_TRUE(contains(o.notices[2], "--no-kv-offload"));
    EXPECT_TRUE(contains(o.notices[3], "--control-vector-layer-range"));
    EXPECT_TRUE(contains(o.notices[5], "-hf "));
    // Values are still checked where llama-server checks them: integers must be integers,
    // and a two-value flag needs both.
    EXPECT_TRUE(contains(error_of({"--mirostat", "two"}), "invalid value 'two' for --mirostat: expected an integer"));
    EXPECT_TRUE(contains(error_of({"--control-vector-layer-range", "1"}), "missing value for --control-vector-layer-range"));
    EXPECT_TRUE(contains(error_of({"-ngl"}), "missing value for -ngl"));
    // From the environment the notice names the variable.
    Options e = parse({}, {{"LLAMA_ARG_N_GPU_LAYERS", "99"}});
    ASSERT_EQ(e.notices.size(), 1u);
    EXPECT_TRUE(contains(e.notices[0], "LLAMA_ARG_N_GPU_LAYERS is accepted"));
    EXPECT_TRUE(parse({"--jinja"}).notices.empty());
    EXPECT_EQ(parse({"--no-jinja"}).notices.size(), 1u);
}

}  // namespace
}  // namespace mmojo
