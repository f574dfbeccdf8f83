// Chat templates: renders a model's Jinja2 chat template (tokenizer.chat_template) over
// OpenAI-style messages, the way Hugging Face transformers' apply_chat_template does
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols; globals
// raise_exception and strftime_now; filter tojson = json.dumps without HTML escaping).
// The interpreter is a Jinja2 subset written for the templates models ship; see
// ../shared/chat-templates/README.md for the corpus it is tested against.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace mmojo {

// A template that does not parse or fails while rendering. what() is
// "<line>:<column>: <message>" when the position is known, else the message.
class ChatTemplateError : public std::runtime_error {
public:
    ChatTemplateError(const std::string& message, int line = 0, int column = 0,
                      bool raised_by_template = false);
    const std::string& message() const { return message_; }  // without the position
    int line() const { return line_; }                        // 1-based; 0 = unknown
    int column() const { return column_; }
    // True for raise_exception("...") in the template: message() is the template's text
    // (e.g. "System role not supported"), suitable to show to an API client.
    bool raised_by_template() const { return raised_by_template_; }

private:
    std::string message_;
    int line_;
    int column_;
    bool raised_by_template_;
};

struct ChatTemplateInputs {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // OpenAI-style
    nlohmann::ordered_json tools;  // null/absent = undefined in the template
    bool add_generation_prompt = true;
    std::string bos_token, eos_token;
    nlohmann::ordered_json extra;   // extra variables (object), e.g. {"enable_thinking": false}
    std::optional<std::time_t> now;  // for strftime_now (local time); current time when empty
};

namespace jinja {
struct Template;
}

class ChatTemplate {
public:
    explicit ChatTemplate(std::string source);  // parses; throws ChatTemplateError
    ~ChatTemplate();
    ChatTemplate(ChatTemplate&&) noexcept;
    ChatTemplate& operator=(ChatTemplate&&) noexcept;

    const std::string& source() const { return source_; }

    // Thread-safe (no shared mutable state). Throws ChatTemplateError.
    std::string render(const ChatTemplateInputs& inputs) const;

    // Renders with arbitrary top-level variables (an object); no variable is implied.
    std::string render_variables(const nlohmann::ordered_json& variables,
                                 std::optional<std::time_t> now = std::nullopt) const;

private:
    std::string source_;
    std::unique_ptr<jinja::Template> template_;
};

// The documented fallback for models without a template: ChatML
// (<|im_start|>role\ncontent<|im_end|>\n ..., then <|im_start|>assistant\n).
std::string chatml_template_source();

}  // namespace mmojo
