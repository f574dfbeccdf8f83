// Tool-call readers for the families that write arguments as JSON: Hermes / Qwen, Llama 3.x,
// Functionary v3.1, Mistral (both forms), Granite, Command R7B, DeepSeek R1 / V3, Kimi K2.
// Formats as their model cards and chat templates document them (see chat_syntax.h).
#include "chat/tool_call_formats.h"

namespace mmojo::chat_formats {

using chat_scan::find_member;
using chat_scan::JsonMembers;
using chat_scan::JsonSpan;
using chat_scan::scan_json;
using chat_scan::scan_members;

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 256) return false;
    for (char c : name) {
        if (chat_scan::is_json_space(c) || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' ||
            c == '"') {
            return false;
        }
    }
    return true;
}

namespace {

std::string span_text(std::string_view t, const JsonSpan& s) { return std::string(t.substr(s.begin, s.end - s.begin)); }

// The arguments of a complete call: an object, or a string holding one (some models quote it).
bool final_arguments(std::string_view t, const JsonSpan& s, std::string& out) {
    const std::string_view raw = t.substr(s.begin, s.end - s.begin);
    if (!raw.empty() && raw[0] == '{') {
        out = std::string(raw);
        return true;
    }
    if (!raw.empty() && raw[0] == '"') {
        const auto inner = nlohmann::json::parse(raw).get<std::string>();
        const auto parsed = nlohmann::json::parse(inner, nullptr, false);
        if (parsed.is_object()) {
            out = std::string(chat_scan::trim(inner));
            return true;
        }
    }
    return false;
}

// One call object from its scanned members.
Scan call_from_members(std::string_view t, const JsonMembers& m, bool partial,
                       std::initializer_list<const char*> name_keys, std::initializer_list<const char*> args_keys,
                       std::initializer_list<const char*> id_keys, std::vector<ParsedToolCall>& calls) {
    if (m.status == Scan::kBad) return Scan::kBad;
    const auto* name = find_member(m, name_keys);
    const auto* args = find_member(m, args_keys);
    const auto* id = find_member(m, id_keys);
    if (m.status == Scan::kMore) {
        // A first key that no call starts with: this is not a call.
        if (!m.members.empty() && !find_member(JsonMembers{Scan::kDone, 0, {m.members[0]}}, name_keys) &&
            !find_member(JsonMembers{Scan::kDone, 0, {m.members[0]}}, args_keys) &&
            !find_member(JsonMembers{Scan::kDone, 0, {m.members[0]}}, id_keys) && m.members[0].key != "type") {
            return Scan::kBad;
        }
        if (!partial || !name || name->value.status != Scan::kDone || t[name->value.begin] != '"') return Scan::kMore;
        ParsedToolCall call;
        call.name = nlohmann::json::parse(span_text(t, name->value)).get<std::string>();
        if (args && t[args->value.begin] == '{') call.arguments = span_text(t, args->value);
        if (id && id->value.status == Scan::kDone && t[id->value.begin] == '"') {
            call.id = nlohmann::json::parse(span_text(t, id->value)).get<std::string>();
        }
        calls.push_back(std::move(call));
        return Scan::kMore;
    }
    if (!name || t[name->value.begin] != '"') return Scan::kBad;
    ParsedToolCall call;
    call.name = nlohmann::json::parse(span_text(t, name->value)).get<std::string>();
    if (!valid_name(call.name)) return Scan::kBad;
    if (args) {
        if (!final_arguments(t, args->value, call.arguments)) return Scan::kBad;
    } else {
        call.arguments = "{}";
    }
    if (id) {
        const auto v = nlohmann::json::parse(span_text(t, id->value));
        call.id = v.is_string() ? v.get<std::string>() : v.dump();
    }
    calls.push_back(std::move(call));
    return Scan::kDone;
}

}  // namespace

