// JSON span scanning and cursor matching over partial model output (see output_scan.h).
#include "chat/output_scan.h"

#include <algorithm>

namespace mmojo::chat_scan {

bool is_json_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string_view trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && is_json_space(s[b])) ++b;
    while (e > b && is_json_space(s[e - 1])) --e;
    return s.substr(b, e - b);
}

namespace {

size_t skip_space(std::string_view t, size_t pos) {
    while (pos < t.size() && is_json_space(t[pos])) ++pos;
    return pos;
}

// A string literal starting at t[pos] == '"': end one past the closing quote.
JsonSpan scan_string(std::string_view t, size_t pos) {
    JsonSpan span{Scan::kMore, pos, t.size()};
    for (size_t i = pos + 1; i < t.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(t[i]);
        if (c == '\\') {
            if (i + 1 >= t.size()) return span;
            const char e = t[i + 1];
            if (e == 'u') {
                for (size_t k = 0; k < 4; ++k) {
                    if (i + 2 + k >= t.size()) return span;
                    if (!std::isxdigit(static_cast<unsigned char>(t[i + 2 + k]))) return {Scan::kBad, pos, i};
                }
                i += 5;
            } else if (std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos) {
                ++i;
            } else {
                return {Scan::kBad, pos, i};
            }
        } else if (c == '"') {
            return {Scan::kDone, pos, i + 1};
        } else if (c < 0x20) {
            return {Scan::kBad, pos, i};
        }
    }
    return span;
}

// A number or literal: the run of characters that can belong to one, checked when ended.
JsonSpan scan_atom(std::string_view t, size_t pos) {
    size_t i = pos;
    auto atom_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.'; };
    while (i < t.size() && atom_char(t[i])) ++i;
    const std::string_view atom = t.substr(pos, i - pos);
    if (atom.empty()) return {Scan::kBad, pos, pos};
    if (i == t.size()) {
        // May still grow: a prefix of a literal or a number so far.
        for (std::string_view lit : {"true", "false", "null"}) {
            if (lit.substr(0, std::min(lit.size(), atom.size())) == atom && atom.size() <= lit.size()) {
                return {Scan::kMore, pos, t.size()};
            }
        }
        if (atom[0] == '-' || std::isdigit(static_cast<unsigned char>(atom[0]))) return {Scan::kMore, pos, t.size()};
        return {Scan::kBad, pos, i};
    }
    if (!nlohmann::json::accept(atom)) return {Scan::kBad, pos, i};
    return {Scan::kDone, pos, i};
}

JsonSpan scan_value(std::string_view t, size_t pos, int depth);

JsonSpan scan_container(std::string_view t, size_t pos, int depth) {
    const bool array = t[pos] == '[';
    JsonMembers m = scan_members(t, pos, array);
    (void)depth;
    return {m.status, pos, m.status == Scan::kDone ? m.end : (m.status == Scan::kMore ? t.size() : m.end)};
}

thread_local int g_depth = 0;  // nesting of scan_members calls (bounded by kMaxJsonDepth)

JsonSpan scan_value(std::string_view t, size_t pos, int depth) {
    pos = skip_space(t, pos);
    if (pos >= t.size()) return {Scan::kMore, pos, t.size()};
    const char c = t[pos];
    if (c == '"') return scan_string(t, pos);
    if (c == '{' || c == '[') return scan_container(t, pos, depth);
    return scan_atom(t, pos);
}

}  // namespace

JsonSpan scan_json(std::string_view text, size_t pos) { return scan_value(text, pos, 0); }

