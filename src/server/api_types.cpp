// Reading generation parameters from request JSON (see api_types.h).
#include "server/api_types.h"

#include <cmath>
#include <limits>

#include "server/errors.h"
#include "server/json_limits.h"

namespace mmojo {

static ApiError bad_field(const char* key, const std::string& what) {
    return ApiError(ErrorType::kInvalidRequest, std::string("'") + key + "' " + what);
}

nlohmann::json parse_body(const std::string& body) {
    check_json_depth(body);
    nlohmann::json value;
    try {
        value = nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
        throw ApiError(ErrorType::kInvalidRequest, std::string("Invalid JSON body: ") + e.what());
    }
    if (!value.is_object()) {
        throw ApiError(ErrorType::kInvalidRequest, "The request body must be a JSON object");
    }
    return value;
}

bool json_bool(const nlohmann::json& body, const char* key, bool fallback) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) throw bad_field(key, "must be a boolean");
    return it->get<bool>();
}

int64_t json_int(const nlohmann::json& body, const char* key, int64_t fallback, int64_t min_value,
                 int64_t max_value) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return fallback;
    int64_t v = 0;
    if (it->is_number_integer()) {
        if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX)) {
            throw bad_field(key, "is out of range");
        }
        v = it->get<int64_t>();
    } else if (it->is_number_float()) {
        const double d = it->get<double>();
        if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) {
            throw bad_field(key, "must be an integer");
        }
        v = int64_t(d);
    } else {
        throw bad_field(key, "must be an integer");
    }
    if (v < min_value || v > max_value) {
        throw bad_field(key, "must be between " + std::to_string(min_value) + " and " +
                                 std::to_string(max_value));
    }
    return v;
}

double json_number(const nlohmann::json& body, const char* key, double fallback) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_number()) throw bad_field(key, "must be a number");
    const double v = it->get<double>();
    if (!std::isfinite(v)) throw bad_field(key, "must be finite");
    return v;
}

std::string json_string(const nlohmann::json& body, const char* key, const std::string& fallback) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_string()) throw bad_field(key, "must be a string");
    return it->get<std::string>();
}

static std::vector<std::string> parse_stop(const nlohmann::json& body, const std::vector<std::string>& fallback) {
    auto it = body.find("stop");
    if (it == body.end() || it->is_null()) return fallback;
    std::vector<std::string> out;
    if (it->is_string()) {
        out.push_back(it->get<std::string>());
    } else if (it->is_array()) {
        for (const auto& s : *it) {
            if (!s.is_string()) throw bad_field("stop", "must be a string or a list of strings");
            out.push_back(s.get<std::string>());
        }
    } else {
        throw bad_field("stop", "must be a string or a list of strings");
    }
    std::erase_if(out, [](const std::string& s) { return s.empty(); });
    return out;
}

// llama-server's logit_bias: [[token, bias], ...] or (OpenAI) {"token": bias, ...}, where a
// token is an id or a text whose every token gets the bias, and bias false bans it.
std::vector<std::pair<int32_t, float>> parse_logit_bias(const nlohmann::json& value,
                                                        const Tokenizer& tokenizer) {
    std::vector<std::pair<int32_t, float>> out;
    auto add = [&](const nlohmann::json& token, const nlohmann::json& bias) {
        float b = 0.0f;
        if (bias.is_boolean()) {
            if (bias.get<bool>()) throw bad_field("logit_bias", "a bias may be false (ban) but not true");
            b = -std::numeric_limits<float>::infinity();
        } else if (bias.is_number()) {
            b = bias.get<float>();
        } else {
            throw bad_field("logit_bias", "a bias must be a number or false");
        }
        if (token.is_number_integer()) {
            const int64_t id = token.get<int64_t>();
            if (id < 0 || id >= tokenizer.n_vocab()) {
                throw bad_field("logit_bias", "token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                                                  std::to_string(tokenizer.n_vocab() - 1) + ")");
            }
            out.emplace_back(int32_t(id), b);
        } else if (token.is_string()) {
            for (TokenId id : tokenizer.encode(token.get<std::string>(), false, false)) out.emplace_back(id, b);
        } else {
            throw bad_field("logit_bias", "a token must be an id or a string");
        }
    };
    if (value.is_null()) return out;
    if (value.is_array()) {
        for (const auto& pair : value) {
            if (!pair.is_array() || pair.size() != 2) throw bad_field("logit_bias", "entries must be [token, bias] pairs");
            add(pair[0], pair[1]);
        }
    } else if (value.is_object()) {
        for (const auto& [key, bias] : value.items()) {
            // Keys are strings: all digits is a token id, anything else a text.
            const bool is_id = !key.empty() && key.size() < 10 &&
                               key.find_first_not_of("0123456789") == std::string::npos;
            add(is_id ? nlohmann::json(std::stoll(key)) : nlohmann::json(key), bias);
        }
    } else {
        throw bad_field("logit_bias", "must be a list of [token, bias] pairs or an object");
    }
    return out;
}

