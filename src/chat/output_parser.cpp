// parse_chat_output: thinking first (a block at the start of the output, or from the start
// when the prompt opened it), then the family's tool calls in the rest, then the answer
// markers some families wrap content in. While streaming, whitespace at the end of
// reasoning and content is held back (it may be trimmed once the structure is known).
#include "chat/output_parser.h"

#include "chat/tool_call_formats.h"

namespace mmojo {

namespace {

using chat_scan::find_marker;
using chat_scan::is_json_space;

std::string_view trim_left(std::string_view s) {
    size_t b = 0;
    while (b < s.size() && is_json_space(s[b])) ++b;
    return s.substr(b);
}

void trim_right(std::string& s) {
    while (!s.empty() && is_json_space(s.back())) s.pop_back();
}

void trim_left_inplace(std::string& s) {
    size_t b = 0;
    while (b < s.size() && is_json_space(s[b])) ++b;
    s.erase(0, b);
}

// Removes every complete `marker`; while streaming, also a trailing piece that may become one.
void remove_marker(std::string& s, const std::string& marker, bool partial) {
    if (marker.empty()) return;
    for (size_t at = s.find(marker); at != std::string::npos; at = s.find(marker, at)) s.erase(at, marker.size());
    if (partial) {
        const auto hit = find_marker(s, marker);
        s.resize(hit.pos);
    }
}

}  // namespace

namespace {

ParsedMessage parse_output(const ChatSyntax& syntax, std::string_view text, bool partial, const nlohmann::json& tools) {
    ParsedMessage out;
    if (syntax.tools == ToolFormat::kGptOss) {
        chat_formats::parse_harmony(syntax, text, partial, out);
        return out;
    }
    std::string_view rest = text;
    bool structured = false;  // thinking or calls found: the pieces are trimmed
    std::string think_block;  // deepseek-legacy keeps it in content too
    if (syntax.reasoning_format != ReasoningFormat::kNone && !syntax.think_start.empty()) {
        bool open = syntax.thinking_open;
        std::string_view body = rest;
        if (!open) {
            const std::string_view lead = trim_left(rest);
            if (lead.substr(0, syntax.think_start.size()) == syntax.think_start) {
                open = true;
                body = lead.substr(syntax.think_start.size());
            } else if (partial && !lead.empty() && lead.size() < syntax.think_start.size() &&
                       std::string_view(syntax.think_start).substr(0, lead.size()) == lead) {
                return out;  // maybe the start of a thinking block: wait
            } else if (partial && lead.empty()) {
                return out;
            }
        } else {
            // A model may still write the start marker the prompt already wrote.
            const std::string_view lead = trim_left(rest);
            if (lead.substr(0, syntax.think_start.size()) == syntax.think_start) body = lead.substr(syntax.think_start.size());
        }
        if (open) {
            structured = true;
            const auto end = find_marker(body, syntax.think_end);
            if (!end.found) {
                out.reasoning = std::string(trim_left(body.substr(0, partial ? end.pos : body.size())));
                trim_right(out.reasoning);
                return out;  // still thinking (or the output ended inside the block)
            }
            out.reasoning = std::string(trim_left(body.substr(0, end.pos)));
            trim_right(out.reasoning);
            const size_t after = size_t(body.data() - text.data()) + end.pos + syntax.think_end.size();
            if (syntax.reasoning_format == ReasoningFormat::kDeepSeekLegacy) {
                think_block = std::string(text.substr(0, after));
                if (syntax.thinking_open && trim_left(think_block).substr(0, syntax.think_start.size()) != syntax.think_start) {
                    think_block = syntax.think_start + think_block;
                }
            }
            rest = text.substr(after);
        }
    }

    const chat_formats::BlockFormat* blocks = syntax.parse_tools ? chat_formats::block_format(syntax.tools) : nullptr;
    if (blocks) {
        chat_formats::split_blocks(*blocks, rest, partial, tools, out.content, out.tool_calls);
    } else if (syntax.parse_tools && syntax.tools == ToolFormat::kFunctionaryV32) {
        chat_formats::parse_functionary_v32(rest, partial, out.content, out.tool_calls);
    } else {
        out.content = std::string(rest);
    }
    if (!out.tool_calls.empty()) structured = true;
    if (!syntax.response_start.empty() &&
        (out.content.find(syntax.response_start) != std::string::npos ||
         out.content.find(syntax.response_end) != std::string::npos)) {
        structured = true;
    }
    remove_marker(out.content, syntax.response_start, partial);
    remove_marker(out.content, syntax.response_end, partial);
    if (structured) trim_left_inplace(out.content);
    if (partial || structured) trim_right(out.content);
    if (!think_block.empty()) out.content = think_block + out.content;
    return out;
}

}  // namespace

ParsedMessage parse_chat_output(const ChatSyntax& syntax, std::string_view text, bool partial,
                                const nlohmann::json& tools) {
    try {
        return parse_output(syntax, text, partial, tools);
    } catch (const std::exception&) {
        // A JSON piece the scanner let through but the decoder refused (e.g. a string that
        // is not UTF-8): the output is content, as for any malformed call.
        ParsedMessage out;
        out.content = std::string(text);
        return out;
    }
}

}  // namespace mmojo
