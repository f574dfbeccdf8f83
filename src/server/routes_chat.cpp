// POST /v1/chat/completions (also /chat/completions): OpenAI chat messages are rendered
// with the model's chat template (or --chat-template, or ChatML when the model has none),
// tokenized and generated like a completion; responses and SSE chunks follow OpenAI's
// chat.completion / chat.completion.chunk objects. POST /apply-template returns the
// rendered prompt only, as llama-server does.
#include <algorithm>
#include <vector>

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
        // The template's own inputs come from the request's fields, not from kwargs.
        for (const char* reserved : {"messages", "tools", "add_generation_prompt", "bos_token", "eos_token"}) {
            if (kwargs->contains(reserved)) {
                throw ApiError(ErrorType::kInvalidRequest, std::string("'chat_template_kwargs' may not set '") +
                                                               reserved + "' (give it as a request field)");
            }
        }
        inputs.extra = nlohmann::ordered_json::parse(kwargs->dump());
    } else {
        inputs.extra = nlohmann::ordered_json::object();
    }
    try {
        return server.chat_template->render(inputs);
    } catch (const ChatTemplateError& e) {
        // The template parsed at load time, so what fails now is this request's data in
        // it (a value of the wrong type, too deep, too large, or raise_exception()).
        throw ApiError(ErrorType::kInvalidRequest,
                       std::string("chat template cannot render this request: ") +
                           (e.raised_by_template() ? e.message() : e.what()));
    }
}

// The text the messages carry: the rendered prompt holds at least this much, so a
// conversation that cannot fit is refused before the template copies it around.
size_t content_bytes(const nlohmann::json& body) {
    size_t bytes = 0;
    auto messages = body.find("messages");
    if (messages == body.end() || !messages->is_array()) return 0;
    for (const auto& m : *messages) {
        if (!m.is_object()) continue;
        auto content = m.find("content");
        if (content == m.end()) continue;
        if (content->is_string()) {
            bytes += content->get_ref<const std::string&>().size();
        } else if (content->is_array()) {
            for (const auto& part : *content) {
                auto text = part.is_object() ? part.find("text") : part.end();
                if (part.is_object() && text != part.end() && text->is_string()) {
                    bytes += text->get_ref<const std::string&>().size();
                }
            }
        }
    }
    return bytes;
}

// Tokenizes a rendered chat prompt. Templates usually write the BOS text themselves, so
// a BOS added by the tokenizer on top of it is dropped.
std::vector<int32_t> tokenize_chat(const ServerContext& server, const std::string& prompt) {
    check_prompt_bytes(server, prompt.size());
    const Tokenizer& tok = server.tokenizer();
    auto ids = tok.encode(prompt, true, true);
    if (ids.size() >= 2 && tok.bos() >= 0 && ids[0] == tok.bos() && ids[1] == tok.bos()) {
        ids.erase(ids.begin());
    }
    return ids;
}

