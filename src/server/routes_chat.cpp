// POST /v1/chat/completions (also /chat/completions): OpenAI chat messages are rendered
// with the model's chat template (or --chat-template, or ChatML when the model has none),
// tokenized and generated like a completion; responses and SSE chunks follow OpenAI's
// chat.completion / chat.completion.chunk objects. POST /apply-template returns the
// rendered prompt only, as llama-server does. The output is split by the template's
// format (chat/chat_syntax.h) into content, reasoning_content and tool_calls; streams send
// each as its own deltas (chat/chat_stream.h).
#include <algorithm>
#include <vector>

#include "chat/chat_stream.h"
#include "chat/tool_call_grammar.h"
#include "sampling/json_schema_grammar.h"
#include "server/output_constraint.h"
#include "server/errors.h"
#include "server/server_context.h"
#include "server/sse.h"

namespace mmojo {

namespace {

// An assistant message's tool_calls as the template wants them: each {id, type, function:
// {name, arguments}}; arguments (a JSON string on the wire) as an object when the
// template prints objects (most do), else as the string.
nlohmann::ordered_json normalize_tool_calls(const nlohmann::ordered_json& calls, bool object_arguments) {
    if (!calls.is_array()) throw ApiError(ErrorType::kInvalidRequest, "'tool_calls' must be a list");
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& call : calls) {
        if (!call.is_object() || !call.contains("function") || !call["function"].is_object() ||
            !call["function"].contains("name") || !call["function"]["name"].is_string()) {
            throw ApiError(ErrorType::kInvalidRequest, "each tool call needs 'function' with a string 'name'");
        }
        nlohmann::ordered_json c = call;
        if (!c.contains("type")) c["type"] = "function";
        auto& args = c["function"]["arguments"];
        if (args.is_null()) args = nlohmann::ordered_json::object();
        if (args.is_string() && object_arguments) {
            auto parsed = nlohmann::ordered_json::parse(args.get<std::string>(), nullptr, false);
            if (parsed.is_discarded()) {
                throw ApiError(ErrorType::kInvalidRequest, "tool call arguments are not valid JSON: " + args.get<std::string>());
            }
            args = std::move(parsed);
        } else if (!args.is_string() && !object_arguments) {
            args = args.dump();
        } else if (!args.is_string() && !args.is_object()) {
            throw ApiError(ErrorType::kInvalidRequest, "tool call 'arguments' must be a JSON string or an object");
        }
        out.push_back(std::move(c));
    }
    return out;
}

// Checks the messages and flattens content-part lists ([{type:text,text}]) to strings. An
// assistant turn that only calls tools gets content null or "", as the template needs.
nlohmann::ordered_json normalize_messages(const nlohmann::ordered_json& body, const ToolCallRendering& rendering) {
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
        nlohmann::ordered_json msg = m;
        auto content = m.find("content");
        const bool has_calls = m.contains("tool_calls") && !m["tool_calls"].is_null();
        if (has_calls) msg["tool_calls"] = normalize_tool_calls(m["tool_calls"], rendering.object_arguments);
        else msg.erase("tool_calls");
        if (content == m.end() || content->is_null()) {
            if (!has_calls) throw ApiError(ErrorType::kInvalidRequest, "each message needs 'content'");
            msg["content"] = rendering.null_content ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json("");
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

// The request's tools: [{type: "function", function: {name, description?, parameters?}}].
nlohmann::ordered_json read_tools(const nlohmann::ordered_json& body) {
    auto it = body.find("tools");
    if (it == body.end() || it->is_null()) return nullptr;
    if (!it->is_array()) throw ApiError(ErrorType::kInvalidRequest, "'tools' must be a list");
    for (const auto& tool : *it) {
        if (!tool.is_object() || tool.value("type", "function") != "function" || !tool.contains("function") ||
            !tool["function"].is_object() || !tool["function"].contains("name") || !tool["function"]["name"].is_string()) {
            throw ApiError(ErrorType::kInvalidRequest,
                           "each tool must be {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": ...}}");
        }
        const auto params = tool["function"].find("parameters");
        if (params != tool["function"].end() && !params->is_null() && !params->is_object()) {
            throw ApiError(ErrorType::kInvalidRequest, "a tool's 'parameters' must be a JSON schema object");
        }
    }
    if (it->empty()) return nullptr;
    return *it;
}

struct ToolChoice {
    std::string mode = "auto";   // auto, none, required
    std::string function;        // a named function (mode "required")
};

ToolChoice read_tool_choice(const nlohmann::json& body, const nlohmann::ordered_json& tools) {
    ToolChoice choice;
    auto it = body.find("tool_choice");
    if (it == body.end() || it->is_null()) return choice;
    if (it->is_string()) {
        choice.mode = it->get<std::string>();
        if (choice.mode != "auto" && choice.mode != "none" && choice.mode != "required") {
            throw ApiError(ErrorType::kInvalidRequest, "'tool_choice' must be auto, none, required or a function");
        }
    } else if (it->is_object() && it->contains("function") && (*it)["function"].is_object() &&
               (*it)["function"].contains("name") && (*it)["function"]["name"].is_string()) {
        choice.mode = "required";
        choice.function = (*it)["function"]["name"].get<std::string>();
        bool known = false;
        for (const auto& tool : tools.is_array() ? tools : nlohmann::ordered_json::array()) {
            known = known || tool["function"]["name"] == choice.function;
        }
        if (!known) throw ApiError(ErrorType::kInvalidRequest, "'tool_choice' names an unknown tool '" + choice.function + "'");
    } else {
        throw ApiError(ErrorType::kInvalidRequest,
                       "'tool_choice' must be a string or {\"type\": \"function\", \"function\": {\"name\": ...}}");
    }
    if (choice.mode == "required" && tools.is_null()) {
        throw ApiError(ErrorType::kInvalidRequest, "'tool_choice' requires a call but the request has no 'tools'");
    }
    return choice;
}

// A rendered chat request: the prompt, how to read the output, and what generation needs.
struct ChatPlan {
    std::string prompt;
    ChatOutputOptions output;
    std::vector<int32_t> preserved_tokens;
    ReasoningBudgetParams reasoning;
    // tool_choice "required" or a named function: the grammar every answer must match.
    std::string forced_grammar;
};

// `body` is the request; `ordered` the same JSON with its keys in the client's order
// (messages and tools reach the template as written: templates print them with tojson).
ChatPlan plan_chat(const ServerContext& server, const nlohmann::json& body, const nlohmann::ordered_json& ordered) {
    ChatPlan plan;
    ChatTemplateInputs inputs;
    inputs.messages = normalize_messages(ordered, server.tool_call_rendering);
    const nlohmann::ordered_json tools = read_tools(ordered);
    const ToolChoice choice = read_tool_choice(body, tools);
    // tool_choice "none": the model is not told about the tools, and nothing is parsed.
    const bool use_tools = !tools.is_null() && choice.mode != "none";
    if (use_tools) inputs.tools = tools;
    inputs.add_generation_prompt = json_bool(body, "add_generation_prompt", true);
    const Tokenizer& tok = server.tokenizer();
    if (tok.bos() >= 0) inputs.bos_token = tok.token_text(tok.bos());
    if (tok.eos() >= 0) inputs.eos_token = tok.token_text(tok.eos());
    inputs.extra = server.default_template_kwargs;
    if (server.options.reasoning_budget == 0 && !inputs.extra.contains("enable_thinking")) {
        inputs.extra["enable_thinking"] = false;
    }
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
        for (const auto& [key, value] : ordered["chat_template_kwargs"].items()) inputs.extra[key] = value;
    }
    const std::string effort = json_string(body, "reasoning_effort", "");
    if (!effort.empty()) inputs.extra["reasoning_effort"] = effort;
    try {
        plan.prompt = server.chat_template->render(inputs);
    } catch (const ChatTemplateError& e) {
        // The template parsed at load time, so what fails now is this request's data in
        // it (a value of the wrong type, too deep, too large, or raise_exception()).
        throw ApiError(ErrorType::kInvalidRequest,
                       std::string("chat template cannot render this request: ") +
                           (e.raised_by_template() ? e.message() : e.what()));
    }

    ChatSyntax& syntax = plan.output.syntax;
    syntax = server.chat_syntax;
    const std::string format = json_string(body, "reasoning_format", "");
    if (!format.empty()) {
        try {
            syntax.reasoning_format = reasoning_format_from_name(format);
        } catch (const std::invalid_argument& e) {
            throw ApiError(ErrorType::kInvalidRequest, e.what());
        }
    }
    syntax.thinking_open = prompt_opens_thinking(syntax, plan.prompt);
    syntax.parse_tools = use_tools;
    if (use_tools) plan.output.tools = nlohmann::json::parse(tools.dump());
    plan.output.parallel_tool_calls = json_bool(body, "parallel_tool_calls", true);
    if (use_tools && choice.mode == "required") {
        ForcedCall call;
        call.tools = tools;
        call.function = choice.function;
        call.parallel = plan.output.parallel_tool_calls;
        try {
            plan.forced_grammar = forced_tool_call_grammar(syntax, call);
        } catch (const ToolGrammarUnsupported& e) {
            throw ApiError(ErrorType::kNotSupported, e.what());
        } catch (const JsonSchemaError& e) {
            throw ApiError(ErrorType::kInvalidRequest, std::string("a tool's parameters: ") + e.what());
        }
        syntax = syntax_for_forced_call(syntax);
    }
    if (syntax.tools == ToolFormat::kMistralNemo || syntax.tools == ToolFormat::kMistral) {
        plan.output.make_id = [] { return random_call_id(9); };  // its template checks the length
    }
    for (const std::string& marker : syntax.markers) {
        const int32_t id = tok.find_token(marker);
        if (id >= 0 && tok.is_control(id)) plan.preserved_tokens.push_back(id);
    }
    std::sort(plan.preserved_tokens.begin(), plan.preserved_tokens.end());
    if (server.options.reasoning_budget >= 0 && !syntax.think_start.empty()) {
        plan.reasoning.budget = server.options.reasoning_budget;
        plan.reasoning.think_start = syntax.think_start;
        plan.reasoning.think_end = syntax.think_end;
        plan.reasoning.open_at_start = syntax.thinking_open;
        plan.reasoning.end_tokens = tok.encode(syntax.think_end, false, true);
    }
    return plan;
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
size_t history_length(const ServerContext& server, const nlohmann::json& body, const nlohmann::ordered_json& ordered,
                      const std::vector<int32_t>& prompt) {
    if (!json_bool(body, "add_generation_prompt", true)) return 0;
    nlohmann::json without = body;
    without["add_generation_prompt"] = false;
    std::vector<int32_t> history;
    try {
        history = tokenize_chat(server, plan_chat(server, without, ordered).prompt);
    } catch (const std::exception&) {
        return 0;   // a template that insists on its generation prompt: no boundary
    }
    if (history.empty() || history.size() >= prompt.size() ||
        !std::equal(history.begin(), history.end(), prompt.begin())) {
        return 0;
    }
    return history.size();
}

// OpenAI's finish reasons: "length" at the token limit, "tool_calls" when the answer
// called tools, else "stop".
const char* finish_reason(const std::string& stop_type, bool tool_calls) {
    if (stop_type == "limit") return "length";
    return tool_calls ? "tool_calls" : "stop";
}

nlohmann::json usage_json(int32_t prompt, int32_t completion) {
    return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

void handle_chat(ServerContext& server, const HttpRequest& req, HttpResponse& res) {
    server.require_generation();
    const nlohmann::json body = parse_body(req.body);
    GenerationParams params = parse_generation_params(body, server.defaults, true, server.tokenizer(), req.body);
    check_prompt_bytes(server, content_bytes(body));
    const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(req.body);
    ChatPlan plan = plan_chat(server, body, ordered);
    if (!plan.forced_grammar.empty()) {
        if (!params.grammar.empty() && params.grammar != server.defaults.grammar) {
            throw ApiError(ErrorType::kInvalidRequest,
                           "a forced tool call (tool_choice) cannot be combined with grammar, json_schema or "
                           "response_format");
        }
        params.grammar = plan.forced_grammar;
        params.grammar_rules = parse_request_grammar(plan.forced_grammar);
    }
    // n > 1: n tasks with the same prompt and settings share one channel; event index j is
    // choice j. A fixed seed gives n equal choices, as in llama-server. Each choice has its
    // own output parser.
    const std::vector<int32_t> tokens = tokenize_chat(server, plan.prompt);
    validate_prompt(server, tokens);
    const size_t checkpoint_at = history_length(server, body, ordered, tokens);
    const size_t n_choices = size_t(std::max(1, params.n_choices));
    auto channel = std::make_shared<TaskChannel>();
    auto parsers = std::make_shared<std::vector<ChatStream>>();
    for (size_t j = 0; j < n_choices; ++j) {
        auto task = std::make_shared<Task>();
        task->index = int32_t(j);
        task->prompt = tokens;
        task->checkpoint_at = checkpoint_at;
        task->params = params;
        task->channel = channel;
        task->preserved_tokens = plan.preserved_tokens;
        task->reasoning = plan.reasoning;
        parsers->emplace_back(plan.output);
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
            ChatStream& parser = (*parsers)[size_t(f.index)];
            parser.push(f.text);
            parser.finish();
            choices.push_back({
                {"index", f.index},
                {"message", chat_message_json(parser.message())},
                {"finish_reason", finish_reason(f.stop_type, parser.has_tool_calls())},
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
    res.stream = [s, channel, id, created, model, logprobs, include_usage, n_choices, parsers](StreamSink& sink) {
        auto chunk = [&](const nlohmann::json& choices) {
            return openai_object({id, "chat.completion.chunk", created, model}, {{"choices", choices}});
        };
        auto delta_chunks = [&](int32_t index, const std::vector<nlohmann::json>& deltas,
                                const std::vector<TokenProbs>* probs) {
            std::string out;
            for (size_t i = 0; i < deltas.size(); ++i) {
                nlohmann::json choice = {{"index", index}, {"delta", deltas[i]}, {"finish_reason", nullptr}};
                if (probs && i + 1 == deltas.size()) choice["logprobs"] = {{"content", chat_logprobs_json(*s, *probs)}};
                out += sse_data(chunk(nlohmann::json::array({choice})));
            }
            return out;
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
            ChatStream& parser = (*parsers)[size_t(e.index)];
            if (e.kind == TaskEvent::Kind::kPartial) {
                if (e.text.empty() && e.probs.empty()) return "";
                std::vector<nlohmann::json> deltas = parser.push(e.text);
                // Held-back text still has its tokens' probabilities to report.
                if (deltas.empty() && logprobs && !e.probs.empty()) deltas.push_back({{"content", ""}});
                return delta_chunks(e.index, deltas, logprobs ? &e.probs : nullptr);
            }
            std::string out = delta_chunks(e.index, parser.finish(), nullptr);
            nlohmann::json last = chunk(nlohmann::json::array(
                {{{"index", e.index}, {"delta", nlohmann::json::object()},
                  {"finish_reason", finish_reason(e.stop_type, parser.has_tool_calls())}}}));
            last["timings"] = timings_json(e.timings, e.n_cached);
            out += sse_data(last);
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
    res.set_json({{"prompt", plan_chat(server, body, nlohmann::ordered_json::parse(req.body)).prompt}});
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
