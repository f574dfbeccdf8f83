// ChatStream: the differ between successive partial parses of a growing output.
#include "chat/chat_stream.h"

#include <random>

namespace mmojo {

std::string random_call_id(size_t length) {
    static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    thread_local std::mt19937_64 rng(std::random_device{}());
    std::string id;
    for (size_t i = 0; i < length; ++i) id += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    return id;
}

ChatStream::ChatStream(ChatOutputOptions options) : options_(std::move(options)) {
    if (!options_.make_id) options_.make_id = [] { return "call_" + random_call_id(24); };
}

void ChatStream::limit_calls(ParsedMessage& m) const {
    if (!options_.parallel_tool_calls && m.tool_calls.size() > 1) m.tool_calls.resize(1);
}

std::vector<nlohmann::json> ChatStream::push(std::string_view text) {
    if (text.empty()) return {};
    text_ += text;
    ParsedMessage now = parse_chat_output(options_.syntax, text_, true, options_.tools);
    limit_calls(now);
    return diff(std::move(now));
}

std::vector<nlohmann::json> ChatStream::finish() {
    ParsedMessage now = parse_chat_output(options_.syntax, text_, false, options_.tools);
    limit_calls(now);
    auto deltas = diff(now);
    // Ids: those already sent, else the model's, else new ones.
    for (size_t i = 0; i < now.tool_calls.size(); ++i) {
        auto& call = now.tool_calls[i];
        if (i < sent_.tool_calls.size()) call.id = sent_.tool_calls[i].id;
        else if (call.id.empty()) call.id = options_.make_id();
    }
    final_ = std::move(now);
    return deltas;
}

namespace {

// The part of `now` after `sent` when `now` extends it; "" when it does not (a piece the
// client already has cannot be taken back: the differing part is dropped from the stream).
std::string growth(const std::string& sent, const std::string& now) {
    if (now.size() <= sent.size() || now.compare(0, sent.size(), sent) != 0) return {};
    return now.substr(sent.size());
}

}  // namespace

std::vector<nlohmann::json> ChatStream::diff(ParsedMessage now) {
    std::vector<nlohmann::json> out;
    if (std::string piece = growth(sent_.reasoning, now.reasoning); !piece.empty()) {
        out.push_back({{"reasoning_content", piece}});
        sent_.reasoning = now.reasoning;
    }
    if (std::string piece = growth(sent_.content, now.content); !piece.empty()) {
        out.push_back({{"content", piece}});
        sent_.content = now.content;
    }
    for (size_t i = 0; i < now.tool_calls.size(); ++i) {
        const auto& call = now.tool_calls[i];
        if (i >= sent_.tool_calls.size()) {
            if (i > sent_.tool_calls.size()) break;  // in order only
            ParsedToolCall sent = call;
            if (sent.id.empty()) sent.id = options_.make_id();
            out.push_back({{"tool_calls", nlohmann::json::array({{{"index", i},
                                                                   {"id", sent.id},
                                                                   {"type", "function"},
                                                                   {"function", {{"name", call.name}, {"arguments", call.arguments}}}}})}});
            sent_.tool_calls.push_back(std::move(sent));
            continue;
        }
        auto& sent = sent_.tool_calls[i];
        if (std::string piece = growth(sent.arguments, call.arguments); !piece.empty()) {
            out.push_back({{"tool_calls", nlohmann::json::array({{{"index", i}, {"function", {{"arguments", piece}}}}})}});
            sent.arguments = call.arguments;
        }
    }
    return out;
}

nlohmann::json chat_message_json(const ParsedMessage& m) {
    nlohmann::json msg = {{"role", "assistant"}};
    msg["content"] = m.content.empty() && !m.tool_calls.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.content);
    if (!m.reasoning.empty()) msg["reasoning_content"] = m.reasoning;
    if (!m.tool_calls.empty()) {
        nlohmann::json calls = nlohmann::json::array();
        for (const auto& c : m.tool_calls) {
            calls.push_back({{"type", "function"}, {"id", c.id}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
        }
        msg["tool_calls"] = calls;
    }
    return msg;
}

}  // namespace mmojo