JsonMembers scan_members(std::string_view t, size_t pos, bool array) {
    JsonMembers out;
    pos = skip_space(t, pos);
    if (pos >= t.size()) {
        out.status = Scan::kMore;
        return out;
    }
    if (t[pos] != (array ? '[' : '{')) {
        out.end = pos;
        return out;
    }
    if (g_depth >= kMaxJsonDepth) {
        out.end = pos;
        return out;
    }
    struct DepthGuard {
        DepthGuard() { ++g_depth; }
        ~DepthGuard() { --g_depth; }
    } guard;
    const char close = array ? ']' : '}';
    size_t i = skip_space(t, pos + 1);
    auto more = [&]() {
        out.status = Scan::kMore;
        out.end = t.size();
        return out;
    };
    auto bad = [&](size_t at) {
        out.status = Scan::kBad;
        out.end = at;
        return out;
    };
    if (i >= t.size()) return more();
    if (t[i] == close) {
        out.status = Scan::kDone;
        out.end = i + 1;
        return out;
    }
    while (true) {
        JsonMember member;
        if (!array) {
            i = skip_space(t, i);
            if (i >= t.size()) return more();
            if (t[i] != '"') return bad(i);
            JsonSpan key = scan_string(t, i);
            if (key.status != Scan::kDone) return key.status == Scan::kMore ? more() : bad(key.end);
            const auto decoded = nlohmann::json::parse(t.substr(key.begin, key.end - key.begin), nullptr, false);
            if (!decoded.is_string()) return bad(key.begin);  // e.g. not UTF-8
            member.key = decoded.get<std::string>();
            i = skip_space(t, key.end);
            if (i >= t.size()) return more();
            if (t[i] != ':') return bad(i);
            ++i;
        }
        i = skip_space(t, i);
        if (i >= t.size()) return more();
        member.value = scan_value(t, i, 0);
        if (member.value.status == Scan::kBad) return bad(member.value.end);
        out.members.push_back(member);
        if (member.value.status == Scan::kMore) return more();
        i = skip_space(t, member.value.end);
        if (i >= t.size()) return more();
        if (t[i] == ',') {
            ++i;
            continue;
        }
        if (t[i] == close) {
            out.status = Scan::kDone;
            out.end = i + 1;
            return out;
        }
        return bad(i);
    }
}

const JsonMember* find_member(const JsonMembers& m, std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        for (const auto& member : m.members) {
            if (member.key == key) return &member;
        }
    }
    return nullptr;
}

std::string json_quote(std::string_view text) {
    static const char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (char ch : text) {
        const unsigned char c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 15];
                } else {
                    out += ch;
                }
        }
    }
    return out + "\"";
}

void Cursor::skip_ws() { pos_ = skip_space(text_, pos_); }

Scan Cursor::literal(std::string_view lit) {
    const std::string_view rest = text_.substr(std::min(pos_, text_.size()));
    if (rest.size() >= lit.size()) {
        if (rest.substr(0, lit.size()) != lit) return Scan::kBad;
        pos_ += lit.size();
        return Scan::kDone;
    }
    return lit.substr(0, rest.size()) == rest ? Scan::kMore : Scan::kBad;
}

Scan Cursor::ws_literal(std::string_view lit) {
    const size_t saved = pos_;
    skip_ws();
    if (at_end()) return Scan::kMore;
    const Scan s = literal(lit);
    if (s == Scan::kBad) pos_ = saved;
    return s;
}

Scan Cursor::until(std::string_view marker, std::string_view& before) {
    const size_t at = text_.find(marker, pos_);
    if (at == std::string_view::npos) return Scan::kMore;
    before = text_.substr(pos_, at - pos_);
    pos_ = at + marker.size();
    return Scan::kDone;
}

MarkerHit find_marker(std::string_view text, std::string_view marker, size_t from) {
    const size_t at = text.find(marker, from);
    if (at != std::string_view::npos) return {true, at};
    // Longest suffix that is a proper prefix of the marker.
    const size_t start = std::max(from, text.size() >= marker.size() ? text.size() - marker.size() + 1 : size_t(0));
    for (size_t p = start; p < text.size(); ++p) {
        const std::string_view tail = text.substr(p);
        if (marker.substr(0, tail.size()) == tail) return {false, p};
    }
    return {false, text.size()};
}

MarkerHit find_first_marker(std::string_view text, const std::vector<std::string_view>& markers, size_t from,
                            size_t* which) {
    MarkerHit best{false, text.size()};
    size_t best_index = 0;
    for (size_t k = 0; k < markers.size(); ++k) {
        const MarkerHit hit = find_marker(text, markers[k], from);
        if (hit.found && (!best.found || hit.pos < best.pos)) {
            best = hit;
            best_index = k;
        } else if (!best.found && !hit.found && hit.pos < best.pos) {
            best.pos = hit.pos;
        }
    }
    // A complete marker wins unless a partial one starts before it (it cannot: a partial
    // one reaches the end of the text, after any complete one).
    if (which) *which = best_index;
    return best;
}

}  // namespace mmojo::chat_scan
