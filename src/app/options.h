// Command-line options of mmojo-server: one table (options.cpp) lists every flag with its
// short and long names (as llama.cpp's llama-server / llama-cli spell them), its value
// kind, default, help text and environment variable; parse_options() turns an argument
// list into one Options struct that every mode reads.
//
// Precedence: built-in defaults < environment variables (LLAMA_ARG_*, as llama.cpp names
// them) < command-line arguments. Args files (embedded in the executable or next to it) are
// merged into the argument list by src/package/ before parsing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/tensor_type.h"
#include "sampling/sampler.h"

namespace mmojo {

// Bad command line: the message names the flag and says what was wrong.
class OptionsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Options {
    // --- mode --------------------------------------------------------------------------
    bool help = false;               // -h/--help: print usage and exit
    bool version = false;            // --version
    bool cli = false;                // --cli: generate once from -p/-f on stdout and exit

    // --- common ------------------------------------------------------------------------
    std::string model;               // -m/--model: path of the GGUF file
    std::string prompt;              // -p/--prompt (or the contents of -f/--file)
    std::string prompt_file;         // -f/--file: where `prompt` was read from ("" if -p)
    bool escape = true;              // -e/--escape: process \n \t ... in the prompt (CLI)
    int32_t n_predict = -1;          // -n/--n-predict: tokens to generate; -1 = until end/full
    uint32_t n_ctx = 0;              // -c/--ctx-size: 0 = model's trained length capped by n_ctx_max
    uint32_t n_ctx_max = 8192;       // --ctx-size-max (ours)
    uint32_t n_batch = 2048;         // -b/--batch-size: most tokens per scheduled batch
    uint32_t n_ubatch = 512;         // -ub/--ubatch-size: most tokens per forward pass
    int32_t n_threads = 0;           // -t/--threads: 0 = number of physical cores
    int32_t n_threads_batch = 0;     // -tb/--threads-batch: 0 = same as n_threads
    TensorType cache_type_k = TensorType::kF16;   // -ctk/--cache-type-k
    TensorType cache_type_v = TensorType::kF16;   // -ctv/--cache-type-v
    std::string cpu_features;        // --cpu-features: "" = best the CPU has; else a lower level
    int32_t verbosity = 0;           // -v/--verbose, -lv/--verbosity (llama's level 3 = our 0)
    int32_t n_keep = 0;              // --keep: default n_keep of requests
    bool mlock = false;              // --mlock, -lm mlock: lock the process's pages in RAM
    bool log_disable = false;        // --log-disable: no log lines on stderr
    std::string log_file;            // --log-file: log lines go to this file instead of stderr

    // --- sampling (defaults for every request; the server lets requests override) ------
    SamplingParams sampling;
    // --grammar / --grammar-file / -j: GBNF every request is held to unless it brings its
    // own constraint ("" = none).
    std::string grammar;

    // --- server ------------------------------------------------------------------------
    std::string host = "127.0.0.1";  // --host
    uint16_t port = 8080;            // --port
    int32_t n_parallel = 1;          // -np/--parallel: number of slots
    std::string alias;               // -a/--alias: model name in the API ("" = file name)
    std::vector<std::string> api_keys;  // --api-key (comma-separated list allowed)
    int32_t timeout_s = 600;         // -to/--timeout: read/write timeout in seconds
    std::string static_path;         // --path: serve static files from here instead of the built-in UI
    std::string ssl_key_file;        // --ssl-key-file: PEM private key (HTTPS with the certificate)
    std::string ssl_cert_file;       // --ssl-cert-file: PEM certificate chain
    bool webui = true;               // --no-webui turns it off
    bool embeddings = false;         // --embedding(s): only the embeddings endpoints
    bool metrics = false;            // --metrics: Prometheus /metrics
    bool slots = true;               // --slots / --no-slots: GET /slots
    bool cont_batching = true;       // -cb/--cont-batching, -nocb/--no-cont-batching
    std::string chat_template;       // --chat-template: name or Jinja source ("" = from the model)
    int32_t batch_sleep_ms = 0;      // --batch-sleep-ms (ours): sleep after each prompt batch
    std::string reasoning_format = "auto";  // --reasoning-format: none, deepseek, deepseek-legacy, auto
    int32_t reasoning_budget = -1;   // --reasoning-budget: thinking tokens (-1 unlimited, 0 no thinking)
    std::string chat_template_kwargs;  // --chat-template-kwargs: JSON object of template variables
    std::string reasoning_effort;    // --reasoning-effort: gpt-oss level ("" = the template's default)
    int32_t n_threads_http = -1;     // --threads-http: HTTP worker threads (-1 = automatic)
    bool ignore_eos = false;         // --ignore-eos: default of requests (CLI: keep generating)

    // One line per flag that was accepted but has no effect here, saying why; the program
    // prints them to stderr once parsing is done.
    std::vector<std::string> notices;

    // Which flags appeared on the command line or in the environment (long names, e.g.
    // "--ctx-size"), for modes that need to tell "given" from "default".
    std::vector<std::string> given;
    bool was_given(std::string_view long_name) const;
};

// The sections of --help, as llama-server prints them (its "example-specific" section is
// our server one), plus packaging.
enum class OptionGroup { kCommon, kSampling, kSpeculative, kServer, kPackaging };

// What follows a flag on the command line. kTwo: two values (FNAME SCALE style).
enum class ValueKind { kNone, kString, kPath, kInt, kFloat, kEnum, kTwo };

struct OptionSpec {
    std::vector<std::string> names;  // every spelling, short first: {"-m", "--model"}
    // For an on/off pair (kind kNone): the spellings that turn it off ({"--no-slots"}). apply
    // then receives "1" for `names` and "0" for these; the environment variable takes a
    // boolean, and its LLAMA_ARG_NO_ form means off, as in llama.cpp.
    std::vector<std::string> negative_names;
    ValueKind kind;
    std::string value_name;          // placeholder in --help: "FNAME", "N", ...
    OptionGroup group;
    std::string env;                 // environment variable, "" when none
    std::vector<std::string> env_aliases;  // older names of `env` that are still read
    std::string help;                // one or more sentences; the default is appended
    // Default as shown in --help, read from a default-constructed Options ("" = none).
    std::function<std::string()> default_text;
    // Stores the value (or, for kNone, the flag's effect). `flag` is the spelling used, for
    // error messages; kTwo values arrive joined by a '\n'. Throws OptionsError.
    std::function<void(Options&, const std::string& flag, const std::string& value)> apply;

    const std::string& long_name() const { return names.back(); }
};

// The table of every flag, in --help order.
const std::vector<OptionSpec>& option_table();

// Looks up an environment variable; returns nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// Parses arguments (without the program name). As in llama.cpp, '_' in a "--" flag counts as
// '-'; ours also takes "--flag=value". Throws OptionsError naming the flag for an
// unknown argument (with a did-you-mean), a missing value, a malformed number or a value
// out of range. `env` supplies LLAMA_ARG_* variables (pass nullptr to ignore the environment).
Options parse_options(const std::vector<std::string>& args, const EnvLookup& env = nullptr);

// Usage text listing every flag grouped (common, sampling, server, packaging).
std::string help_text(const std::string& program);

// Closest known flag to `arg` (edit distance), or "" when nothing is close.
std::string suggest_option(std::string_view arg);

}  // namespace mmojo
