// POST /v1/chat/completions (also /chat/completions): OpenAI chat messages are rendered
// with the model's chat template (or --chat-template, or ChatML when the model has none),
// tokenized and generated like a completion; responses and SSE chunks follow OpenAI's
// chat.completion / chat.completion.chunk objects. POST /apply-template returns the
// rendered prompt only, as llama-server does.
#include "server/errors.h"
#include "server/server_context.h"
#include "server/sse.h"

namespace mmojo {

namespace {

// Checks the messages and flattens content-part lists ([{type:text,text}]) to strings.
nlohmann::ordered_json normalize_messages(const nlohmann::json& body) {
    auto it = body.find("messages");
    if (it == body.end()) throw ApiError(ErrorType::kInvalidRequest, "'messages' is required");
    if (!it->is_array()) throw ApiError(ErrorType::kInvalidRequest, "'messages' must be a list");
    if (it->empty()) throw ApiError(ErrorType::kInvalidRequest, "'messages' must not be empty");
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& m : *it) {
        if (!m.is_object()) throw ApiError(ErrorType::kInvalidRequest, "each message must be an object");
        auto role = m.find("role");
        if (role == m.end() || !role->is_string()) {
            throw ApiError(ErrorType::kInvalidRequest, "each message needs a string 'role'");
        }
        nlohmann::ordered_json msg = nlohmann::ordered_json::parse(m.dump());
        auto content = m.find("content");
        if (content == m.end() || content->is_null()) {
            if (!m.contains("tool_calls")) {
                throw ApiError(ErrorType::kInvalidRequest, "each message needs 'content'");
            }
        } else if (content->is_array()) {
            std::string text;
            for (const auto& part : *content) {
                if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
                    !part["text"].is_string()) {
                    throw ApiError(ErrorType::kInvalidRequest, "only text content parts are supported");
                }
                text += part["text"].get<std::string>();
            }
            msg["content"] = text;
        } else if (!content->is_string()) {
            throw ApiError(ErrorType::kInvalidRequest, "message 'content' must be a string or a list of parts");
        }
        out.push_back(std::move(msg));
    }
    return out;
}

std::string render_chat(const ServerContext& server, const nlohmann::json& body) {
    ChatTemplateInputs inputs;
    inputs.messages = normalize_messages(body);
    if (body.contains("tools") && !body["tools"].is_null()) {
        if (!body["tools"].is_array()) throw ApiError(ErrorType::kInvalidRequest, "'tools' must be a list");
        inputs.tools = nlohmann::ordered_json::parse(body["tools"].dump());
    }
    inputs.add_generation_prompt = json_bool(body, "add_generation_prompt", true);
    const Tokenizer& tok = server.tokenizer();
    if (tok.bos() >= 0) inputs.bos_token = tok.token_text(tok.bos());
    if (tok.eos() >= 0) inputs.eos_token = tok.token_text(tok.eos());
    auto kwargs = body.find("chat_template_kwargs");
    if (kwargs != body.end() && !kwargs->is_null()) {
        if (!kwargs->is_object()) throw ApiError(ErrorType::kInvalidRequest, "'chat_template_kwargs' must be an object");
        inputs.extra = nlohmann::ordered_json::parse(kwargs->dump());
    } else {
        inputs.extra = nlohmann::ordered_json::object();
    }
    try {
        return server.chat_template->render(inputs);
    } catch (const ChatTemplateError& e) {
        throw ApiError(e.raised_by_template() ? ErrorType::kInvalidRequest : ErrorType::kServer,
                       std::string("chat template: ") + (e.raised_by_template() ? e.message() : e.what()));
    }
}

// Tokenizes a rendered chat prompt. Templates usually write the BOS text themselves, so
// a BOS added by the tokenizer on top of it is dropped.
std::vector<int32_t> tokenize_chat(const ServerContext& server, const std::string& prompt) {
    const Tokenizer& tok = server.tokenizer();
    auto ids = tok.encode(prompt, true, true);
    if (ids.size() >= 2 && tok.bos() >= 0 && ids[0] == tok.bos() && ids[1] == tok.bos()) {
        ids.erase(ids.begin());
    }
    return ids;
}

const char* finish_reason(const std::string& stop_type) {
    return stop_type == "limit" ? "length" : "stop";
}

