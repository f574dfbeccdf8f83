// Forced tool-call grammars: one row per family gives the text around the calls and around
// each call; the arguments are the tool's schema as GBNF (JSON families) or one tag per
// parameter (Qwen3-Coder, GLM: strings as bare text, other types as their JSON).
#include "chat/tool_call_grammar.h"

#include <algorithm>
#include <vector>

#include "sampling/grammar.h"
#include "sampling/json_schema_grammar.h"

namespace mmojo {

namespace {

// The pieces of one family's forced answer; "{N}" in `open` stands for the function name.
struct CallShape {
    std::string prefix;      // before the first call
    std::string open;        // before a call's arguments
    std::string close;       // after them
    std::string separator;   // between calls
    std::string suffix;      // after the last call
    std::string id_rule;     // GBNF after `open_id` for families that number their calls
    bool single = false;     // the format ends the turn after one call (gpt-oss: <|call|>)
};

CallShape make_shape(std::string prefix, std::string open, std::string close, std::string separator, std::string suffix,
                     std::string id_rule = "", bool single = false) {
    return {std::move(prefix), std::move(open), std::move(close), std::move(separator), std::move(suffix),
            std::move(id_rule), single};
}

const std::string kDsCallsBegin = "<\xEF\xBD\x9Ctool\xE2\x96\x81" "calls\xE2\x96\x81" "begin\xEF\xBD\x9C>";
const std::string kDsCallsEnd = "<\xEF\xBD\x9Ctool\xE2\x96\x81" "calls\xE2\x96\x81" "end\xEF\xBD\x9C>";
const std::string kDsCallBegin = "<\xEF\xBD\x9Ctool\xE2\x96\x81" "call\xE2\x96\x81" "begin\xEF\xBD\x9C>";
const std::string kDsCallEnd = "<\xEF\xBD\x9Ctool\xE2\x96\x81" "call\xE2\x96\x81" "end\xEF\xBD\x9C>";
const std::string kDsSep = "<\xEF\xBD\x9Ctool\xE2\x96\x81" "sep\xEF\xBD\x9C>";

CallShape shape_of(ToolFormat f) {
    switch (f) {
        case ToolFormat::kHermes:
            return make_shape("", "<tool_call>\n{\"name\": \"{N}\", \"arguments\": ", "}\n</tool_call>", "\n", "");
        case ToolFormat::kNone:
            return make_shape("", "{\"name\": \"{N}\", \"arguments\": ", "}", "; ", "");
        case ToolFormat::kLlama3:
            return make_shape("", "{\"name\": \"{N}\", \"parameters\": ", "}", "; ", "");
        case ToolFormat::kFunctionaryV31: return make_shape("", "<function={N}>", "</function>", "", "");
        case ToolFormat::kFunctionaryV32: return make_shape("", "{N}\n", "", ">>>", "");
        case ToolFormat::kMistralNemo:
            return make_shape("[TOOL_CALLS][", "{\"name\": \"{N}\", \"arguments\": ", "}", ", ", "]");
        case ToolFormat::kMistral: return make_shape("", "[TOOL_CALLS]{N}[ARGS]", "", "", "");
        case ToolFormat::kGptOss:
            return make_shape("", "<|channel|>commentary to=functions.{N} <|constrain|>json<|message|>", "", "", "", "", true);
        case ToolFormat::kDeepSeek:
            return make_shape(kDsCallsBegin, kDsCallBegin + "function" + kDsSep + "{N}\n```json\n", "\n```" + kDsCallEnd, "\n",
                    kDsCallsEnd);
        case ToolFormat::kCommandR7B:
            return make_shape("<|START_ACTION|>[", "{\"tool_call_id\": \"{ID}\", \"tool_name\": \"{N}\", \"parameters\": ", "}",
                    ", ", "]<|END_ACTION|>", "[0-9] [0-9]?");
        case ToolFormat::kKimiK2:
            return make_shape("<|tool_calls_section_begin|>", "<|tool_call_begin|>functions.{N}:{ID}<|tool_call_argument_begin|>",
                    "<|tool_call_end|>", "", "<|tool_calls_section_end|>", "[0-9] [0-9]?");
        case ToolFormat::kGranite:
            return make_shape("<|tool_call|>[", "{\"name\": \"{N}\", \"arguments\": ", "}", ", ", "]");
        case ToolFormat::kQwen3Coder: return make_shape("", "<tool_call>\n<function={N}>\n", "</function>\n</tool_call>", "\n", "");
        case ToolFormat::kGlm4: return make_shape("", "<tool_call>{N}\n", "</tool_call>", "", "");
        case ToolFormat::kGemma4: break;
    }
    throw ToolGrammarUnsupported(std::string("a forced tool call is not supported for the ") + tool_format_name(f) +
                                 " format");
}

// `open` as a GBNF sequence: literals, with {ID} as the id rule.
std::string gbnf_open(const std::string& open, const std::string& name, const std::string& id_rule) {
    std::string out, literal;
    auto flush = [&] {
        if (literal.empty()) return;
        if (!out.empty()) out += ' ';
        out += gbnf_literal(literal);
        literal.clear();
    };
    for (size_t i = 0; i < open.size();) {
        if (open.compare(i, 3, "{N}") == 0) {
            literal += name;
            i += 3;
        } else if (open.compare(i, 4, "{ID}") == 0) {
            flush();
            if (!out.empty()) out += ' ';
            out += id_rule;
            i += 4;
        } else {
            literal += open[i++];
        }
    }
    flush();
    return out;
}

bool schema_is_string(const nlohmann::ordered_json& s) {
    return s.is_object() && s.contains("type") && s["type"].is_string() && s["type"] == "string" && !s.contains("enum") &&
           !s.contains("const") && !s.contains("pattern") && !s.contains("format");
}

// Qwen3-Coder / GLM: one tag pair per parameter, in the schema's order, required ones
// always, others optionally. Strings are bare text without '<'.
std::string tagged_parameters(const nlohmann::ordered_json& params, const std::string& rule, ToolFormat f,
                              std::string& rules) {
    std::string seq;
    if (!params.is_object() || !params.contains("properties") || !params["properties"].is_object()) return "";
    std::vector<std::string> required;
    if (params.contains("required") && params["required"].is_array()) {
        for (const auto& r : params["required"]) {
            if (r.is_string()) required.push_back(r.get<std::string>());
        }
    }
    int i = 0;
    for (const auto& [key, schema] : params["properties"].items()) {
        const std::string value_rule = rule + "-p" + std::to_string(i++);
        if (schema_is_string(schema)) {
            rules += value_rule + " ::= [^<]*\n";
        } else {
            rules += json_schema_to_gbnf_rule(schema, value_rule);
        }
        const bool qwen = f == ToolFormat::kQwen3Coder;
        std::string piece = gbnf_literal(qwen ? "<parameter=" + key + ">\n" : "<arg_key>" + key + "</arg_key>\n<arg_value>");
        piece += ' ';
        piece += value_rule;
        piece += ' ';
        piece += gbnf_literal(qwen ? "\n</parameter>\n" : "</arg_value>\n");
        const bool is_required = std::find(required.begin(), required.end(), key) != required.end();
        if (!seq.empty()) seq += ' ';
        if (is_required) {
            seq += piece;
        } else {
            seq += '(';
            seq += piece;
            seq += ")?";
        }
    }
    return seq;
}

}  // namespace

ChatSyntax syntax_for_forced_call(ChatSyntax syntax) {
    if (syntax.tools == ToolFormat::kNone) syntax.tools = ToolFormat::kLlama3;  // reads {"name", "arguments"} JSON
    syntax.parse_tools = true;
    return syntax;
}

std::string forced_tool_call_grammar(const ChatSyntax& syntax, const ForcedCall& forced) {
    const CallShape shape = shape_of(syntax.tools);
    std::string rules;
    std::vector<std::string> alternatives;
    int index = 0;
    for (const auto& tool : forced.tools) {
        const auto& fn = tool.at("function");
        const std::string name = fn.at("name").get<std::string>();
        if (!forced.function.empty() && name != forced.function) continue;
        const std::string rule = "tool" + std::to_string(index++);
        nlohmann::ordered_json params = fn.contains("parameters") && fn["parameters"].is_object()
                                            ? fn["parameters"]
                                            : nlohmann::ordered_json{{"type", "object"}};
        std::string args;
        if (syntax.tools == ToolFormat::kQwen3Coder || syntax.tools == ToolFormat::kGlm4) {
            args = tagged_parameters(params, rule + "-args", syntax.tools, rules);
        } else {
            rules += json_schema_to_gbnf_rule(params, rule + "-args");
            args = rule + "-args";
        }
        rules += rule;
        rules += " ::= ";
        rules += gbnf_open(shape.open, name, shape.id_rule);
        if (!args.empty()) {
            rules += ' ';
            rules += args;
        }
        if (!shape.close.empty()) {
            rules += ' ';
            rules += gbnf_literal(shape.close);
        }
        rules += "\n";
        alternatives.push_back(rule);
    }
    if (alternatives.empty()) throw std::invalid_argument("no tool to call");
    std::string call = "call ::= ";
    for (size_t i = 0; i < alternatives.size(); ++i) {
        if (i) call += " | ";
        call += alternatives[i];
    }
    std::string root = "root ::= ";
    if (syntax.thinking_open && !syntax.think_end.empty()) root += gbnf_literal(syntax.think_end + "\n\n") + " ";
    if (!shape.prefix.empty()) root += gbnf_literal(shape.prefix) + " ";
    root += "call";
    if (forced.parallel && !shape.single) {
        root += " (";
        if (!shape.separator.empty()) {
            root += gbnf_literal(shape.separator);
            root += ' ';
        }
        root += "call)*";
    }
    if (!shape.suffix.empty()) {
        root += ' ';
        root += gbnf_literal(shape.suffix);
    }
    return root + "\n" + call + "\n" + rules;
}

}  // namespace mmojo
