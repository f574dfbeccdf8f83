// JSON Schema -> GBNF (see json_schema_grammar.h). One pass over the schema writes one rule
// per subschema; shared pieces (whitespace, strings, numbers, any value) are written once
// under the caller's prefix. The grammar always writes a subset of what the schema allows:
// declared properties in their declared order, no undeclared properties unless
// additionalProperties asks for them, bounded whitespace and number lengths.
#include "sampling/json_schema_grammar.h"

#include <cmath>
#include <map>
#include <set>

#include "sampling/grammar.h"
#include "sampling/regex_grammar.h"

namespace mmojo {

namespace {

// Ordered: properties are written in the order the schema declares them.
using json = nlohmann::ordered_json;

// Keywords that only annotate, or that a subset never violates: ignored.
const std::set<std::string> kAnnotations = {
    "title", "description", "default", "examples", "$schema", "$id", "$comment", "readOnly", "writeOnly",
    "deprecated", "$anchor", "$defs", "definitions", "nullable", "discriminator", "contentEncoding",
    "contentMediaType"};
// Keywords the converter honours.
const std::set<std::string> kSupported = {
    "type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "properties", "required",
    "additionalProperties", "items", "minItems", "maxItems", "minLength", "maxLength", "format", "pattern",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
// Keywords that constrain and are not honoured: a 400. (Other unknown keywords constrain
// nothing in JSON Schema and are ignored, as validators ignore them.)
const std::set<std::string> kUnsupported = {
    "not", "if", "then", "else", "patternProperties", "propertyNames", "dependentRequired",
    "dependentSchemas", "dependencies", "unevaluatedProperties", "unevaluatedItems", "contains",
    "minContains", "maxContains", "prefixItems", "additionalItems", "minProperties", "maxProperties",
    "multipleOf", "$dynamicRef", "$recursiveRef"};
const std::set<std::string> kFormats = {"date", "time", "date-time", "uuid", "email"};

constexpr int64_t kNumberCap = 999999999999999;   // 15 digits: bounds are clamped to +-this

bool all_of(const std::string& s, char c) { return s.find_first_not_of(c) == std::string::npos; }

// Digit strings a..b of equal length (no sign, leading zeros allowed inside).
std::string same_length_range(const std::string& a, const std::string& b) {
    if (a.empty()) return "";
    if (a == b) return gbnf_literal(a);
    const size_t rest = a.size() - 1;
    const std::string any_rest = rest ? " [0-9]{" + std::to_string(rest) + "}" : "";
    if (a[0] == b[0]) return gbnf_literal(a.substr(0, 1)) + " " + same_length_range(a.substr(1), b.substr(1));
    const bool low_full = all_of(a.substr(1), '0'), high_full = all_of(b.substr(1), '9');
    std::vector<std::string> alts;
    char start = low_full ? a[0] : char(a[0] + 1);
    char end = high_full ? b[0] : char(b[0] - 1);
    if (!low_full) alts.push_back(gbnf_literal(a.substr(0, 1)) + " " + same_length_range(a.substr(1), std::string(rest, '9')));
    if (start <= end) alts.push_back(std::string("[") + start + "-" + end + "]" + any_rest);
    if (!high_full) alts.push_back(gbnf_literal(b.substr(0, 1)) + " " + same_length_range(std::string(rest, '0'), b.substr(1)));
    std::string out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
    return out + ")";
}

// Decimal integers lo..hi without sign or leading zeros (0 <= lo <= hi).
std::string unsigned_range(int64_t lo, int64_t hi) {
    std::vector<std::string> alts;
    int64_t p = 1;   // 10^(digits-1)
    for (int digits = 1; digits <= 16; ++digits, p *= 10) {
        const int64_t first = digits == 1 ? 0 : p, last = p * 10 - 1;
        const int64_t a = std::max(lo, first), b = std::min(hi, last);
        if (a <= b) alts.push_back(same_length_range(std::to_string(a), std::to_string(b)));
    }
    if (alts.size() == 1) return alts[0];
    std::string out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
    return out + ")";
}

// Decimal integers lo..hi (lo <= hi), '-' for negatives, "-0" never written.
std::string signed_range(int64_t lo, int64_t hi) {
    std::vector<std::string> alts;
    if (lo < 0) alts.push_back("\"-\" " + unsigned_range(std::max<int64_t>(1, -std::min<int64_t>(hi, -1)), -lo));
    if (hi >= 0) alts.push_back(unsigned_range(std::max<int64_t>(lo, 0), hi));
    if (alts.size() == 1) return alts[0];
    return "(" + alts[0] + " | " + alts[1] + ")";
}

bool value_has_type(const json& v, const std::string& t) {
    if (t == "string") return v.is_string();
    if (t == "integer") return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
    if (t == "number") return v.is_number();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    return false;
}

class SchemaConverter {
public:
    SchemaConverter(const json& root, std::string prefix, const JsonSchemaLimits& limits)
        : root_(root), prefix_(std::move(prefix)), limits_(limits) {
        if (prefix_.empty() || prefix_.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
                                   std::string::npos) {
            throw JsonSchemaError("json_schema: the rule name '" + prefix_ + "' must be letters, digits and '-'");
        }
        used_.insert(prefix_);
    }

    std::string run(bool with_root) {
        if (with_root) define(prefix_, visit(root_, "", 0));
        if (!unsupported_.empty()) {
            std::string list;
            for (const auto& u : unsupported_) list += (list.empty() ? "" : ", ") + u;
            throw JsonSchemaError("json_schema: unsupported keywords: " + list, unsupported_);
        }
        std::string out;
        for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
        if (out.size() > limits_.max_grammar_bytes) {
            throw JsonSchemaError("json_schema: the grammar would be " + std::to_string(out.size()) +
                                  " bytes, more than the " + std::to_string(limits_.max_grammar_bytes) + " allowed");
        }
        return out;
    }

    // Shared rules, written on first use.
    std::string prim(const std::string& what) {
        const std::string name = prefix_ + "-" + what;
        if (prims_.count(what)) return name;
        prims_.insert(what);
        used_.insert(name);
        const std::string p = prefix_ + "-";
        std::string body;
        if (what == "ws") body = "| \" \" | \"\\n\" [ \\t]{0,16}";
        else if (what == "char") body = "[^\"\\\\\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" [0-9a-cA-Ce-fE-F] [0-9a-fA-F]{3} | \"u\" [dD] [0-7] [0-9a-fA-F]{2})";
        else if (what == "plain") body = "[^\"\\\\\\x00-\\x1F]";
        else if (what == "string") body = "\"\\\"\" " + prim("char") + "* \"\\\"\"";
        else if (what == "integer") body = "\"-\"? (\"0\" | [1-9] [0-9]{0,15})";
        else if (what == "number") body = prim("integer") + " (\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?";
        else if (what == "boolean") body = "\"true\" | \"false\"";
        else if (what == "null") body = "\"null\"";
        else if (what == "digits") body = "[0-9]{1,16}";
        else if (what == "value") {
            body = prim("object") + " | " + prim("array") + " | " + prim("string") + " | " + prim("number") + " | " +
                   prim("boolean") + " | " + prim("null");
        } else if (what == "object") {
            const std::string kv = prim("string") + " " + prim("ws") + " \":\" " + prim("ws") + " " + prim("value") + " " + prim("ws");
            body = "\"{\" " + prim("ws") + " (" + kv + " (\",\" " + prim("ws") + " " + kv + ")*)? \"}\"";
        } else if (what == "array") {
            const std::string item = prim("value") + " " + prim("ws");
            body = "\"[\" " + prim("ws") + " (" + item + " (\",\" " + prim("ws") + " " + item + ")*)? \"]\"";
        } else if (what == "date") {
            const std::string d31 = "(\"0\" [1-9] | [12] [0-9] | \"3\" [01])";
            const std::string d30 = "(\"0\" [1-9] | [12] [0-9] | \"30\")";
            const std::string d28 = "(\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8])";
            body = "(\"19\" | \"20\") [0-9]{2} \"-\" (\"0\" [13578] \"-\" " + d31 + " | \"1\" [02] \"-\" " + d31 +
                   " | \"0\" [469] \"-\" " + d30 + " | \"11-\" " + d30 + " | \"02-\" " + d28 + ")";
        } else if (what == "time") {
            body = "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,6})? "
                   "(\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])";
        } else if (what == "date-time") {
            body = prim("date") + " \"T\" " + prim("time");
        } else if (what == "uuid") {
            body = "[0-9a-f]{8} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{12}";
        } else if (what == "email") {
            body = "[a-zA-Z0-9._+-]{1,32} \"@\" [a-zA-Z0-9-]{1,32} (\".\" [a-zA-Z]{2,8}){1,2}";
        }
        rules_.emplace_back(name, body);
        return name;
    }

private:
    // --- rules ----------------------------------------------------------------------------
    std::string fresh_name(const std::string& hint) {
        std::string clean;
        for (char c : hint) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            clean += ok ? c : '-';
        }
        if (clean.size() > 40) clean.resize(40);
        std::string base = prefix_ + (clean.empty() ? "" : "-" + clean);
        std::string name = base;
        for (int i = 1; used_.count(name) || prims_name(name); ++i) name = base + "-" + std::to_string(i);
        used_.insert(name);
        if (used_.size() > limits_.max_rules) {
            throw JsonSchemaError("json_schema: the schema needs more than " + std::to_string(limits_.max_rules) + " rules");
        }
        return name;
    }
    bool prims_name(const std::string& name) const {
        for (const auto& p : {"ws", "char", "plain", "string", "integer", "number", "boolean", "null", "digits", "value",
                              "object", "array", "date", "time", "date-time", "uuid", "email"}) {
            if (name == prefix_ + "-" + p) return true;
        }
        return false;
    }
    void define(const std::string& name, const std::string& body) { rules_.emplace_back(name, body); }
    std::string rule(const std::string& hint, const std::string& body) {
        const std::string name = fresh_name(hint);
        define(name, body);
        return name;
    }

    void unsupported(const std::string& keyword, const std::string& path, const std::string& why = "") {
        unsupported_.push_back(keyword + " at " + (path.empty() ? "/" : path) + (why.empty() ? "" : " (" + why + ")"));
    }
    [[noreturn]] void bad(const std::string& path, const std::string& what) const {
        throw JsonSchemaError("json_schema: " + what + " at " + (path.empty() ? "/" : path));
    }

    static std::string child(const std::string& path, const std::string& key) {
        std::string k;
        for (char c : key) k += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
        return path + "/" + k;
    }

    // --- schemas --------------------------------------------------------------------------
    // A GBNF expression (usually a rule name) for `s`.
    std::string visit(const json& s, const std::string& path, int depth) {
        if (depth > limits_.max_depth) bad(path, "subschemas nested deeper than " + std::to_string(limits_.max_depth));
        if (s.is_boolean()) {
            if (!s.get<bool>()) bad(path, "the schema false matches nothing");
            return prim("value");
        }
        if (!s.is_object()) bad(path, "a schema must be an object or a boolean");
        std::vector<std::string> constraining;
        for (const auto& [key, value] : s.items()) {
            if (kUnsupported.count(key)) unsupported(key, path);
            if (kSupported.count(key)) constraining.push_back(key);
        }
        if (s.contains("uniqueItems") && s["uniqueItems"] != json(false)) unsupported("uniqueItems", path);
        auto only = [&](const std::string& main, const std::set<std::string>& allowed) {
            for (const auto& k : constraining) {
                if (k != main && !allowed.count(k)) unsupported(k, path, "beside " + main);
            }
        };
        if (s.contains("$ref")) {
            only("$ref", {});
            return ref(s["$ref"], child(path, "$ref"), depth);
        }
        if (s.contains("const")) {
            only("const", {"type"});
            return gbnf_literal(s["const"].dump());
        }
        if (s.contains("enum")) {
            only("enum", {"type"});
            return enumeration(s, path);
        }
        for (const char* key : {"anyOf", "oneOf", "allOf"}) {
            if (!s.contains(key)) continue;
            only(key, {});
            const json& list = s[key];
            if (!list.is_array() || list.empty()) bad(child(path, key), std::string("'") + key + "' must be a non-empty list");
            if (std::string(key) == "allOf" && list.size() != 1) {
                unsupported("allOf", path, "only a single member is supported");
                return prim("value");
            }
            std::string alts;
            for (size_t i = 0; i < list.size(); ++i) {
                alts += (i ? " | " : "") + visit(list[i], child(child(path, key), std::to_string(i)), depth + 1);
            }
            return rule(path_hint(path), alts);
        }
        std::vector<std::string> types;
        if (s.contains("type")) {
            const json& t = s["type"];
            if (t.is_string()) {
                types.push_back(t.get<std::string>());
            } else if (t.is_array() && !t.empty()) {
                for (const auto& x : t) {
                    if (!x.is_string()) bad(child(path, "type"), "'type' must be a string or a list of strings");
                    types.push_back(x.get<std::string>());
                }
            } else {
                bad(child(path, "type"), "'type' must be a string or a list of strings");
            }
        } else {
            types.push_back(implied_type(s));
        }
        std::string alts;
        for (size_t i = 0; i < types.size(); ++i) alts += (i ? " | " : "") + typed(s, types[i], path, depth);
        return types.size() == 1 ? alts : rule(path_hint(path), alts);
    }

    static std::string path_hint(const std::string& path) {
        const size_t slash = path.rfind('/');
        return slash == std::string::npos ? path : path.substr(slash + 1);
    }

    static std::string implied_type(const json& s) {
        for (const char* k : {"properties", "additionalProperties", "required"}) if (s.contains(k)) return "object";
        for (const char* k : {"items", "minItems", "maxItems"}) if (s.contains(k)) return "array";
        for (const char* k : {"minLength", "maxLength", "pattern", "format"}) if (s.contains(k)) return "string";
        for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) if (s.contains(k)) return "number";
        return "any";
    }

