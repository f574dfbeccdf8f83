// Tool-call format and thinking markers from a chat template's text. The checks go from
// the most specific marker to the most generic: Qwen3-Coder and GLM templates also print
// "<tool_call>", Functionary v3.1 is a Llama 3.1 template with "<function=".
#include "chat/chat_syntax.h"

#include <stdexcept>

#include "chat/chat_template.h"

namespace mmojo {

namespace {

bool has(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

ToolFormat detect_tool_format(const std::string& t) {
    if (has(t, "<|channel|>")) return ToolFormat::kGptOss;
    if (has(t, "<|START_ACTION|>")) return ToolFormat::kCommandR7B;
    if (has(t, "<|tool_calls_section_begin|>")) return ToolFormat::kKimiK2;
    if (has(t, "<arg_key>")) return ToolFormat::kGlm4;
    if (has(t, "<function=") && has(t, "<parameter=")) return ToolFormat::kQwen3Coder;
    if (has(t, "tool\xE2\x96\x81" "calls\xE2\x96\x81" "begin")) return ToolFormat::kDeepSeek;
    if (has(t, "[TOOL_CALLS]")) return has(t, "[ARGS]") ? ToolFormat::kMistral : ToolFormat::kMistralNemo;
    if (has(t, "<|tool_call|>")) return ToolFormat::kGranite;
    if (has(t, "<|tool_call>")) return ToolFormat::kGemma4;
    if (has(t, ">>>all")) return ToolFormat::kFunctionaryV32;
    if (has(t, "<function=") && has(t, "<|start_header_id|>")) return ToolFormat::kFunctionaryV31;
    if (has(t, "<tool_call>")) return ToolFormat::kHermes;
    if (has(t, "<|start_header_id|>") && (has(t, "ipython") || has(t, "<|python_tag|>"))) return ToolFormat::kLlama3;
    return ToolFormat::kNone;
}

std::vector<std::string> tool_markers(ToolFormat f) {
    switch (f) {
        case ToolFormat::kNone: return {};
        case ToolFormat::kHermes: return {"<tool_call>", "</tool_call>"};
        case ToolFormat::kQwen3Coder: return {"<tool_call>", "</tool_call>"};
        case ToolFormat::kLlama3: return {"<|python_tag|>"};
        case ToolFormat::kFunctionaryV31: return {"<|python_tag|>"};
        case ToolFormat::kFunctionaryV32: return {};
        case ToolFormat::kMistralNemo: return {"[TOOL_CALLS]"};
        case ToolFormat::kMistral: return {"[TOOL_CALLS]", "[ARGS]", "[CALL_ID]"};
        case ToolFormat::kGptOss:
            return {"<|channel|>", "<|message|>", "<|start|>", "<|end|>", "<|constrain|>", "<|call|>", "<|return|>"};
        case ToolFormat::kDeepSeek:
            return {"<\xEF\xBD\x9Ctool\xE2\x96\x81" "calls\xE2\x96\x81" "begin\xEF\xBD\x9C>",
                    "<\xEF\xBD\x9Ctool\xE2\x96\x81" "calls\xE2\x96\x81" "end\xEF\xBD\x9C>",
                    "<\xEF\xBD\x9Ctool\xE2\x96\x81" "call\xE2\x96\x81" "begin\xEF\xBD\x9C>",
                    "<\xEF\xBD\x9Ctool\xE2\x96\x81" "call\xE2\x96\x81" "end\xEF\xBD\x9C>",
                    "<\xEF\xBD\x9Ctool\xE2\x96\x81" "sep\xEF\xBD\x9C>"};
        case ToolFormat::kCommandR7B: return {"<|START_ACTION|>", "<|END_ACTION|>", "<|START_RESPONSE|>", "<|END_RESPONSE|>"};
        case ToolFormat::kGlm4: return {"<tool_call>", "</tool_call>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>"};
        case ToolFormat::kKimiK2:
            return {"<|tool_calls_section_begin|>", "<|tool_calls_section_end|>", "<|tool_call_begin|>",
                    "<|tool_call_argument_begin|>", "<|tool_call_end|>"};
        case ToolFormat::kGranite: return {"<|tool_call|>"};
        case ToolFormat::kGemma4: return {"<|tool_call>", "<tool_call|>", "<|\"|>"};
    }
    return {};
}

}  // namespace

const char* tool_format_name(ToolFormat format) {
    switch (format) {
        case ToolFormat::kNone: return "none";
        case ToolFormat::kHermes: return "hermes";
        case ToolFormat::kQwen3Coder: return "qwen3-coder";
        case ToolFormat::kLlama3: return "llama3";
        case ToolFormat::kFunctionaryV31: return "functionary-v3.1";
        case ToolFormat::kFunctionaryV32: return "functionary-v3.2";
        case ToolFormat::kMistralNemo: return "mistral-nemo";
        case ToolFormat::kMistral: return "mistral";
        case ToolFormat::kGptOss: return "gpt-oss";
        case ToolFormat::kDeepSeek: return "deepseek";
        case ToolFormat::kCommandR7B: return "command-r7b";
        case ToolFormat::kGlm4: return "glm4";
        case ToolFormat::kKimiK2: return "kimi-k2";
        case ToolFormat::kGranite: return "granite";
        case ToolFormat::kGemma4: return "gemma4";
    }
    return "none";
}

ReasoningFormat reasoning_format_from_name(const std::string& name) {
    if (name == "none") return ReasoningFormat::kNone;
    if (name == "deepseek") return ReasoningFormat::kDeepSeek;
    if (name == "deepseek-legacy") return ReasoningFormat::kDeepSeekLegacy;
    if (name == "auto") return ReasoningFormat::kAuto;
    throw std::invalid_argument("unknown reasoning format '" + name +
                                "' (expected none, deepseek, deepseek-legacy or auto)");
}

ChatSyntax detect_chat_syntax(const std::string& t) {
    ChatSyntax s;
    s.tools = detect_tool_format(t);
    s.markers = tool_markers(s.tools);
    if (s.tools == ToolFormat::kGptOss) {
        // Thinking is the "analysis" channel; the tool parser reads the channels.
    } else if (has(t, "<|START_THINKING|>")) {
        s.think_start = "<|START_THINKING|>";
        s.think_end = "<|END_THINKING|>";
    } else if (has(t, "<|channel>thought")) {
        s.think_start = "<|channel>thought";
        s.think_end = "<channel|>";
    } else if (has(t, "[THINK]")) {
        s.think_start = "[THINK]";
        s.think_end = "[/THINK]";
    } else if (has(t, "<think>") || has(t, "</think>")) {
        s.think_start = "<think>";
        s.think_end = "</think>";
    }
    if (s.tools == ToolFormat::kCommandR7B || has(t, "<|START_RESPONSE|>")) {
        s.response_start = "<|START_RESPONSE|>";
        s.response_end = "<|END_RESPONSE|>";
    } else if (has(t, "<response>") || has(t, "<response></response>")) {
        s.response_start = "<response>";
        s.response_end = "</response>";
    }
    for (const std::string* m : {&s.think_start, &s.think_end, &s.response_start, &s.response_end}) {
        if (!m->empty()) s.markers.push_back(*m);
    }
    return s;
}

bool prompt_opens_thinking(const ChatSyntax& syntax, const std::string& prompt) {
    if (syntax.think_start.empty()) return false;
    size_t end = prompt.size();
    while (end > 0 && (prompt[end - 1] == ' ' || prompt[end - 1] == '\n' || prompt[end - 1] == '\r' ||
                       prompt[end - 1] == '\t')) {
        --end;
    }
    const std::string_view body(prompt.data(), end);
    return body.size() >= syntax.think_start.size() &&
           body.substr(body.size() - syntax.think_start.size()) == syntax.think_start;
}

namespace {

// Renders a user turn and an assistant tool call; true when the render succeeds and shows
// the probe value.
bool renders_call(const ChatTemplate& tmpl, bool object_arguments, bool null_content) {
    nlohmann::ordered_json args = {{"probe_key", "probe_value_7"}};
    nlohmann::ordered_json call = {{"id", "call00001"}, {"type", "function"},
                                   {"function", {{"name", "probe_tool"},
                                                 {"arguments", object_arguments ? args : nlohmann::ordered_json(args.dump())}}}};
    ChatTemplateInputs in;
    in.messages = nlohmann::ordered_json::array(
        {{{"role", "user"}, {"content", "probe"}},
         {{"role", "assistant"}, {"content", null_content ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json("")},
          {"tool_calls", nlohmann::ordered_json::array({call})}}});
    in.tools = nlohmann::ordered_json::array(
        {{{"type", "function"},
          {"function", {{"name", "probe_tool"}, {"description", "probe"},
                        {"parameters", {{"type", "object"}, {"properties", {{"probe_key", {{"type", "string"}}}}}}}}}}});
    in.add_generation_prompt = false;
    try {
        return tmpl.render(in).find("probe_value_7") != std::string::npos;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace

ToolCallRendering probe_tool_call_rendering(const ChatTemplate& tmpl) {
    for (bool object_arguments : {true, false}) {
        for (bool null_content : {false, true}) {
            if (renders_call(tmpl, object_arguments, null_content)) return {object_arguments, null_content};
        }
    }
    return {};  // the template does not print tool calls at all
}

}  // namespace mmojo