Scan read_json_call(Cursor& c, bool partial, std::initializer_list<const char*> name_keys,
                    std::initializer_list<const char*> args_keys, std::initializer_list<const char*> id_keys,
                    std::vector<ParsedToolCall>& calls) {
    const JsonMembers m = scan_members(c.text(), c.pos(), false);
    const Scan s = call_from_members(c.text(), m, partial, name_keys, args_keys, id_keys, calls);
    if (s == Scan::kDone) c.set_pos(m.end);
    return s;
}

Scan read_json_call_list(Cursor& c, bool partial, std::initializer_list<const char*> name_keys,
                         std::initializer_list<const char*> args_keys, std::initializer_list<const char*> id_keys,
                         std::vector<ParsedToolCall>& calls) {
    const std::string_view t = c.text();
    const JsonMembers list = scan_members(t, c.pos(), true);
    if (list.status == Scan::kBad) return Scan::kBad;
    for (const auto& element : list.members) {
        if (t[element.value.begin] != '{') return Scan::kBad;
        const JsonMembers m = scan_members(t, element.value.begin, false);
        const Scan s = call_from_members(t, m, partial, name_keys, args_keys, id_keys, calls);
        if (s != Scan::kDone) return s;
    }
    if (list.status == Scan::kMore) return Scan::kMore;
    if (list.members.empty()) return Scan::kBad;
    c.set_pos(list.end);
    return Scan::kDone;
}

Scan read_json_arguments(Cursor& c, bool partial, std::string name, std::string id,
                         std::vector<ParsedToolCall>& calls) {
    if (!valid_name(name)) return Scan::kBad;
    const JsonSpan s = scan_json(c.text(), c.pos());
    if (s.status == Scan::kBad) return Scan::kBad;
    if (s.status == Scan::kMore) {
        if (s.begin < c.text().size() && c.text()[s.begin] != '{') return Scan::kBad;
        if (partial) calls.push_back({std::move(name), span_text(c.text(), s), std::move(id)});
        return Scan::kMore;
    }
    ParsedToolCall call{std::move(name), "", std::move(id)};
    if (!final_arguments(c.text(), s, call.arguments)) return Scan::kBad;
    calls.push_back(std::move(call));
    c.set_pos(s.end);
    return Scan::kDone;
}

Scan read_close(Cursor& c, std::string_view marker, bool partial) {
    const Scan s = c.ws_literal(marker);
    if (s == Scan::kDone) return s;
    const bool rest_is_prefix = s == Scan::kMore;
    if (partial) return rest_is_prefix ? Scan::kMore : Scan::kBad;
    if (rest_is_prefix) {
        c.set_pos(c.text().size());
        return Scan::kDone;
    }
    return Scan::kBad;
}

void split_blocks(const BlockFormat& format, std::string_view text, bool partial, const nlohmann::json& tools,
                  std::string& content, std::vector<ParsedToolCall>& calls) {
    size_t pos = 0;
    if (format.json_at_start) {
        Cursor c(text);
        c.skip_ws();
        if (!c.at_end() && text[c.pos()] == '{') {
            // Llama 3.x: calls separated by ';' as the whole output.
            std::vector<ParsedToolCall> found;
            Scan s;
            while (true) {
                s = read_json_call(c, partial, {"name"}, {"parameters", "arguments"}, {}, found);
                if (s != Scan::kDone) break;
                if (c.ws_literal(";") == Scan::kDone) continue;
                c.skip_ws();
                break;
            }
            if (s == Scan::kDone && c.at_end()) {
                calls = std::move(found);
                return;
            }
            if (s == Scan::kMore && partial) {
                calls = std::move(found);
                return;
            }
            content = std::string(text);  // not a call: an ordinary answer that is JSON
            return;
        }
    }
    while (true) {
        size_t which = 0;
        const auto hit = chat_scan::find_first_marker(text, format.starts, pos, &which);
        if (!hit.found) {
            content += text.substr(pos, (partial ? hit.pos : text.size()) - pos);
            return;
        }
        content += text.substr(pos, hit.pos - pos);
        Cursor c(text, hit.pos + format.starts[which].size());
        std::vector<ParsedToolCall> found;
        const Scan s = format.read(c, which, partial, tools, found);
        if (s == Scan::kDone) {
            for (auto& call : found) calls.push_back(std::move(call));
            pos = c.pos();
            continue;
        }
        if (s == Scan::kMore && partial) {
            for (auto& call : found) calls.push_back(std::move(call));
            return;
        }
        // Malformed, or cut off by the end of generation: the rest is content.
        content += text.substr(hit.pos);
        return;
    }
}