    std::string typed(const json& s, const std::string& type, const std::string& path, int depth) {
        if (type == "object") return object(s, path, depth);
        if (type == "array") return array(s, path, depth);
        if (type == "string") return string(s, path);
        if (type == "integer" || type == "number") return number(s, path, type == "integer");
        if (type == "boolean") return prim("boolean");
        if (type == "null") return prim("null");
        if (type == "any") return prim("value");
        bad(child(path, "type"), "unknown type '" + type + "'");
    }

    std::string ref(const json& target, const std::string& path, int depth) {
        if (!target.is_string()) bad(path, "'$ref' must be a string");
        const std::string r = target.get<std::string>();
        if (r.empty() || r[0] != '#') {
            unsupported("$ref", path, "only references inside the schema (#...) are supported");
            return prim("value");
        }
        auto it = refs_.find(r);
        if (it != refs_.end()) return it->second;
        const json* node = nullptr;
        try {
            node = &root_.at(json::json_pointer(r.substr(1)));
        } catch (const std::exception&) {
            bad(path, "'$ref' " + r + " does not point into the schema");
        }
        const std::string name = fresh_name("ref-" + path_hint(r));
        refs_.emplace(r, name);   // before visiting: recursive schemas refer to it
        const std::string body = visit(*node, r.substr(1), depth + 1);
        define(name, body);
        return name;
    }

