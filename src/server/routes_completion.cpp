// POST /completion (llama-server's native API, also at /completions) and POST
// /v1/completions (OpenAI legacy completions). Both tokenize the prompt(s), queue one task
// per prompt and either wait for the results or stream them as SSE: native chunks end
// with the final stats event, OpenAI streams end with "data: [DONE]".
#include "server/errors.h"
#include "server/server_context.h"
#include "server/sse.h"

namespace mmojo {

namespace {

struct Request {
    std::vector<std::vector<int32_t>> prompts;
    size_t n_tasks = 0;   // prompts x n: task i * n + j is choice j of prompt i
    GenerationParams params;
    std::shared_ptr<TaskChannel> channel = std::make_shared<TaskChannel>();
};

Request start_tasks(ServerContext& server, const nlohmann::json& body, bool openai) {
    Request r;
    r.params = parse_generation_params(body, server.defaults, openai, server.tokenizer());
    if (!body.contains("prompt")) throw ApiError(ErrorType::kInvalidRequest, "'prompt' is required");
    r.prompts = tokenize_prompts(server, body.at("prompt"), true);
    for (const auto& p : r.prompts) validate_prompt(server, p);
    const size_t n = size_t(std::max(1, r.params.n_choices));
    r.n_tasks = r.prompts.size() * n;
    for (size_t i = 0; i < r.n_tasks; ++i) {
        auto task = std::make_shared<Task>();
        task->index = int32_t(i);
        task->prompt = r.prompts[i / n];
        task->params = r.params;
        task->channel = r.channel;
        server.scheduler->submit(task);
    }
    return r;
}

const char* finish_reason(const std::string& stop_type) {
    return stop_type == "limit" ? "length" : "stop";
}

// --- llama-server native ---------------------------------------------------------------

nlohmann::json native_final(const ServerContext& server, const Request& r, const TaskResult& res,
                            bool include_content) {
    const TaskEvent& f = res.final;
    const auto& p = r.params;
    nlohmann::json out = {
        {"index", f.index},
        {"content", include_content ? f.text : std::string()},
        {"tokens", p.return_tokens && include_content ? f.tokens : std::vector<int32_t>{}},
        {"id_slot", f.slot_id},
        {"stop", true},
        {"model", server.model_alias},
        {"tokens_predicted", f.timings.predicted_n},
        {"tokens_evaluated", f.n_prompt},
        {"generation_settings", generation_settings_json(p)},
        {"prompt", server.tokenizer().decode(r.prompts[size_t(f.index / std::max(1, p.n_choices))], true)},
        {"has_new_line", f.text.find('\n') != std::string::npos},
        {"truncated", f.truncated},
        {"stop_type", f.stop_type},
        {"stopping_word", f.stopping_word},
        {"tokens_cached", f.n_prompt + f.timings.predicted_n},
        {"timings", timings_json(f.timings, f.n_cached)},
    };
    if (p.sampling.n_probs > 0 && include_content) {
        out["completion_probabilities"] = probs_json(server, res.probs, p.post_sampling_probs);
    }
    return out;
}

void handle_completion(ServerContext& server, const HttpRequest& req, HttpResponse& res) {
    server.require_generation();
    const nlohmann::json body = parse_body(req.body);
    auto r = std::make_shared<Request>(start_tasks(server, body, false));
    if (!r->params.stream) {
        auto results = wait_results(r->channel, r->n_tasks);
        if (results.size() == 1) {
            res.set_json(native_final(server, *r, results[0], true));
        } else {
            nlohmann::json arr = nlohmann::json::array();
            for (const auto& x : results) arr.push_back(native_final(server, *r, x, true));
            res.set_json(arr);
        }
        return;
    }
    res.content_type = "text/event-stream";
    ServerContext* s = &server;
    res.stream = [s, r](StreamSink& sink) {
        std::vector<int32_t> n_predicted(r->n_tasks, 0);
        stream_events(sink, r->channel, r->n_tasks, [&](const TaskEvent& e) -> std::string {
            const size_t i = size_t(e.index);
            if (e.kind == TaskEvent::Kind::kProgress) {
                return sse_data({{"index", e.index}, {"content", ""}, {"tokens", nlohmann::json::array()},
                                 {"stop", false}, {"id_slot", -1}, {"tokens_predicted", 0},
                                 {"tokens_evaluated", e.progress_total},
                                 {"prompt_progress", {{"total", e.progress_total}, {"cache", e.progress_cache},
                                                      {"processed", e.progress_processed},
                                                      {"time_ms", e.progress_ms}}}});
            }
            if (e.kind == TaskEvent::Kind::kFinal) {
                TaskResult tr{e, {}};
                return sse_data(native_final(*s, *r, tr, false));
            }
            n_predicted[i] += int32_t(e.tokens.size());
            if (e.text.empty() && e.probs.empty()) return "";
            nlohmann::json chunk = {
                {"index", e.index},
                {"content", e.text},
                {"tokens", r->params.return_tokens ? e.tokens : std::vector<int32_t>{}},
                {"stop", false},
                {"id_slot", -1},
                {"tokens_predicted", n_predicted[i]},
                {"tokens_evaluated", r->prompts[i / size_t(std::max(1, r->params.n_choices))].size()},
            };
            if (r->params.sampling.n_probs > 0) {
                chunk["completion_probabilities"] = probs_json(*s, e.probs, r->params.post_sampling_probs);
            }
            return sse_data(chunk);
        });
    };
}

// --- OpenAI /v1/completions ------------------------------------------------------------

nlohmann::json legacy_logprobs(const ServerContext& server, const std::vector<TokenProbs>& probs) {
    const Tokenizer& tok = server.tokenizer();
    nlohmann::json tokens = nlohmann::json::array(), token_logprobs = nlohmann::json::array();
    nlohmann::json top = nlohmann::json::array(), offsets = nlohmann::json::array();
    size_t offset = 0;
    for (const auto& p : probs) {
        const std::string piece = tok.token_to_piece(p.id, false);
        tokens.push_back(piece);
        token_logprobs.push_back(p.value);
        nlohmann::json alternatives = nlohmann::json::object();
        for (const auto& [id, lp] : p.top) alternatives[tok.token_to_piece(id, false)] = lp;
        top.push_back(alternatives);
        offsets.push_back(offset);
        offset += piece.size();
    }
    return {{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top},
            {"text_offset", offsets}};
}

nlohmann::json usage_json(int32_t prompt, int32_t completion) {
    return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

void handle_v1_completions(ServerContext& server, const HttpRequest& req, HttpResponse& res) {
    server.require_generation();
    const nlohmann::json body = parse_body(req.body);
    auto r = std::make_shared<Request>(start_tasks(server, body, true));
    // OpenAI reports probabilities as logprobs, never post-sampling probabilities.
    const std::string id = random_id("cmpl-");
    const int64_t created = unix_time();
    const std::string model = server.model_alias;
    if (!r->params.stream) {
        auto results = wait_results(r->channel, r->n_tasks);
        nlohmann::json choices = nlohmann::json::array();
        int32_t n_prompt = 0, n_gen = 0;
        nlohmann::json timings;
        for (const auto& x : results) {
            choices.push_back({{"text", x.final.text},
                               {"index", x.final.index},
                               {"logprobs", r->params.sampling.n_probs > 0 ? legacy_logprobs(server, x.probs)
                                                                           : nlohmann::json(nullptr)},
                               {"finish_reason", finish_reason(x.final.stop_type)}});
            // The prompt counts once per prompt, not once per choice (as OpenAI counts it).
            if (x.final.index % r->params.n_choices == 0) n_prompt += x.final.n_prompt;
            n_gen += x.final.timings.predicted_n;
            timings = timings_json(x.final.timings, x.final.n_cached);
        }
        res.set_json(openai_object({id, "text_completion", created, model},
                                   {{"choices", choices}, {"usage", usage_json(n_prompt, n_gen)}, {"timings", timings}}));
        return;
    }
    res.content_type = "text/event-stream";
    ServerContext* s = &server;
    res.stream = [s, r, id, created, model](StreamSink& sink) {
        int32_t n_prompt = 0, n_gen = 0;
        size_t n_final = 0;
        stream_events(sink, r->channel, r->n_tasks, [&](const TaskEvent& e) -> std::string {
            nlohmann::json choice = {{"text", ""}, {"index", e.index}, {"logprobs", nullptr},
                                     {"finish_reason", nullptr}};
            if (e.kind == TaskEvent::Kind::kProgress) return "";
            if (e.kind == TaskEvent::Kind::kPartial) {
                if (e.text.empty() && e.probs.empty()) return "";
                choice["text"] = e.text;
                if (r->params.sampling.n_probs > 0) choice["logprobs"] = legacy_logprobs(*s, e.probs);
            } else {
                choice["finish_reason"] = finish_reason(e.stop_type);
                if (e.index % r->params.n_choices == 0) n_prompt += e.n_prompt;
                n_gen += e.timings.predicted_n;
                ++n_final;
            }
            const OpenAiHeader header{id, "text_completion", created, model};
            const nlohmann::json chunk = openai_object(header, {{"choices", nlohmann::json::array({choice})}});
            std::string out = sse_data(chunk);
            if (n_final == r->n_tasks && e.kind == TaskEvent::Kind::kFinal) {
                if (r->params.include_usage) {
                    out += sse_data(openai_object(header, {{"choices", nlohmann::json::array()},
                                                           {"usage", usage_json(n_prompt, n_gen)}}));
                }
                out += sse_done();
            }
            return out;
        });
    };
}

}  // namespace

void register_completion_routes(Router& router, ServerContext& server) {
    ServerContext* s = &server;
    auto native = [s](const HttpRequest& req, HttpResponse& res) { handle_completion(*s, req, res); };
    router.add("POST", "/completion", native);
    router.add("POST", "/completions", native);
    auto oai = [s](const HttpRequest& req, HttpResponse& res) { handle_v1_completions(*s, req, res); };
    router.add("POST", "/v1/completions", oai);
}

}  // namespace mmojo