namespace {

// <tool_call>\n{"name": "f", "arguments": {..}}\n</tool_call>
Scan read_hermes(Cursor& c, size_t, bool partial, const nlohmann::json&, std::vector<ParsedToolCall>& calls) {
    const Scan s = read_json_call(c, partial, {"name"}, {"arguments", "parameters"}, {}, calls);
    if (s != Scan::kDone) return s;
    return read_close(c, "</tool_call>", partial);
}

// [TOOL_CALLS][{"name": "f", "arguments": {..}, "id": "abcdefghi"}, ..]
Scan read_mistral_nemo(Cursor& c, size_t, bool partial, const nlohmann::json&, std::vector<ParsedToolCall>& calls) {
    return read_json_call_list(c, partial, {"name"}, {"arguments", "parameters"}, {"id"}, calls);
}

// [TOOL_CALLS]f[ARGS]{..} or [TOOL_CALLS]f[CALL_ID]abcdefghi[ARGS]{..}
Scan read_mistral(Cursor& c, size_t, bool partial, const nlohmann::json&, std::vector<ParsedToolCall>& calls) {
    const std::string_view rest = c.rest();
    const size_t args = rest.find("[ARGS]");
    const size_t call_id = rest.find("[CALL_ID]");
    if (args == std::string_view::npos) {
        // Not there yet: the name so far, then maybe the start of [CALL_ID] or [ARGS].
        const size_t bracket = rest.find('[');
        const std::string_view name = rest.substr(0, std::min(bracket, rest.size()));
        if (!name.empty() && !valid_name(name)) return Scan::kBad;
        if (!partial) return Scan::kBad;
        if (bracket == std::string_view::npos) return Scan::kMore;
        const std::string_view tail = rest.substr(bracket);
        if (tail.substr(0, 9) == "[CALL_ID]") return tail.size() < 64 + 9 ? Scan::kMore : Scan::kBad;
        const bool prefix = std::string_view("[ARGS]").substr(0, tail.size()) == tail ||
                            std::string_view("[CALL_ID]").substr(0, tail.size()) == tail;
        return prefix ? Scan::kMore : Scan::kBad;
    }
    std::string id;
    size_t name_end = args;
    if (call_id != std::string_view::npos && call_id < args) {
        name_end = call_id;
        id = std::string(rest.substr(call_id + 9, args - call_id - 9));
    }
    const std::string name(rest.substr(0, name_end));
    c.set_pos(c.pos() + args + 6);
    return read_json_arguments(c, partial, name, id, calls);
}

// <|tool_call|>[{"name": "f", "arguments": {..}}]
Scan read_granite(Cursor& c, size_t, bool partial, const nlohmann::json&, std::vector<ParsedToolCall>& calls) {
    return read_json_call_list(c, partial, {"name"}, {"arguments", "parameters"}, {}, calls);
}

// <|START_ACTION|>[{"tool_call_id": "0", "tool_name": "f", "parameters": {..}}]<|END_ACTION|>
Scan read_command_r7b(Cursor& c, size_t, bool partial, const nlohmann::json&, std::vector<ParsedToolCall>& calls) {
    const Scan s = read_json_call_list(c, partial, {"tool_name"}, {"parameters"}, {"tool_call_id"}, calls);
    if (s != Scan::kDone) return s;
    return read_close(c, "<|END_ACTION|>", partial);
}

// DeepSeek markers (fullwidth bars and U+2581 in the names).
constexpr std::string_view kDsCallsBegin = "<\xEF\xBD\x9Ctool\xE2\x96\x81" "calls\xE2\x96\x81" "begin\xEF\xBD\x9C>";
constexpr std::string_view kDsCallsEnd = "<\xEF\xBD\x9Ctool\xE2\x96\x81" "calls\xE2\x96\x81" "end\xEF\xBD\x9C>";
constexpr std::string_view kDsCallBegin = "<\xEF\xBD\x9Ctool\xE2\x96\x81" "call\xE2\x96\x81" "begin\xEF\xBD\x9C>";
constexpr std::string_view kDsCallEnd = "<\xEF\xBD\x9Ctool\xE2\x96\x81" "call\xE2\x96\x81" "end\xEF\xBD\x9C>";
constexpr std::string_view kDsSep = "<\xEF\xBD\x9Ctool\xE2\x96\x81" "sep\xEF\xBD\x9C>";

// R1: <｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{..}\n```<｜tool▁call▁end｜>
// V3.1: <｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{..}<｜tool▁call▁end｜>
Scan read_deepseek_call(Cursor& c, bool partial, std::vector<ParsedToolCall>& calls) {
    std::string_view name;
    const Scan r1 = c.literal(std::string("function").append(kDsSep));
    if (r1 == Scan::kMore) return Scan::kMore;
    if (r1 == Scan::kDone) {
        if (c.until("\n", name) != Scan::kDone) return partial ? Scan::kMore : Scan::kBad;
        const Scan fence = c.ws_literal("```json");
        if (fence == Scan::kMore) return Scan::kMore;
        const Scan s = read_json_arguments(c, partial, std::string(chat_scan::trim(name)), "", calls);
        if (s != Scan::kDone) return s;
        if (fence == Scan::kDone) {
            const Scan close = c.ws_literal("```");
            if (close == Scan::kMore) return partial ? Scan::kMore : Scan::kDone;
            if (close == Scan::kBad) return Scan::kBad;
        }
    } else {
        if (c.until(kDsSep, name) != Scan::kDone) {
            // The name so far, maybe followed by the start of the separator.
            const std::string_view rest = c.rest();
            const size_t lt = std::min(rest.find('<'), rest.size());
            const std::string_view so_far = chat_scan::trim(rest.substr(0, lt));
            const bool ok = (so_far.empty() || valid_name(so_far)) && kDsSep.substr(0, rest.size() - lt) == rest.substr(lt);
            return partial && ok ? Scan::kMore : Scan::kBad;
        }
        const Scan s = read_json_arguments(c, partial, std::string(chat_scan::trim(name)), "", calls);
        if (s != Scan::kDone) return s;
    }
    return read_close(c, kDsCallEnd, partial);
}

Scan read_deepseek(Cursor& c, size_t which, bool partial, const nlohmann::json&, std::vector<ParsedToolCall>& calls) {
    bool first = true;
    while (true) {
        if (!(first && which == 1)) {
            const Scan open = c.ws_literal(kDsCallBegin);
            if (open == Scan::kMore) return partial ? Scan::kMore : (first ? Scan::kBad : read_close(c, kDsCallsEnd, false));
            if (open == Scan::kBad) {
                if (first) return Scan::kBad;
                break;
            }
        }
        first = false;
        const Scan s = read_deepseek_call(c, partial, calls);
        if (s != Scan::kDone) return s;
        if (c.at_end()) return partial ? Scan::kMore : Scan::kDone;
    }
    if (which == 0) return read_close(c, kDsCallsEnd, partial);
    return Scan::kDone;
}

// <|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:0<|tool_call_argument_begin|>{..}
// <|tool_call_end|>..<|tool_calls_section_end|>
Scan read_kimi(Cursor& c, size_t, bool partial, const nlohmann::json&, std::vector<ParsedToolCall>& calls) {
    bool first = true;
    while (true) {
        const Scan open = c.ws_literal("<|tool_call_begin|>");
        if (open == Scan::kMore) return Scan::kMore;
        if (open == Scan::kBad) {
            if (first) return Scan::kBad;
            break;
        }
        first = false;
        std::string_view id;
        if (c.until("<|tool_call_argument_begin|>", id) != Scan::kDone) {
            return partial && id.size() < 300 ? Scan::kMore : Scan::kBad;
        }
        id = chat_scan::trim(id);
        std::string_view name = id;
        if (name.substr(0, 10) == "functions.") name.remove_prefix(10);
        const size_t colon = name.rfind(':');
        if (colon != std::string_view::npos) name = name.substr(0, colon);
        const Scan s = read_json_arguments(c, partial, std::string(name), std::string(id), calls);
        if (s != Scan::kDone) return s;
        const Scan close = read_close(c, "<|tool_call_end|>", partial);
        if (close != Scan::kDone) return close;
        if (c.at_end()) return partial ? Scan::kMore : Scan::kDone;
    }
    return read_close(c, "<|tool_calls_section_end|>", partial);
}

// Code after <|python_tag|> as a call of the "python" tool: {"code": "..."}.
Scan read_python_code(Cursor& c, bool partial, std::vector<ParsedToolCall>& calls) {
    const std::string_view code = c.rest();
    std::string quoted = chat_scan::json_quote(code);
    if (partial) {
        quoted.pop_back();  // the closing quote waits for the end of the code
        calls.push_back({"python", "{\"code\": " + quoted, ""});
        return Scan::kMore;
    }
    calls.push_back({"python", "{\"code\": " + quoted + "}", ""});
    c.set_pos(c.text().size());
    return Scan::kDone;
}

// Llama 3.1 built-in tools: brave_search.call(query="...") with JSON-valued keyword arguments.
Scan read_builtin_call(Cursor& c, std::string name, bool partial, std::vector<ParsedToolCall>& calls) {
    std::string args = "{";
    bool first = true;
    while (true) {
        c.skip_ws();
        if (c.literal(")") == Scan::kDone) break;
        if (c.at_end()) return partial ? Scan::kMore : Scan::kBad;
        if (!first && c.literal(",") != Scan::kDone) return Scan::kBad;
        c.skip_ws();
        std::string_view key;
        if (c.until("=", key) != Scan::kDone) return partial ? Scan::kMore : Scan::kBad;
        key = chat_scan::trim(key);
        if (!valid_name(key)) return Scan::kBad;
        const JsonSpan v = scan_json(c.text(), c.pos());
        if (v.status != Scan::kDone) return v.status == Scan::kMore && partial ? Scan::kMore : Scan::kBad;
        args += (first ? "" : ", ") + chat_scan::json_quote(key) + ": " + span_text(c.text(), v);
        c.set_pos(v.end);
        first = false;
    }
    calls.push_back({std::move(name), args + "}", ""});
    return Scan::kDone;
}

Scan read_python_tag(Cursor& c, bool partial, std::vector<ParsedToolCall>& calls, bool builtins) {
    Cursor probe = c;
    probe.skip_ws();
    if (probe.at_end()) return partial ? Scan::kMore : Scan::kBad;
    if (c.text()[probe.pos()] == '{') {
        c = probe;
        return read_json_call(c, partial, {"name"}, {"parameters", "arguments"}, {}, calls);
    }
    if (builtins) {
        // IDENT.call( : a built-in tool (brave_search, wolfram_alpha, ...).
        const std::string_view rest = probe.rest();
        size_t n = 0;
        while (n < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[n])) || rest[n] == '_')) ++n;
        const std::string_view after = rest.substr(n);
        if (n > 0 && after.substr(0, 6) == ".call(") {
            c.set_pos(probe.pos() + n + 6);
            return read_builtin_call(c, std::string(rest.substr(0, n)), partial, calls);
        }
        if (n == rest.size() || std::string_view(".call(").substr(0, after.size()) == after) {
            if (partial) return Scan::kMore;
        }
    }
    return read_python_code(c, partial, calls);
}