    std::string enumeration(const json& s, const std::string& path) {
        const json& values = s["enum"];
        if (!values.is_array() || values.empty()) bad(child(path, "enum"), "'enum' must be a non-empty list");
        std::vector<std::string> types;
        if (s.contains("type")) {
            if (s["type"].is_string()) types.push_back(s["type"].get<std::string>());
            if (s["type"].is_array()) for (const auto& t : s["type"]) if (t.is_string()) types.push_back(t.get<std::string>());
        }
        std::string alts;
        for (const auto& v : values) {
            bool ok = types.empty();
            for (const auto& t : types) ok = ok || value_has_type(v, t);
            if (ok) alts += (alts.empty() ? "" : " | ") + gbnf_literal(v.dump());
        }
        if (alts.empty()) bad(path, "no value of 'enum' has the schema's type");
        return rule(path_hint(path), alts);
    }

    std::string object(const json& s, const std::string& path, int depth) {
        const json empty = json::object();
        const json& props = s.contains("properties") ? s["properties"] : empty;
        if (!props.is_object()) bad(child(path, "properties"), "'properties' must be an object");
        std::set<std::string> required;
        if (s.contains("required")) {
            if (!s["required"].is_array()) bad(child(path, "required"), "'required' must be a list");
            for (const auto& r : s["required"]) {
                if (!r.is_string()) bad(child(path, "required"), "'required' must list strings");
                required.insert(r.get<std::string>());
            }
        }
        // additionalProperties: absent -> none written (a subset); false -> none; true or
        // a schema -> any number after the declared ones, with keys that differ from them.
        std::string extra_value;
        const bool extra_given = s.contains("additionalProperties");
        if (extra_given) {
            const json& a = s["additionalProperties"];
            if (a.is_boolean()) {
                if (a.get<bool>()) extra_value = prim("value");
            } else {
                extra_value = visit(a, child(path, "additionalProperties"), depth + 1);
            }
        }
        struct Member { std::string kv; bool required; };
        std::vector<Member> members;
        const std::string ws = prim("ws");
        for (const auto& [name, sub] : props.items()) {
            const std::string value = visit(sub, child(child(path, "properties"), name), depth + 1);
            members.push_back({gbnf_literal(json(name).dump()) + " " + ws + " \":\" " + ws + " " + value + " " + ws,
                               required.count(name) > 0});
        }
        for (const auto& r : required) {
            if (props.contains(r)) continue;
            if (extra_given && extra_value.empty()) bad(path, "the required property '" + r + "' is not allowed by additionalProperties: false");
            const std::string value = extra_value.empty() ? prim("value") : extra_value;
            members.push_back({gbnf_literal(json(r).dump()) + " " + ws + " \":\" " + ws + " " + value + " " + ws, true});
        }
        std::string extra_kv;
        if (!extra_value.empty()) {
            std::vector<std::string> names;
            for (const auto& m : props.items()) names.push_back(m.key());
            for (const auto& r : required) names.push_back(r);
            extra_kv = other_key(names, path) + " " + ws + " \":\" " + ws + " " + extra_value + " " + ws;
        }
        // tail[i]: members i.. each as `"," kv` (optional ones may be left out), then extras.
        const size_t n = members.size();
        std::vector<std::string> tail(n + 1);
        tail[n] = extra_kv.empty() ? "" : "(\",\" " + ws + " " + extra_kv + ")*";
        for (size_t i = n; i-- > 0;) {
            const std::string item = "\",\" " + ws + " " + members[i].kv;
            std::string t = members[i].required ? item : "(" + item + ")?";
            if (!tail[i + 1].empty()) t += " " + tail[i + 1];
            // Long tails become rules: each first member repeats the tail after it.
            tail[i] = t.size() > 200 ? rule(path_hint(path) + "-tail", t) : t;
        }
        // The first member written is any member up to and including the first required one.
        std::vector<std::string> firsts;
        size_t i = 0;
        for (; i < n; ++i) {
            firsts.push_back(members[i].kv + (tail[i + 1].empty() ? "" : " " + tail[i + 1]));
            if (members[i].required) break;
        }
        const bool any_required = i < n;
        if (!any_required && !extra_kv.empty()) firsts.push_back(extra_kv + " " + tail[n]);
        std::string body = "\"{\" " + ws;
        if (!firsts.empty()) {
            std::string alts;
            for (size_t k = 0; k < firsts.size(); ++k) alts += (k ? " | " : "") + firsts[k];
            body += " (" + alts + ")" + (any_required ? "" : "?");
        }
        return rule(path_hint(path), body + " \"}\"");
    }