GenerationParams parse_generation_params(const nlohmann::json& body, const GenerationParams& defaults,
                                         bool openai, const Tokenizer& tokenizer) {
    GenerationParams p = defaults;
    SamplingParams& s = p.sampling;
    s.temperature = float(json_number(body, "temperature", s.temperature));
    s.top_k = int32_t(json_int(body, "top_k", s.top_k));
    s.top_p = float(json_number(body, "top_p", s.top_p));
    s.min_p = float(json_number(body, "min_p", s.min_p));
    s.typical_p = float(json_number(body, "typical_p", s.typical_p));
    s.repeat_penalty = float(json_number(body, "repeat_penalty", s.repeat_penalty));
    s.repeat_last_n = int32_t(json_int(body, "repeat_last_n", s.repeat_last_n, -1, INT32_MAX));
    s.presence_penalty = float(json_number(body, "presence_penalty", s.presence_penalty));
    s.frequency_penalty = float(json_number(body, "frequency_penalty", s.frequency_penalty));
    s.min_keep = int32_t(json_int(body, "min_keep", s.min_keep, 0, INT32_MAX));
    if (s.top_p < 0 || s.top_p > 1) throw bad_field("top_p", "must be between 0 and 1");
    if (s.min_p < 0 || s.min_p > 1) throw bad_field("min_p", "must be between 0 and 1");
    // seed: -1 (or absent) means random, as in llama-server.
    const int64_t seed = json_int(body, "seed", s.seed == 0xFFFFFFFFu ? -1 : int64_t(s.seed),
                                  INT64_MIN / 2, INT64_MAX / 2);
    s.seed = seed < 0 ? 0xFFFFFFFFu : uint32_t(uint64_t(seed) & 0xFFFFFFFFu);

    p.n_predict = int32_t(json_int(body, "n_predict", p.n_predict, -1, INT32_MAX));
    if (body.contains("max_tokens")) {
        p.n_predict = int32_t(json_int(body, "max_tokens", p.n_predict, -1, INT32_MAX));
    }
    if (body.contains("max_completion_tokens")) {
        p.n_predict = int32_t(json_int(body, "max_completion_tokens", p.n_predict, -1, INT32_MAX));
    }
    p.n_keep = int32_t(json_int(body, "n_keep", p.n_keep, -1, INT32_MAX));
    p.n_indent = int32_t(json_int(body, "n_indent", p.n_indent, 0, INT32_MAX));
    p.stop = parse_stop(body, p.stop);
    p.stream = json_bool(body, "stream", p.stream);
    p.cache_prompt = json_bool(body, "cache_prompt", p.cache_prompt);
    p.return_tokens = json_bool(body, "return_tokens", p.return_tokens);
    p.return_progress = json_bool(body, "return_progress", p.return_progress);
    p.post_sampling_probs = json_bool(body, "post_sampling_probs", p.post_sampling_probs);
    p.ignore_eos = json_bool(body, "ignore_eos", p.ignore_eos);
    p.timings_per_token = json_bool(body, "timings_per_token", p.timings_per_token);
    p.id_slot = int32_t(json_int(body, "id_slot", p.id_slot, -1, INT32_MAX));
    s.n_probs = int32_t(json_int(body, "n_probs", s.n_probs, 0, 1024));
    if (auto lb = body.find("logit_bias"); lb != body.end()) s.logit_bias = parse_logit_bias(*lb, tokenizer);

    if (openai) {
        // Chat: logprobs is a boolean and top_logprobs the count. Legacy completions:
        // logprobs is the count itself.
        auto lp = body.find("logprobs");
        if (lp != body.end() && !lp->is_null()) {
            if (lp->is_boolean()) {
                if (lp->get<bool>()) {
                    s.n_probs = int32_t(json_int(body, "top_logprobs", 0, 0, 20));
                    if (s.n_probs == 0) s.n_probs = 1;   // the chosen token itself is reported
                }
            } else if (lp->is_number_integer()) {
                s.n_probs = int32_t(json_int(body, "logprobs", 0, 0, 20));
            } else {
                throw bad_field("logprobs", "must be a boolean or an integer");
            }
        } else if (body.contains("top_logprobs") && !body["top_logprobs"].is_null()) {
            json_int(body, "top_logprobs", 0, 0, 20);   // type check only
        }
        auto so = body.find("stream_options");
        if (so != body.end() && !so->is_null()) {
            if (!so->is_object()) throw bad_field("stream_options", "must be an object");
            p.include_usage = json_bool(*so, "include_usage", false);
        }
        p.n_choices = int32_t(json_int(body, "n", 1, 1, 128));
    }
    return p;
}

void to_json(nlohmann::json& out, const SlotResponse& s) {
    out = {
        {"id", s.id},
        {"id_task", s.id_task},
        {"n_ctx", s.n_ctx},
        {"speculative", false},
        {"is_processing", s.is_processing},
        {"params", generation_settings_json(s.params)},
        {"next_token",
         {{"has_next_token", s.is_processing},
          {"has_new_line", false},
          {"n_remain", s.n_remain},
          {"n_decoded", s.n_decoded},
          {"stopping_word", ""}}},
    };
}

nlohmann::json generation_settings_json(const GenerationParams& p) {
    const SamplingParams& s = p.sampling;
    return {
        {"n_predict", p.n_predict},
        {"seed", s.seed},
        {"temperature", s.temperature},
        {"dynatemp_range", 0.0},
        {"dynatemp_exponent", 1.0},
        {"top_k", s.top_k},
        {"top_p", s.top_p},
        {"min_p", s.min_p},
        {"typical_p", s.typical_p},
        {"repeat_last_n", s.repeat_last_n},
        {"repeat_penalty", s.repeat_penalty},
        {"presence_penalty", s.presence_penalty},
        {"frequency_penalty", s.frequency_penalty},
        {"mirostat", 0},
        {"stop", p.stop},
        {"max_tokens", p.n_predict},
        {"n_keep", p.n_keep},
        {"n_discard", 0},
        {"ignore_eos", p.ignore_eos},
        {"stream", p.stream},
        {"n_probs", s.n_probs},
        {"min_keep", s.min_keep},
        {"samplers", {"penalties", "top_k", "typ_p", "top_p", "min_p", "temperature"}},
        {"timings_per_token", p.timings_per_token},
        {"post_sampling_probs", p.post_sampling_probs},
        {"cache_prompt", p.cache_prompt},
        {"return_tokens", p.return_tokens},
    };
}

}  // namespace mmojo