Scan read_llama3(Cursor& c, size_t, bool partial, const nlohmann::json&, std::vector<ParsedToolCall>& calls) {
    return read_python_tag(c, partial, calls, true);
}

// <function=NAME>{..}</function> and <|python_tag|>code
Scan read_functionary_v31(Cursor& c, size_t which, bool partial, const nlohmann::json&,
                          std::vector<ParsedToolCall>& calls) {
    if (which == 1) return read_python_tag(c, partial, calls, false);
    std::string_view name;
    if (c.until(">", name) != Scan::kDone) {
        return partial && (c.rest().empty() || valid_name(c.rest())) ? Scan::kMore : Scan::kBad;
    }
    const Scan s = read_json_arguments(c, partial, std::string(name), "", calls);
    if (s != Scan::kDone) return s;
    return read_close(c, "</function>", partial);
}

Scan read_qwen3_coder(Cursor& c, size_t, bool partial, const nlohmann::json& tools, std::vector<ParsedToolCall>& calls) {
    return read_qwen3_coder_block(c, partial, tools, calls);
}
Scan read_glm4(Cursor& c, size_t, bool partial, const nlohmann::json& tools, std::vector<ParsedToolCall>& calls) {
    return read_glm4_block(c, partial, tools, calls);
}
Scan read_gemma4(Cursor& c, size_t, bool partial, const nlohmann::json&, std::vector<ParsedToolCall>& calls) {
    return read_gemma4_block(c, partial, calls);
}
}  // namespace