    // A JSON string key, without escapes, different from every name in `names`: a walk
    // down the trie of the names that leaves it or stops where no name stops.
    std::string other_key(const std::vector<std::string>& names, const std::string& path) {
        struct Node { std::map<char, size_t> next; bool end = false; };
        std::vector<Node> trie(1);
        for (const auto& name : names) {
            // Names that need escapes in JSON can never equal an unescaped key.
            bool plain = true;
            for (unsigned char c : name) plain = plain && c >= 0x20 && c != '"' && c != '\\';
            if (!plain) continue;
            size_t at = 0;
            for (char c : name) {
                auto it = trie[at].next.find(c);
                if (it == trie[at].next.end()) {
                    trie.push_back({});
                    it = trie[at].next.emplace(c, trie.size() - 1).first;
                }
                at = it->second;
            }
            trie[at].end = true;
        }
        const std::string plain = prim("plain");
        const std::string close = "\"\\\"\"";
        std::vector<std::string> rule_of(trie.size());
        for (size_t k = trie.size(); k-- > 0;) rule_of[k] = fresh_name(path_hint(path) + "-key");
        for (size_t k = 0; k < trie.size(); ++k) {
            std::vector<std::string> alts;
            if (!trie[k].end) alts.push_back(close);
            // Leave the trie: a character no name continues with (bytes of multi-byte
            // characters are compared as bytes, so non-ASCII letters always leave it).
            // A name continuing with a non-ASCII character: no non-ASCII character leaves
            // here (a subset; the trie compares bytes).
            std::string excluded;
            bool non_ascii = false;
            for (const auto& [c, to] : trie[k].next) {
                if (uint8_t(c) < 0x80) excluded += gbnf_escape_code_point(uint8_t(c), true);
                non_ascii = non_ascii || uint8_t(c) >= 0x80;
            }
            if (non_ascii) excluded += "\\x80-\\U0010FFFF";
            alts.push_back("[^" + excluded + "\"\\\\\\x00-\\x1F] " + plain + "* " + close);
            for (const auto& [c, to] : trie[k].next) {
                if (uint8_t(c) >= 0x80) continue;
                alts.push_back(gbnf_literal(std::string(1, c)) + " " + rule_of[to]);
            }
            std::string body;
            for (size_t a = 0; a < alts.size(); ++a) body += (a ? " | " : "") + alts[a];
            define(rule_of[k], body);
        }
        return "\"\\\"\" " + rule_of[0];
    }