nlohmann::json usage_json(int32_t prompt, int32_t completion) {
    return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

void handle_chat(ServerContext& server, const HttpRequest& req, HttpResponse& res) {
    server.require_generation();
    const nlohmann::json body = parse_body(req.body);
    const GenerationParams params = parse_generation_params(body, server.defaults, true, server.tokenizer(), req.body);
    const std::string prompt = render_chat(server, body);
    auto task = std::make_shared<Task>();
    task->prompt = tokenize_chat(server, prompt);
    validate_prompt(server, task->prompt);
    task->params = params;
    server.scheduler->submit(task);

    const std::string id = random_id("chatcmpl-");
    const int64_t created = unix_time();
    const std::string model = server.model_alias;
    const bool logprobs = params.sampling.n_probs > 0;
    if (!params.stream) {
        auto results = wait_results(task->channel, 1);
        const TaskEvent& f = results[0].final;
        nlohmann::json choice = {
            {"index", 0},
            {"message", {{"role", "assistant"}, {"content", f.text}}},
            {"finish_reason", finish_reason(f.stop_type)},
            {"logprobs", logprobs ? nlohmann::json{{"content", chat_logprobs_json(server, results[0].probs)}}
                                  : nlohmann::json(nullptr)},
        };
        res.set_json(openai_object({id, "chat.completion", created, model},
                                   {{"choices", nlohmann::json::array({choice})},
                                    {"usage", usage_json(f.n_prompt, f.timings.predicted_n)},
                                    {"timings", timings_json(f.timings, f.n_cached)}}));
        return;
    }
    res.content_type = "text/event-stream";
    ServerContext* s = &server;
    auto channel = task->channel;
    const bool include_usage = params.include_usage;
    res.stream = [s, channel, id, created, model, logprobs, include_usage](StreamSink& sink) {
        auto chunk = [&](const nlohmann::json& choices) {
            return openai_object({id, "chat.completion.chunk", created, model}, {{"choices", choices}});
        };
        // The first chunk announces the assistant role, as OpenAI does.
        nlohmann::json first = chunk(nlohmann::json::array(
            {{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", nullptr}}}, {"finish_reason", nullptr}}}));
        if (!sink.write(sse_data(first))) {
            channel->cancel();
            return;
        }
        stream_events(sink, channel, 1, [&](const TaskEvent& e) -> std::string {
            if (e.kind == TaskEvent::Kind::kProgress) return "";
            if (e.kind == TaskEvent::Kind::kPartial) {
                if (e.text.empty() && e.probs.empty()) return "";
                nlohmann::json choice = {{"index", 0}, {"delta", {{"content", e.text}}}, {"finish_reason", nullptr}};
                if (logprobs) choice["logprobs"] = {{"content", chat_logprobs_json(*s, e.probs)}};
                return sse_data(chunk(nlohmann::json::array({choice})));
            }
            nlohmann::json last = chunk(nlohmann::json::array(
                {{{"index", 0}, {"delta", nlohmann::json::object()}, {"finish_reason", finish_reason(e.stop_type)}}}));
            last["timings"] = timings_json(e.timings, e.n_cached);
            std::string out = sse_data(last);
            if (include_usage) {
                nlohmann::json usage = chunk(nlohmann::json::array());
                usage["usage"] = usage_json(e.n_prompt, e.timings.predicted_n);
                out += sse_data(usage);
            }
            return out + sse_done();
        });
    };
}

void handle_apply_template(ServerContext& server, const HttpRequest& req, HttpResponse& res) {
    server.require_ready();
    const nlohmann::json body = parse_body(req.body);
    res.set_json({{"prompt", render_chat(server, body)}});
}

}  // namespace

void register_chat_routes(Router& router, ServerContext& server) {
    ServerContext* s = &server;
    auto chat = [s](const HttpRequest& req, HttpResponse& res) { handle_chat(*s, req, res); };
    router.add("POST", "/v1/chat/completions", chat);
    router.add("POST", "/chat/completions", chat);
    router.add("POST", "/apply-template", [s](const HttpRequest& req, HttpResponse& res) {
        handle_apply_template(*s, req, res);
    });
}

}  // namespace mmojo
