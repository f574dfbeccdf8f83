// Parsing and checking of flag values for the options table (app/options.cpp); every error
// is an OptionsError naming the flag as the user spelled it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/options.h"

namespace mmojo {

// The largest token id a flag may name.
constexpr int64_t kTokenIdMax = 0x7FFFFFFF;

// 's', for quoting a value in an error.
std::string in_quotes(std::string_view s);

int64_t parse_integer(const std::string& flag, const std::string& value, int64_t lo, int64_t hi);

// The shortest usual form of v (as an ostream writes it).
std::string format_float(double v);

// lo/hi inclusive unless lo_open (then v must be > lo).
float parse_real(const std::string& flag, const std::string& value, double lo, double hi,
                 bool lo_open = false);

// An environment variable's boolean: 1/true/on/yes/enabled or 0/false/off/no/disabled/empty.
bool parse_env_bool(const std::string& var, const std::string& value);

// -ctk/-ctv: f32 or f16.
TensorType parse_cache_type(const std::string& flag, const std::string& value);

inline std::string cache_type_name(TensorType t) { return t == TensorType::kF32 ? "f32" : "f16"; }

// The whole file given to `flag`.
std::string read_text_file(const std::string& flag, const std::string& path);

// A grammar given on the command line, refused at once when it does not parse.
std::string checked_grammar(const std::string& flag, const std::string& gbnf);

// The GBNF of a JSON Schema given to `flag`.
std::string schema_grammar(const std::string& flag, const std::string& schema);

// The escapes llama-cli processes in a prompt: \n \r \t \' \" \\ and \xHH; anything else
// stays as written.
std::string process_escapes(const std::string& s);

// TOKEN_ID(+/-)BIAS as llama.cpp reads it: "15043+1", "15043-0.5", "2-inf".
std::pair<int32_t, float> parse_logit_bias(const std::string& flag, const std::string& value);

// API keys from a file: one per line; blank lines and lines starting with '#' are skipped.
std::vector<std::string> read_api_key_file(const std::string& flag, const std::string& path);

}  // namespace mmojo