    std::string array(const json& s, const std::string& path, int depth) {
        const std::string item = s.contains("items") ? visit(s["items"], child(path, "items"), depth + 1) : prim("value");
        const int64_t min = json_count(s, "minItems", 0, path);
        const int64_t max = json_count(s, "maxItems", -1, path);
        return rule(path_hint(path), "\"[\" " + prim("ws") + " " + repeat_list(item + " " + prim("ws"), min, max, path) + " \"]\"");
    }

    // `unit` separated by "," ws, min..max times (max < 0: unbounded).
    std::string repeat_list(const std::string& unit, int64_t min, int64_t max, const std::string& path) {
        if (max >= 0 && max < min) bad(path, "maxItems is below minItems");
        if (max == 0) return "";
        const std::string more = "(\",\" " + prim("ws") + " " + unit + ")";
        const std::string count = max < 0 ? "{" + std::to_string(std::max<int64_t>(min - 1, 0)) + ",}"
                                          : "{" + std::to_string(std::max<int64_t>(min - 1, 0)) + "," + std::to_string(max - 1) + "}";
        const std::string list = unit + " " + more + count;
        return min == 0 ? "(" + list + ")?" : list;
    }

    int64_t json_count(const json& s, const char* key, int64_t fallback, const std::string& path) {
        if (!s.contains(key)) return fallback;
        const json& v = s[key];
        if (!v.is_number_integer() || v.get<int64_t>() < 0) bad(child(path, key), std::string("'") + key + "' must be a non-negative integer");
        const int64_t n = v.get<int64_t>();
        if (n > int64_t(limits_.max_items)) {
            bad(child(path, key), std::string("'") + key + "' above " + std::to_string(limits_.max_items) + " is not supported");
        }
        return n;
    }

