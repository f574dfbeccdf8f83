// How a model family writes tool calls and thinking in its output, detected from the text
// of its chat template (never from the model's name): the template prints the same
// markers the model was trained to emit (e.g. Hermes' "<tool_call>", DeepSeek's
// "<｜tool▁calls▁begin｜>", gpt-oss' harmony "<|channel|>"). The formats are those the
// model authors document; llama.cpp's common/chat.cpp was read for the facts only.
#pragma once

#include <string>
#include <vector>

namespace mmojo {

enum class ToolFormat {
    kNone,            // no tool-call syntax known: the output is content
    kHermes,          // <tool_call>{"name": .., "arguments": {..}}</tool_call> (Hermes, Qwen 2.5/3, SmolLM3)
    kQwen3Coder,      // <tool_call><function=NAME><parameter=K>V</parameter></function></tool_call>
    kLlama3,          // {"name": .., "parameters": {..}} or <|python_tag|>tool.call(k=v) / code
    kFunctionaryV31,  // <function=NAME>{..}</function>, <|python_tag|>code
    kFunctionaryV32,  // >>>NAME\n{..} (>>>all\n text)
    kMistralNemo,     // [TOOL_CALLS][{"name": .., "arguments": {..}, "id": ..}]
    kMistral,         // [TOOL_CALLS]NAME[ARGS]{..} (Mistral Small 3.2, Ministral, Magistral)
    kGptOss,          // harmony: <|channel|>commentary to=functions.NAME<|message|>{..}<|call|>
    kDeepSeek,        // <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>[function<｜tool▁sep｜>]NAME..
    kCommandR7B,      // <|START_ACTION|>[{"tool_call_id", "tool_name", "parameters"}]<|END_ACTION|>
    kGlm4,            // <tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value></tool_call>
    kKimiK2,          // <|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:I<|tool_call_argument_begin|>{..}..
    kGranite,         // <|tool_call|>[{"name": .., "arguments": {..}}]
    kGemma4,          // <|tool_call>call:NAME{key:value,..}<tool_call|>
};

const char* tool_format_name(ToolFormat format);

// --reasoning-format and the request's reasoning_format (llama-server's names).
enum class ReasoningFormat {
    kNone,            // thinking stays in content, tags included
    kDeepSeek,        // thinking goes to reasoning_content
    kDeepSeekLegacy,  // reasoning_content, and content keeps the <think> block too
    kAuto,            // = kDeepSeek (llama-server's default)
};
// Throws std::invalid_argument for an unknown name.
ReasoningFormat reasoning_format_from_name(const std::string& name);

struct ChatSyntax {
    ToolFormat tools = ToolFormat::kNone;
    // Thinking block markers; empty when the family has none (gpt-oss uses channels).
    std::string think_start, think_end;
    // Markers some families wrap the answer in (Command R7B, Granite); removed from content.
    std::string response_start, response_end;
    // Marker strings of the format: rendered in the output even when they are control
    // tokens, so the parser can see them.
    std::vector<std::string> markers;

    // Per request.
    ReasoningFormat reasoning_format = ReasoningFormat::kAuto;
    bool thinking_open = false;  // the prompt ends inside a thinking block (forced open)
    bool parse_tools = true;     // false: tool_choice "none" or no tools
};

// The syntax a template's text implies (request fields left at their defaults).
ChatSyntax detect_chat_syntax(const std::string& template_source);

// True when `prompt` (a rendered chat prompt) ends with an open thinking block: the
// template wrote the start marker (e.g. DeepSeek R1's "<think>\n") for the model.
bool prompt_opens_thinking(const ChatSyntax& syntax, const std::string& prompt);

class ChatTemplate;

// How a template wants an assistant turn that calls tools: arguments as an object (the
// Hugging Face convention; most templates) or as the JSON string of the OpenAI wire format
// (DeepSeek R1's templates concatenate it), and content null (DeepSeek R1 prints calls only
// then) or "" (Qwen3, gpt-oss, Granite fail on null). Found by rendering a probe
// conversation each way, first that shows the call wins.
struct ToolCallRendering {
    bool object_arguments = true;
    bool null_content = false;
};
ToolCallRendering probe_tool_call_rendering(const ChatTemplate& tmpl);

}  // namespace mmojo
