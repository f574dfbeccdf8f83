// ChatTemplate: parses a template once, renders it per request with the variables of
// transformers' apply_chat_template (messages, tools, add_generation_prompt, bos_token,
// eos_token, extra kwargs) and its globals (raise_exception, strftime_now).
#include "chat/chat_template.h"

#include <chrono>

#include "chat/builtins.h"
#include "chat/evaluator.h"
#include "chat/parser.h"

namespace mmojo {

namespace {

std::string with_position(const std::string& message, int line, int column) {
    if (line <= 0) return message;
    return std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

}  // namespace

ChatTemplateError::ChatTemplateError(const std::string& message, int line, int column,
                                     bool raised_by_template)
    : std::runtime_error(with_position(message, line, column)),
      message_(message),
      line_(line),
      column_(column),
      raised_by_template_(raised_by_template) {}

namespace {

jinja::Value from_json(const nlohmann::ordered_json& j, int depth) {
    using jinja::Value;
    if (depth > jinja::kMaxNesting) throw ChatTemplateError("input JSON nested too deeply");
    switch (j.type()) {
        case nlohmann::ordered_json::value_t::null: return Value::none();
        case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
        case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
        case nlohmann::ordered_json::value_t::number_unsigned: {
            auto u = j.get<uint64_t>();
            if (u > static_cast<uint64_t>(INT64_MAX)) return Value::number(static_cast<double>(u));
            return Value::integer(static_cast<int64_t>(u));
        }
        case nlohmann::ordered_json::value_t::number_float: return Value::number(j.get<double>());
        case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
        case nlohmann::ordered_json::value_t::array: {
            std::vector<Value> items;
            items.reserve(j.size());
            for (const auto& item : j) items.push_back(from_json(item, depth + 1));
            return Value::list(std::move(items));
        }
        case nlohmann::ordered_json::value_t::object: {
            Value d = Value::dict();
            for (const auto& [key, value] : j.items()) d.dict_data().set(key, from_json(value, depth + 1));
            return d;
        }
        default: throw ChatTemplateError("unsupported JSON value in template inputs");
    }
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source) : source_(std::move(source)) {
    try {
        template_ = jinja::parse_template(source_);
    } catch (const ChatTemplateError&) {
        throw;
    } catch (const std::exception& e) {
        throw ChatTemplateError(std::string("cannot parse chat template: ") + e.what());
    }
}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render_variables(const nlohmann::ordered_json& variables,
                                           std::optional<std::time_t> now) const {
    if (!variables.is_object() && !variables.is_null()) {
        throw ChatTemplateError("template variables must be a JSON object");
    }
    std::time_t moment = now ? *now : std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    try {
        auto globals = std::make_shared<jinja::Frame>();
        jinja::install_globals(*globals);
        if (variables.is_object()) {
            for (const auto& [key, value] : variables.items()) globals->vars[key] = from_json(value, 0);
        }
        jinja::Evaluator evaluator(moment);
        return evaluator.render(*template_, globals);
    } catch (const ChatTemplateError&) {
        throw;
    } catch (const jinja::JinjaError& e) {
        throw ChatTemplateError(e.what(), 0, 0, e.raised_by_template());
    } catch (const std::bad_alloc&) {
        throw ChatTemplateError("out of memory while rendering the chat template");
    } catch (const std::exception& e) {
        throw ChatTemplateError(std::string("cannot render chat template: ") + e.what());
    }
}

std::string ChatTemplate::render(const ChatTemplateInputs& inputs) const {
    nlohmann::ordered_json vars = nlohmann::ordered_json::object();
    vars["messages"] = inputs.messages.is_null() ? nlohmann::ordered_json::array() : inputs.messages;
    if (!inputs.tools.is_null()) vars["tools"] = inputs.tools;
    vars["add_generation_prompt"] = inputs.add_generation_prompt;
    vars["bos_token"] = inputs.bos_token;
    vars["eos_token"] = inputs.eos_token;
    if (inputs.extra.is_object()) {
        for (const auto& [key, value] : inputs.extra.items()) vars[key] = value;
    } else if (!inputs.extra.is_null()) {
        throw ChatTemplateError("extra template variables must be a JSON object");
    }
    return render_variables(vars, inputs.now);
}

std::string chatml_template_source() {
    // Text parts of list contents are joined; a null content prints nothing.
    return "{%- for message in messages -%}"
           "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
           "{%- if message['content'] is string -%}{{- message['content'] -}}"
           "{%- elif message['content'] is iterable -%}"
           "{%- for part in message['content'] -%}"
           "{%- if part['type'] == 'text' -%}{{- part['text'] -}}{%- endif -%}"
           "{%- endfor -%}"
           "{%- endif -%}"
           "{{- '<|im_end|>\\n' -}}"
           "{%- endfor -%}"
           "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}";
}

}  // namespace mmojo