    std::string string(const json& s, const std::string& path) {
        const bool has_len = s.contains("minLength") || s.contains("maxLength");
        const std::string quote = "\"\\\"\"";
        if (s.contains("format")) {
            const json& f = s["format"];
            if (!f.is_string()) bad(child(path, "format"), "'format' must be a string");
            const std::string name = f.get<std::string>();
            if (!kFormats.count(name)) {
                unsupported("format", path, "'" + name + "'; supported: date, time, date-time, uuid, email");
                return prim("string");
            }
            if (has_len || s.contains("pattern")) unsupported("format", path, "together with minLength/maxLength/pattern");
            return rule(path_hint(path), quote + " " + prim(name) + " " + quote);
        }
        if (s.contains("pattern")) {
            if (!s["pattern"].is_string()) bad(child(path, "pattern"), "'pattern' must be a string");
            if (has_len) unsupported("pattern", path, "together with minLength/maxLength");
            try {
                return rule(path_hint(path), quote + " " + regex_to_gbnf(s["pattern"].get<std::string>()) + " " + quote);
            } catch (const RegexError& e) {
                unsupported("pattern", path, e.what());
                return prim("string");
            }
        }
        if (!has_len) return prim("string");
        const int64_t min = json_count(s, "minLength", 0, path);
        const int64_t max = json_count(s, "maxLength", -1, path);
        if (max >= 0 && max < min) bad(path, "maxLength is below minLength");
        const std::string count = "{" + std::to_string(min) + "," + (max < 0 ? "" : std::to_string(max)) + "}";
        return rule(path_hint(path), quote + " " + prim("char") + count + " " + quote);
    }

