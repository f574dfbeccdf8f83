// Request parameters shared by /completion, /v1/completions and /v1/chat/completions, read
// from JSON with strict type checks (a wrong type is a 400, an unknown field is ignored as
// llama-server does), and their echo as llama-server's "generation_settings".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace mmojo {

struct GenerationParams {
    SamplingParams sampling;
    int32_t n_predict = -1;            // -1: until end of generation or context full
    int32_t n_keep = 0;
    int32_t n_indent = 0;
    std::vector<std::string> stop;
    bool stream = false;
    bool cache_prompt = true;
    bool return_tokens = false;
    bool return_progress = false;
    bool post_sampling_probs = false;
    bool ignore_eos = false;
    bool timings_per_token = false;
    bool include_usage = false;         // stream_options.include_usage (OpenAI)
    int32_t n_choices = 1;              // OpenAI "n": completions generated per prompt
    int32_t id_slot = -1;
};

// Typed field readers: the default when absent or null, ApiError (400) naming the field
// when present with the wrong type or out of range.
bool json_bool(const nlohmann::json& body, const char* key, bool fallback);
int64_t json_int(const nlohmann::json& body, const char* key, int64_t fallback,
                 int64_t min_value = INT32_MIN, int64_t max_value = INT32_MAX);
double json_number(const nlohmann::json& body, const char* key, double fallback);
std::string json_string(const nlohmann::json& body, const char* key, const std::string& fallback);

// Parses a request body as a JSON object; ApiError 400 otherwise.
nlohmann::json parse_body(const std::string& body);

// Reads the sampling and generation fields. `defaults` come from the command line.
// `openai` selects the OpenAI spellings (max_tokens, logprobs/top_logprobs, stop as
// string or list, stream_options) in addition to llama-server's own names. `tokenizer`
// checks token ids of logit_bias and turns its text entries into tokens.
GenerationParams parse_generation_params(const nlohmann::json& body, const GenerationParams& defaults,
                                         bool openai, const Tokenizer& tokenizer);

// llama-server's "generation_settings" / slot "params" object.
nlohmann::json generation_settings_json(const GenerationParams& params);

// One slot as GET /slots shows it (llama-server's fields).
struct SlotResponse {
    int32_t id = 0;
    int32_t id_task = -1;
    int32_t n_ctx = 0;
    bool is_processing = false;
    GenerationParams params;
    int32_t n_remain = -1;
    int32_t n_decoded = 0;
};
void to_json(nlohmann::json& out, const SlotResponse& slot);

}  // namespace mmojo
