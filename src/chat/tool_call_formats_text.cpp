// Tool-call readers for the families that do not write a JSON object per call: Qwen3-Coder
// and GLM 4.x (one tag per parameter, values as bare text), Gemma 4 (its own key:value
// syntax with <|"|> string quotes), gpt-oss harmony (addressed channel messages) and
// Functionary v3.2 (>>>recipient sections).
#include "chat/tool_call_formats.h"

namespace mmojo::chat_formats {

using chat_scan::find_marker;
using chat_scan::trim;

namespace {

const nlohmann::json* parameter_schema(const nlohmann::json& tools, const std::string& function, const std::string& key) {
    if (!tools.is_array()) return nullptr;
    for (const auto& tool : tools) {
        if (!tool.is_object()) continue;
        const auto f = tool.find("function");
        if (f == tool.end() || !f->is_object() || f->value("name", "") != function) continue;
        const auto params = f->find("parameters");
        if (params == f->end() || !params->is_object()) return nullptr;
        const auto props = params->find("properties");
        if (props == params->end() || !props->is_object()) return nullptr;
        const auto p = props->find(key);
        return p == props->end() ? nullptr : &*p;
    }
    return nullptr;
}

bool schema_is_string(const nlohmann::json* schema) {
    if (!schema || !schema->is_object()) return false;
    const auto type = schema->find("type");
    if (type == schema->end()) return false;
    if (type->is_string()) return *type == "string";
    if (type->is_array()) {
        for (const auto& t : *type) {
            if (t.is_string() && t != "string" && t != "null") return false;
        }
        return true;
    }
    return false;
}

std::string dump_json(const nlohmann::json& v) {
    return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Arguments built parameter by parameter: "{" then "k": v pairs; "}" once complete.
struct ArgsBuilder {
    std::string text = "{";
    bool any = false;
    void add(std::string_view key, const std::string& value_json) {
        text += (any ? ", " : "") + chat_scan::json_quote(key) + ": " + value_json;
        any = true;
    }
    std::string done() const { return text + "}"; }
};

// Removes one newline that the format puts after an opening and before a closing tag.
std::string_view strip_one_newline(std::string_view v) {
    if (!v.empty() && v.front() == '\n') v.remove_prefix(1);
    if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
    return v;
}

}  // namespace

std::string argument_value_json(const nlohmann::json& tools, const std::string& function, const std::string& key,
                                std::string_view raw) {
    const nlohmann::json* schema = parameter_schema(tools, function, key);
    if (schema_is_string(schema)) return chat_scan::json_quote(raw);
    const auto parsed = nlohmann::json::parse(trim(raw), nullptr, false);
    if (!parsed.is_discarded()) return dump_json(parsed);
    return chat_scan::json_quote(raw);
}

// <tool_call>\n<function=NAME>\n<parameter=K>\nV\n</parameter>\n</function>\n</tool_call>
Scan read_qwen3_coder_block(Cursor& c, bool partial, const nlohmann::json& tools, std::vector<ParsedToolCall>& calls) {
    const Scan open = c.ws_literal("<function=");
    if (open != Scan::kDone) return open;
    std::string_view name_view;
    if (c.until(">", name_view) != Scan::kDone) {
        return partial && (c.rest().empty() || valid_name(c.rest())) ? Scan::kMore : Scan::kBad;
    }
    const std::string name(trim(name_view));
    if (!valid_name(name)) return Scan::kBad;
    ArgsBuilder args;
    while (true) {
        const Scan param = c.ws_literal("<parameter=");
        if (param == Scan::kMore) break;
        if (param == Scan::kBad) {
            const Scan end = c.ws_literal("</function>");
            if (end == Scan::kBad) return Scan::kBad;
            if (end == Scan::kMore) break;
            calls.push_back({name, args.done(), ""});
            return read_close(c, "</tool_call>", partial);
        }
        std::string_view key, value;
        if (c.until(">", key) != Scan::kDone || c.until("</parameter>", value) != Scan::kDone) break;
        args.add(trim(key), argument_value_json(tools, name, std::string(trim(key)), strip_one_newline(value)));
    }
    if (!partial) return Scan::kBad;
    calls.push_back({name, args.text, ""});
    return Scan::kMore;
}

// <tool_call>NAME\n<arg_key>K</arg_key>\n<arg_value>V</arg_value>\n</tool_call>
Scan read_glm4_block(Cursor& c, bool partial, const nlohmann::json& tools, std::vector<ParsedToolCall>& calls) {
    const std::string_view rest = c.rest();
    size_t name_end = std::min({rest.find('\n'), rest.find("<arg_key>"), rest.find("</tool_call>")});
    if (name_end == std::string_view::npos) {
        return partial && (trim(rest).empty() || valid_name(trim(rest))) ? Scan::kMore : Scan::kBad;
    }
    const std::string name(trim(rest.substr(0, name_end)));
    if (!valid_name(name)) return Scan::kBad;
    c.set_pos(c.pos() + name_end);
    ArgsBuilder args;
    while (true) {
        const Scan key_open = c.ws_literal("<arg_key>");
        if (key_open == Scan::kMore) break;
        if (key_open == Scan::kBad) {
            const Scan end = c.ws_literal("</tool_call>");
            if (end == Scan::kBad) return Scan::kBad;
            if (end == Scan::kMore) break;
            calls.push_back({name, args.done(), ""});
            return Scan::kDone;
        }
        std::string_view key, value;
        if (c.until("</arg_key>", key) != Scan::kDone) break;
        const Scan value_open = c.ws_literal("<arg_value>");
        if (value_open == Scan::kBad) return Scan::kBad;
        if (value_open == Scan::kMore || c.until("</arg_value>", value) != Scan::kDone) break;
        args.add(trim(key), argument_value_json(tools, name, std::string(trim(key)), value));
    }
    if (!partial) {
        // The model stopped right after the last value: take the call as written.
        Cursor probe = c;
        probe.skip_ws();
        if (!probe.at_end()) return Scan::kBad;
        if (args.any) {
            calls.push_back({name, args.done(), ""});
            c.set_pos(c.text().size());
            return Scan::kDone;
        }
        return Scan::kBad;
    }
    calls.push_back({name, args.text, ""});
    return Scan::kMore;
}

namespace {

constexpr std::string_view kGemmaQuote = "<|\"|>";

// One Gemma 4 value: <|"|>string<|"|>, {key:value,..}, [v,..], or a bare number/literal.
Scan read_gemma_value(Cursor& c, nlohmann::ordered_json& out, int depth) {
    if (depth > chat_scan::kMaxJsonDepth) return Scan::kBad;
    c.skip_ws();
    if (c.at_end()) return Scan::kMore;
    const Scan q = c.literal(kGemmaQuote);
    if (q == Scan::kMore) return Scan::kMore;
    if (q == Scan::kDone) {
        std::string_view s;
        if (c.until(kGemmaQuote, s) != Scan::kDone) return Scan::kMore;
        out = std::string(s);
        return Scan::kDone;
    }
    const char ch = c.text()[c.pos()];
    if (ch == '{' || ch == '[') {
        const bool object = ch == '{';
        out = object ? nlohmann::ordered_json::object() : nlohmann::ordered_json::array();
        c.set_pos(c.pos() + 1);
        c.skip_ws();
        if (c.literal(object ? "}" : "]") == Scan::kDone) return Scan::kDone;
        while (true) {
            std::string key;
            if (object) {
                std::string_view k;
                c.skip_ws();
                const Scan kq = c.literal(kGemmaQuote);
                if (kq == Scan::kMore) return Scan::kMore;
                if (c.until(kq == Scan::kDone ? kGemmaQuote : std::string_view(":"), k) != Scan::kDone) return Scan::kMore;
                if (kq == Scan::kDone && c.ws_literal(":") != Scan::kDone) return c.at_end() ? Scan::kMore : Scan::kBad;
                key = std::string(trim(k));
                if (key.empty() || key.size() > 256) return Scan::kBad;
            }
            nlohmann::ordered_json v;
            const Scan s = read_gemma_value(c, v, depth + 1);
            if (s != Scan::kDone) return s;
            if (object) out[key] = std::move(v);
            else out.push_back(std::move(v));
            c.skip_ws();
            if (c.at_end()) return Scan::kMore;
            if (c.literal(",") == Scan::kDone) continue;
            if (c.literal(object ? "}" : "]") == Scan::kDone) return Scan::kDone;
            return Scan::kBad;
        }
    }
    // A bare atom up to the next delimiter.
    const std::string_view rest = c.rest();
    const size_t end = rest.find_first_of(",}]");
    if (end == std::string_view::npos) return Scan::kMore;
    const std::string_view atom = trim(rest.substr(0, end));
    const auto parsed = nlohmann::ordered_json::parse(atom, nullptr, false);
    out = parsed.is_discarded() ? nlohmann::ordered_json(std::string(atom)) : parsed;
    c.set_pos(c.pos() + end);
    return Scan::kDone;
}

}  // namespace

// <|tool_call>call:NAME{key:<|"|>text<|"|>,n:3}<tool_call|>
Scan read_gemma4_block(Cursor& c, bool partial, std::vector<ParsedToolCall>& calls) {
    const Scan call = c.ws_literal("call:");
    if (call != Scan::kDone) return call;
    std::string_view name_view;
    if (c.until("{", name_view) != Scan::kDone) {
        return partial && (c.rest().empty() || valid_name(c.rest())) ? Scan::kMore : Scan::kBad;
    }
    const std::string name(trim(name_view));
    if (!valid_name(name)) return Scan::kBad;
    c.set_pos(c.pos() - 1);  // the object starts at '{'
    nlohmann::ordered_json args;
    const Scan s = read_gemma_value(c, args, 0);
    if (s == Scan::kBad) return Scan::kBad;
    if (s == Scan::kMore) {
        if (!partial) return Scan::kBad;
        calls.push_back({name, "", ""});  // arguments come whole, once the object closes
        return Scan::kMore;
    }
    calls.push_back({name, dump_json(args), ""});
    return read_close(c, "<tool_call|>", partial);
}

// Harmony: messages "<|start|>assistant<|channel|>C [to=functions.F] [<|constrain|>json]<|message|>BODY"
// ended by <|end|>, <|call|> or <|return|>; the prompt already wrote the first
// "<|start|>assistant". analysis = reasoning, final and plain commentary = content.
void parse_harmony(const ChatSyntax& syntax, std::string_view t, bool partial, ParsedMessage& out) {
    const bool keep_raw = syntax.reasoning_format == ReasoningFormat::kNone;
    static const std::vector<std::string_view> kEnds = {"<|end|>", "<|call|>", "<|return|>", "<|start|>"};
    size_t pos = 0;
    auto append = [](std::string& to, std::string_view piece) {
        if (!to.empty() && !piece.empty()) to += "\n";
        to += piece;
    };
    while (pos < t.size()) {
        // Text outside any message header is content (a model that skipped the format).
        const auto hs = chat_scan::find_first_marker(t, {"<|channel|>", "<|start|>", " to="}, pos, nullptr);
        if (!hs.found) {
            append(out.content, trim(t.substr(pos, (partial ? hs.pos : t.size()) - pos)));
            return;
        }
        if (hs.pos > pos) append(out.content, trim(t.substr(pos, hs.pos - pos)));
        pos = hs.pos;
        const size_t msg = t.find("<|message|>", pos);
        if (msg == std::string_view::npos) {
            if (!partial) append(out.content, trim(t.substr(pos)));
            return;
        }
        std::string_view header = t.substr(pos, msg - pos);
        const size_t body_start = msg + 11;
        size_t which = 0;
        const auto end = chat_scan::find_first_marker(t, kEnds, body_start, &which);
        const bool closed = end.found;
        std::string_view body = t.substr(body_start, (closed || partial ? end.pos : t.size()) - body_start);
        std::string channel, recipient;
        if (const size_t ch = header.find("<|channel|>"); ch != std::string_view::npos) {
            size_t e = ch + 11;
            while (e < header.size() && header[e] != ' ' && header[e] != '<') ++e;
            channel = std::string(header.substr(ch + 11, e - ch - 11));
        }
        if (const size_t to = header.find("to="); to != std::string_view::npos) {
            size_t e = to + 3;
            while (e < header.size() && header[e] != ' ' && header[e] != '<') ++e;
            recipient = std::string(header.substr(to + 3, e - to - 3));
        }
        if (recipient.rfind("functions.", 0) == 0 && syntax.parse_tools) {
            const std::string name = recipient.substr(10);
            Cursor c(body);
            std::vector<ParsedToolCall> found;
            const Scan s = read_json_arguments(c, partial && !closed, name, "", found);
            if (s == Scan::kDone || (s == Scan::kMore && partial && !closed)) {
                for (auto& call : found) out.tool_calls.push_back(std::move(call));
            } else {
                append(out.content, t.substr(pos, body_start + body.size() - pos));  // malformed call
            }
        } else if (channel == "analysis") {
            if (keep_raw) append(out.content, t.substr(pos, body_start + body.size() - pos));
            else append(out.reasoning, trim(body));
        } else {
            append(out.content, trim(body));
        }
        if (!closed) return;
        if (which == 3) {  // <|start|> begins the next header
            pos = end.pos;
            continue;
        }
        pos = end.pos + kEnds[which].size();
        if (t.substr(pos, 9) != "<|start|>") continue;
        pos += 9;
        // The role of the next message; its start may still be arriving.
        const std::string_view role = t.substr(pos, 9);
        if (role == "assistant") pos += 9;
        else if (partial && std::string_view("assistant").substr(0, role.size()) == role) return;
    }
}

// Functionary v3.2: the prompt ends with ">>>"; each section is "RECIPIENT\nBODY", sections
// separated by ">>>"; recipient "all" is text for the user, others are calls with JSON.
void parse_functionary_v32(std::string_view t, bool partial, std::string& content, std::vector<ParsedToolCall>& calls) {
    size_t pos = 0;
    if (t.substr(0, 3) == ">>>") pos = 3;
    while (pos < t.size()) {
        const size_t nl = t.find('\n', pos);
        if (nl == std::string_view::npos) {
            if (!partial) content += t.substr(pos);
            return;
        }
        const std::string recipient(trim(t.substr(pos, nl - pos)));
        if (recipient == "all") {
            const auto next = find_marker(t, ">>>", nl + 1);
            content += t.substr(nl + 1, (next.found || partial ? next.pos : t.size()) - nl - 1);
            if (!next.found) return;
            pos = next.pos + 3;
            continue;
        }
        Cursor c(t, nl + 1);
        std::vector<ParsedToolCall> found;
        const Scan s = read_json_arguments(c, partial, recipient, "", found);
        if (s == Scan::kBad || (s == Scan::kMore && !partial)) {
            content += t.substr(pos > 3 ? pos - 3 : 0);
            return;
        }
        for (auto& call : found) calls.push_back(std::move(call));
        if (s == Scan::kMore) return;
        const Scan next = c.ws_literal(">>>");
        if (next == Scan::kMore && partial) return;
        if (next != Scan::kDone) {
            c.skip_ws();
            if (!c.at_end()) content += t.substr(c.pos());
            return;
        }
        pos = c.pos();
    }
}

}  // namespace mmojo::chat_formats
