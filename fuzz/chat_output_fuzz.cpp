// Fuzz target for the chat output parser: the first byte picks a tool-call format and
// whether the prompt opened a thinking block, the rest is model output, parsed whole and
// streamed in pieces. Nothing may throw: malformed output is content.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "chat/chat_stream.h"
#include "chat/output_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    // Template text that selects each format (the markers detect_chat_syntax looks for).
    static const char* const kTemplates[] = {
        "", "<tool_call><think>", "<function=x><parameter=y>", "<|start_header_id|>ipython",
        "<|start_header_id|><function=", ">>>all", "[TOOL_CALLS]", "[TOOL_CALLS][ARGS][THINK]", "<|channel|>",
        "tool\xE2\x96\x81" "calls\xE2\x96\x81" "begin<think>", "<|START_ACTION|><|START_THINKING|>",
        "<arg_key><think>", "<|tool_calls_section_begin|>", "<|tool_call|><think><response>",
        "<|tool_call><|channel>thought"};
    const size_t n = sizeof(kTemplates) / sizeof(kTemplates[0]);
    mmojo::ChatOutputOptions options;
    options.syntax = mmojo::detect_chat_syntax(kTemplates[data[0] % n]);
    options.syntax.thinking_open = (data[0] / n) % 2 == 1;
    options.syntax.reasoning_format = (data[0] / n / 2) % 2 ? mmojo::ReasoningFormat::kNone : mmojo::ReasoningFormat::kAuto;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    (void)mmojo::parse_chat_output(options.syntax, text, false);
    mmojo::ChatStream stream(options);
    for (size_t i = 0; i < text.size(); i += 3) (void)stream.push(text.substr(i, 3));
    (void)stream.finish();
    return 0;
}