// Tokens of the conversation without the generation prompt, when they begin the prompt:
// the next turn repeats them (its history renders the answer where this prompt has the
// generation prompt), so a model with recurrent layers keeps a state checkpoint there.
// 0 when there is no such boundary.
size_t history_length(const ServerContext& server, const nlohmann::json& body, const std::vector<int32_t>& prompt) {
    if (!json_bool(body, "add_generation_prompt", true)) return 0;
    nlohmann::json without = body;
    without["add_generation_prompt"] = false;
    std::vector<int32_t> history;
    try {
        history = tokenize_chat(server, render_chat(server, without));
    } catch (const std::exception&) {
        return 0;   // a template that insists on its generation prompt: no boundary
    }
    if (history.empty() || history.size() >= prompt.size() ||
        !std::equal(history.begin(), history.end(), prompt.begin())) {
        return 0;
    }
    return history.size();
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
    check_prompt_bytes(server, content_bytes(body));
    const std::string prompt = render_chat(server, body);
    // n > 1: n tasks with the same prompt and settings share one channel; event index j is
    // choice j. A fixed seed gives n equal choices, as in llama-server.
    const std::vector<int32_t> tokens = tokenize_chat(server, prompt);
    validate_prompt(server, tokens);
    const size_t checkpoint_at = history_length(server, body, tokens);
    const size_t n_choices = size_t(std::max(1, params.n_choices));
    auto channel = std::make_shared<TaskChannel>();
    for (size_t j = 0; j < n_choices; ++j) {
        auto task = std::make_shared<Task>();
        task->index = int32_t(j);
        task->prompt = tokens;
        task->checkpoint_at = checkpoint_at;
        task->params = params;
        task->channel = channel;
        server.scheduler->submit(task);
    }

    const std::string id = random_id("chatcmpl-");
    const int64_t created = unix_time();
    const std::string model = server.model_alias;
    const bool logprobs = params.sampling.n_probs > 0;
    if (!params.stream) {
        auto results = wait_results(channel, n_choices);
        nlohmann::json choices = nlohmann::json::array();
        int32_t n_generated = 0;
        for (const TaskResult& r : results) {
            const TaskEvent& f = r.final;
            choices.push_back({
                {"index", f.index},
                {"message", {{"role", "assistant"}, {"content", f.text}}},
                {"finish_reason", finish_reason(f.stop_type)},
                {"logprobs", logprobs ? nlohmann::json{{"content", chat_logprobs_json(server, r.probs)}}
                                      : nlohmann::json(nullptr)},
            });
            n_generated += f.timings.predicted_n;
        }
        const TaskEvent& last = results.back().final;
        res.set_json(openai_object({id, "chat.completion", created, model},
                                   {{"choices", choices},
                                    {"usage", usage_json(results[0].final.n_prompt, n_generated)},
                                    {"timings", timings_json(last.timings, last.n_cached)}}));
        return;
    }
    res.content_type = "text/event-stream";
    ServerContext* s = &server;
    const bool include_usage = params.include_usage;
    res.stream = [s, channel, id, created, model, logprobs, include_usage, n_choices](StreamSink& sink) {
        auto chunk = [&](const nlohmann::json& choices) {
            return openai_object({id, "chat.completion.chunk", created, model}, {{"choices", choices}});
        };
        // The first chunk of each choice announces the assistant role, as OpenAI does.
        for (size_t j = 0; j < n_choices; ++j) {
            nlohmann::json first = chunk(nlohmann::json::array(
                {{{"index", j}, {"delta", {{"role", "assistant"}, {"content", nullptr}}}, {"finish_reason", nullptr}}}));
            if (!sink.write(sse_data(first))) {
                channel->cancel();
                return;
            }
        }
        size_t n_final = 0;
        int32_t n_prompt = 0, n_generated = 0;
        stream_events(sink, channel, n_choices, [&](const TaskEvent& e) -> std::string {
            if (e.kind == TaskEvent::Kind::kProgress) return "";
            if (e.kind == TaskEvent::Kind::kPartial) {
                if (e.text.empty() && e.probs.empty()) return "";
                nlohmann::json choice = {{"index", e.index}, {"delta", {{"content", e.text}}}, {"finish_reason", nullptr}};
                if (logprobs) choice["logprobs"] = {{"content", chat_logprobs_json(*s, e.probs)}};
                return sse_data(chunk(nlohmann::json::array({choice})));
            }
            nlohmann::json last = chunk(nlohmann::json::array(
                {{{"index", e.index}, {"delta", nlohmann::json::object()}, {"finish_reason", finish_reason(e.stop_type)}}}));
            last["timings"] = timings_json(e.timings, e.n_cached);
            std::string out = sse_data(last);
            n_prompt = e.n_prompt;
            n_generated += e.timings.predicted_n;
            if (++n_final < n_choices) return out;
            if (include_usage) {
                nlohmann::json usage = chunk(nlohmann::json::array());
                usage["usage"] = usage_json(n_prompt, n_generated);
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