const BlockFormat* block_format(ToolFormat format) {
    static const BlockFormat kHermes{{"<tool_call>"}, read_hermes};
    static const BlockFormat kQwen3Coder{{"<tool_call>"}, read_qwen3_coder};
    static const BlockFormat kLlama3{{"<|python_tag|>"}, read_llama3, true};
    static const BlockFormat kFunctionaryV31{{"<function=", "<|python_tag|>"}, read_functionary_v31};
    static const BlockFormat kMistralNemo{{"[TOOL_CALLS]"}, read_mistral_nemo};
    static const BlockFormat kMistral{{"[TOOL_CALLS]"}, read_mistral};
    static const BlockFormat kDeepSeek{{kDsCallsBegin, kDsCallBegin}, read_deepseek};
    static const BlockFormat kCommandR7B{{"<|START_ACTION|>"}, read_command_r7b};
    static const BlockFormat kGlm4{{"<tool_call>"}, read_glm4};
    static const BlockFormat kKimiK2{{"<|tool_calls_section_begin|>"}, read_kimi};
    static const BlockFormat kGranite{{"<|tool_call|>"}, read_granite};
    static const BlockFormat kGemma4{{"<|tool_call>"}, read_gemma4};
    switch (format) {
        case ToolFormat::kHermes: return &kHermes;
        case ToolFormat::kQwen3Coder: return &kQwen3Coder;
        case ToolFormat::kLlama3: return &kLlama3;
        case ToolFormat::kFunctionaryV31: return &kFunctionaryV31;
        case ToolFormat::kMistralNemo: return &kMistralNemo;
        case ToolFormat::kMistral: return &kMistral;
        case ToolFormat::kDeepSeek: return &kDeepSeek;
        case ToolFormat::kCommandR7B: return &kCommandR7B;
        case ToolFormat::kGlm4: return &kGlm4;
        case ToolFormat::kKimiK2: return &kKimiK2;
        case ToolFormat::kGranite: return &kGranite;
        case ToolFormat::kGemma4: return &kGemma4;
        case ToolFormat::kNone:
        case ToolFormat::kFunctionaryV32:
        case ToolFormat::kGptOss: return nullptr;
    }
    return nullptr;
}

}  // namespace mmojo::chat_formats
