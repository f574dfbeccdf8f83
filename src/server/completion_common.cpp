// Helpers shared by the completion, chat and embedding endpoints: prompt tokenization and
// validation, collecting or streaming task events, and the JSON for timings and token
// probabilities (llama-server and OpenAI shapes).
#include <chrono>
#include <cmath>
#include <ctime>
#include <random>

#include "server/errors.h"
#include "server/server_context.h"
#include "server/sse.h"

namespace mmojo {

void ServerContext::require_ready() const {
    if (state.load() != ServerState::kReady) {
        throw ApiError(ErrorType::kUnavailable, "Loading model");
    }
}

void ServerContext::require_generation() const {
    require_ready();
    if (context->output_kind() != OutputKind::kLogits || !model->hparams().causal) {
        throw ApiError(ErrorType::kNotSupported,
                       "This server does not support completions: it runs with `--embeddings` or an "
                       "embedding-only model. Start it without `--embeddings`");
    }
}

static bool is_token_id(const nlohmann::json& v) { return v.is_number_integer(); }

void check_prompt_bytes(const ServerContext& server, size_t bytes, size_t n_ids) {
    if (server.max_token_bytes == 0 || !server.scheduler) return;
    // Each token stands for at most max_token_bytes of text; halved again as a margin for
    // normalization (SPM's escaped spaces, an <unk> covering a run of characters).
    const size_t at_least = bytes / (2 * server.max_token_bytes) + n_ids;
    const size_t n_ctx = size_t(server.scheduler->n_ctx_slot());
    if (at_least < n_ctx) return;
    ApiError error(ErrorType::kExceedContext,
                   "the request exceeds the available context size: " + std::to_string(bytes) +
                       " bytes of prompt make at least " + std::to_string(at_least) + " tokens, " +
                       std::to_string(n_ctx) + " fit in a slot");
    error.extra = {{"n_prompt_tokens", at_least}, {"n_ctx", n_ctx}};
    throw error;
}

std::vector<int32_t> tokenize_one(const ServerContext& server, const nlohmann::json& prompt,
                                  bool add_special) {
    const Tokenizer& tok = server.tokenizer();
    if (prompt.is_array()) {
        size_t bytes = 0, ids = 0;
        for (const auto& piece : prompt) {
            if (piece.is_string()) bytes += piece.get_ref<const std::string&>().size();
            else ++ids;
        }
        check_prompt_bytes(server, bytes, ids);
    } else if (prompt.is_string()) {
        check_prompt_bytes(server, prompt.get_ref<const std::string&>().size());
    }
    if (prompt.is_string()) {
        return tok.encode(prompt.get<std::string>(), add_special, true);
    }
    if (!prompt.is_array()) {
        throw ApiError(ErrorType::kInvalidRequest,
                       "'prompt' must be a string, a list of token ids or a list of strings");
    }
    std::vector<int32_t> out;
    bool first = true;
    for (const auto& piece : prompt) {
        if (piece.is_string()) {
            auto ids = tok.encode(piece.get<std::string>(), first && add_special, true);
            out.insert(out.end(), ids.begin(), ids.end());
        } else if (is_token_id(piece)) {
            const int64_t id = piece.get<int64_t>();
            if (id < 0 || id >= tok.n_vocab()) {
                throw ApiError(ErrorType::kInvalidRequest,
                               "token id " + std::to_string(id) + " is out of range [0, " +
                                   std::to_string(tok.n_vocab()) + ")");
            }
            out.push_back(int32_t(id));
        } else {
            throw ApiError(ErrorType::kInvalidRequest,
                           "'prompt' list elements must be strings or token ids");
        }
        first = false;
    }
    return out;
}

std::vector<std::vector<int32_t>> tokenize_prompts(const ServerContext& server, const nlohmann::json& prompt,
                                                   bool add_special) {
    std::vector<std::vector<int32_t>> out;
    if (prompt.is_array() && !prompt.empty()) {
        bool all_strings = true, all_lists = true, any_id = false;
        for (const auto& p : prompt) {
            all_strings = all_strings && p.is_string();
            all_lists = all_lists && p.is_array();
            any_id = any_id || is_token_id(p);
        }
        if (!any_id && (all_strings || all_lists)) {
            if (prompt.size() > 64) throw ApiError(ErrorType::kInvalidRequest, "too many prompts (at most 64)");
            for (const auto& p : prompt) out.push_back(tokenize_one(server, p, add_special));
            return out;
        }
    }
    out.push_back(tokenize_one(server, prompt, add_special));
    return out;
}

void validate_prompt(const ServerContext& server, const std::vector<int32_t>& tokens) {
    if (tokens.empty()) {
        throw ApiError(ErrorType::kInvalidRequest, "The prompt is empty (no tokens)");
    }
    const int32_t n_vocab = server.tokenizer().n_vocab();
    for (int32_t id : tokens) {
        if (id < 0 || id >= n_vocab) {
            throw ApiError(ErrorType::kInvalidRequest, "token id " + std::to_string(id) + " is out of range");
        }
    }
    const int32_t n_ctx = server.scheduler->n_ctx_slot();
    if (int32_t(tokens.size()) >= n_ctx) {
        ApiError error(ErrorType::kExceedContext,
                       "the request exceeds the available context size (" + std::to_string(tokens.size()) +
                           " prompt tokens, " + std::to_string(n_ctx) + " per slot), try increasing it");
        error.extra = {{"n_prompt_tokens", tokens.size()}, {"n_ctx", n_ctx}};
        throw error;
    }
}

static void throw_event_error(const TaskEvent& event) {
    throw ApiError(event.error_type, event.text);
}

std::vector<TaskResult> wait_results(const std::shared_ptr<TaskChannel>& channel, size_t n_tasks) {
    std::vector<TaskResult> results(n_tasks);
    size_t n_done = 0;
    while (n_done < n_tasks) {
        auto event = channel->pop(std::chrono::milliseconds(1000));
        if (!event) continue;
        const size_t i = size_t(event->index);
        if (i >= n_tasks) continue;
        switch (event->kind) {
            case TaskEvent::Kind::kPartial:
                for (auto& p : event->probs) results[i].probs.push_back(std::move(p));
                break;
            case TaskEvent::Kind::kProgress: break;
            case TaskEvent::Kind::kError:
                channel->cancel();
                throw_event_error(*event);
                break;
            case TaskEvent::Kind::kFinal:
                results[i].final = std::move(*event);
                ++n_done;
                break;
        }
    }
    return results;
}

void stream_events(StreamSink& sink, const std::shared_ptr<TaskChannel>& channel, size_t n_tasks,
                   const std::function<std::string(const TaskEvent&)>& format) {
    size_t n_done = 0;
    while (n_done < n_tasks) {
        auto event = channel->pop(std::chrono::milliseconds(100));
        if (!event) {
            if (!sink.alive()) {
                channel->cancel();
                return;
            }
            continue;
        }
        if (event->kind == TaskEvent::Kind::kFinal) ++n_done;
        if (event->kind == TaskEvent::Kind::kError) {
            // Errors after the headers went out are sent as an SSE event, then the stream ends.
            sink.write(sse_data(error_body(event->error_type, event->text)));
            channel->cancel();
            return;
        }
        const std::string chunk = format(*event);
        if (!chunk.empty() && !sink.write(chunk)) {
            channel->cancel();
            return;
        }
    }
}

nlohmann::json timings_json(const TaskTimings& t, int32_t n_cached) {
    auto per_token = [](double ms, int32_t n) { return n > 0 ? ms / n : 0.0; };
    auto per_second = [](double ms, int32_t n) { return ms > 0 ? 1e3 * n / ms : 0.0; };
    return {
        {"cache_n", n_cached},
        {"prompt_n", t.prompt_n},
        {"prompt_ms", t.prompt_ms},
        {"prompt_per_token_ms", per_token(t.prompt_ms, t.prompt_n)},
        {"prompt_per_second", per_second(t.prompt_ms, t.prompt_n)},
        {"predicted_n", t.predicted_n},
        {"predicted_ms", t.predicted_ms},
        {"predicted_per_token_ms", per_token(t.predicted_ms, t.predicted_n)},
        {"predicted_per_second", per_second(t.predicted_ms, t.predicted_n)},
    };
}

nlohmann::json probs_json(const ServerContext& server, const std::vector<TokenProbs>& probs, bool post_sampling) {
    const Tokenizer& tok = server.tokenizer();
    const char* value_key = post_sampling ? "prob" : "logprob";
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : probs) {
        const std::string piece = tok.token_to_piece(p.id, true);
        nlohmann::json top = nlohmann::json::array();
        for (const auto& [id, value] : p.top) {
            const std::string cand = tok.token_to_piece(id, true);
            top.push_back({{"id", id}, {"token", cand}, {"bytes", bytes_array(cand)}, {value_key, value}});
        }
        out.push_back({{"id", p.id},
                       {"token", piece},
                       {"bytes", bytes_array(piece)},
                       {value_key, p.value},
                       {post_sampling ? "top_probs" : "top_logprobs", top}});
    }
    return out;
}

nlohmann::json chat_logprobs_json(const ServerContext& server, const std::vector<TokenProbs>& probs) {
    return probs_json(server, probs, false);
}

std::string random_id(const std::string& prefix) {
    static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    thread_local std::mt19937_64 rng(std::random_device{}());
    std::string id = prefix;
    for (int i = 0; i < 32; ++i) id += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    return id;
}

int64_t unix_time() { return int64_t(std::time(nullptr)); }

std::string build_info() { return std::string("mmojo-server ") + MMOJO_VERSION; }

nlohmann::json openai_object(const OpenAiHeader& h, nlohmann::json fields) {
    fields["id"] = h.id;
    fields["object"] = h.object;
    fields["created"] = h.created;
    fields["model"] = h.model;
    fields["system_fingerprint"] = build_info();
    return fields;
}

}  // namespace mmojo
