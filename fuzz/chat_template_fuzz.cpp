// Fuzz target: arbitrary bytes as chat-template source, parsed and rendered over a small
// fixed conversation (system/user/assistant with a tool call/tool result, one tool,
// bos/eos, an extra kwarg). Every outcome must be a rendered string or a
// ChatTemplateError; anything else (crash, sanitizer report, other exception, hang) is
// a bug. Recursion, steps and sizes are bounded inside the interpreter.
#include <cstddef>
#include <cstdint>
#include <string>

#include "chat/chat_template.h"

namespace {

const mmojo::ChatTemplateInputs& inputs() {
    static const mmojo::ChatTemplateInputs in = [] {
        mmojo::ChatTemplateInputs v;
        v.messages = nlohmann::ordered_json::parse(R"([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi there! ünïcødé 🙂\n\ttabs "},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call00001",
              "type": "function", "function": {"name": "get_weather",
              "arguments": {"location": "Paris", "unit": "celsius"}}}]},
            {"role": "tool", "tool_call_id": "call00001", "content": "{\"t\": 22}"},
            {"role": "user", "content": [{"type": "text", "text": "parts"}]}
        ])");
        v.tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {
            "name": "get_weather", "description": "Weather.", "parameters": {"type": "object",
            "properties": {"location": {"type": "string"}, "unit": {"type": "string",
            "enum": ["celsius", "fahrenheit"]}}, "required": ["location"]}}}])");
        v.bos_token = "<s>";
        v.eos_token = "</s>";
        v.extra = {{"enable_thinking", false}};
        v.now = 1768435200;  // 2026-01-15
        return v;
    }();
    return in;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 64 * 1024) return 0;  // templates are small; keep each run fast
    std::string source(reinterpret_cast<const char*>(data), size);
    try {
        mmojo::ChatTemplate tmpl(std::move(source));
        (void)tmpl.render(inputs());
    } catch (const mmojo::ChatTemplateError&) {
        // Expected for bad templates.
    }
    return 0;
}