    std::string number(const json& s, const std::string& path, bool integer) {
        bool any_bound = false;
        double lo = -double(kNumberCap), hi = double(kNumberCap);
        bool lo_excl = false, hi_excl = false;
        auto read = [&](const char* key, double& bound, bool& excl, bool exclusive, bool is_min) {
            if (!s.contains(key)) return;
            const json& v = s[key];
            if (v.is_boolean()) {
                unsupported(key, path, "the boolean form of draft 4");
                return;
            }
            if (!v.is_number()) bad(child(path, key), std::string("'") + key + "' must be a number");
            const double x = v.get<double>();
            if (!std::isfinite(x)) bad(child(path, key), std::string("'") + key + "' must be finite");
            const double clamped = std::max(-double(kNumberCap), std::min(double(kNumberCap), x));
            if (is_min ? clamped >= bound : clamped <= bound) {
                bound = clamped;
                excl = exclusive && clamped == x;
            }
            any_bound = true;
        };
        read("minimum", lo, lo_excl, false, true);
        read("exclusiveMinimum", lo, lo_excl, true, true);
        read("maximum", hi, hi_excl, false, false);
        read("exclusiveMaximum", hi, hi_excl, true, false);
        if (!any_bound) return prim(integer ? "integer" : "number");
        // Integers in the range, then (numbers) I.F written so that every value is inside.
        const int64_t ilo = lo_excl ? int64_t(std::floor(lo)) + 1 : int64_t(std::ceil(lo));
        const int64_t ihi = hi_excl ? int64_t(std::ceil(hi)) - 1 : int64_t(std::floor(hi));
        std::vector<std::string> alts;
        if (ilo <= ihi) alts.push_back(signed_range(ilo, ihi));
        if (!integer) {
            const std::string frac = " \".\" " + prim("digits");
            // x = I.F in [I, I+1): I >= ilo and I + 1 <= hi.
            const int64_t plo = std::max<int64_t>(ilo, 0), phi = int64_t(std::floor(hi)) - 1;
            if (plo <= phi) alts.push_back(unsigned_range(plo, phi) + frac);
            // x = -(M.F) in (-(M+1), -M]: -(M+1) >= lo and -M <= hi (< hi when exclusive).
            const int64_t mlo = std::max<int64_t>(0, hi_excl ? int64_t(std::floor(-hi)) + 1 : int64_t(std::ceil(-hi)));
            const int64_t mhi = int64_t(std::floor(-lo)) - 1;
            if (mlo <= mhi) alts.push_back("\"-\" " + unsigned_range(mlo, mhi) + frac);
        }
        if (alts.empty()) bad(path, "no number satisfies the bounds");
        std::string body;
        for (size_t i = 0; i < alts.size(); ++i) body += (i ? " | " : "") + alts[i];
        return rule(path_hint(path), body);
    }

    const json& root_;
    std::string prefix_;
    JsonSchemaLimits limits_;
    std::vector<std::pair<std::string, std::string>> rules_;
    std::set<std::string> used_;
    std::set<std::string> prims_;
    std::map<std::string, std::string> refs_;
    std::vector<std::string> unsupported_;
};

}  // namespace

std::string json_schema_to_gbnf_rule(const nlohmann::ordered_json& schema, const std::string& rule_name,
                                     const JsonSchemaLimits& limits) {
    try {
        return SchemaConverter(schema, rule_name, limits).run(true);
    } catch (const nlohmann::json::exception& e) {
        throw JsonSchemaError(std::string("json_schema: ") + e.what());
    } catch (const GrammarError& e) {
        throw JsonSchemaError(std::string("json_schema: ") + e.what());
    }
}

std::string json_schema_to_gbnf_rule(const nlohmann::json& schema, const std::string& rule_name,
                                     const JsonSchemaLimits& limits) {
    return json_schema_to_gbnf_rule(nlohmann::ordered_json(schema), rule_name, limits);
}

std::string json_schema_to_gbnf(const nlohmann::ordered_json& schema, const JsonSchemaLimits& limits) {
    return json_schema_to_gbnf_rule(schema, "root", limits);
}

std::string json_schema_to_gbnf(const nlohmann::json& schema, const JsonSchemaLimits& limits) {
    return json_schema_to_gbnf_rule(schema, "root", limits);
}

std::string json_any_value_gbnf(const std::string& rule_name) {
    SchemaConverter c(json::object(), rule_name, {});
    const std::string value = c.prim("value");
    return rule_name + " ::= " + value + "\n" + c.run(false);
}

std::string json_any_object_gbnf(const std::string& rule_name) {
    SchemaConverter c(json::object(), rule_name, {});
    const std::string object = c.prim("object");
    return rule_name + " ::= " + object + "\n" + c.run(false);
}

}  // namespace mmojo
