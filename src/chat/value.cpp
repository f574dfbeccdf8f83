// Python semantics of chat-template values: truth, equality, ordering, hashing of dict
// keys, str()/repr() text and json.dumps output, and UTF-8 helpers.
// Spec: Python 3 data model and `json` module; float repr is the shortest round-trip
// form with Python's switch to exponent notation (exp < -4 or exp >= 16).
#include "chat/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace mmojo::jinja {

int nesting_of(const Value& v) {
    if (v.is_list()) return v.list_nesting();
    if (v.is_dict()) return v.dict_data().depth;
    return 0;
}

Value Value::list(std::vector<Value> items, bool tuple) {
    Value v(Kind::kList);
    v.list_ = std::make_shared<ListData>();
    int depth = 1;
    for (const Value& item : items) depth = std::max(depth, 1 + nesting_of(item));
    if (depth > kMaxNesting) throw JinjaError("values nested too deeply");
    v.list_->depth = depth;
    v.list_->items = std::move(items);
    v.flag_ = tuple;
    return v;
}

Value Value::dict() {
    Value v(Kind::kDict);
    v.dict_ = std::make_shared<DictData>();
    return v;
}

Value Value::namespace_object() {
    Value v(Kind::kNamespace);
    v.dict_ = std::make_shared<DictData>();
    return v;
}

Value Value::function(std::string name, NativeFunction fn) {
    Value v(Kind::kCallable);
    v.fn_ = std::make_shared<Callable>(Callable{std::move(name), std::move(fn)});
    return v;
}

const std::vector<Value>& Value::items() const { return list_->items; }
std::vector<Value>& Value::mutable_items() const { return list_->items; }
int Value::list_nesting() const { return list_->depth; }
DictData& Value::dict_data() const { return *dict_; }

bool Value::truthy() const {
    switch (kind_) {
        case Kind::kUndefined:
        case Kind::kNone: return false;
        case Kind::kBool:
        case Kind::kInt: return int_ != 0;
        case Kind::kFloat: return float_ != 0.0;
        case Kind::kString: return !str_.empty();
        case Kind::kList: return !list_->items.empty();
        case Kind::kDict: return !dict_->entries.empty();
        case Kind::kCallable:
        case Kind::kNamespace: return true;
    }
    return false;
}

std::string Value::type_name() const {
    switch (kind_) {
        case Kind::kUndefined: return "Undefined";
        case Kind::kNone: return "NoneType";
        case Kind::kBool: return "bool";
        case Kind::kInt: return "int";
        case Kind::kFloat: return "float";
        case Kind::kString: return flag_ ? "Markup" : "str";
        case Kind::kList: return flag_ ? "tuple" : "list";
        case Kind::kDict: return "dict";
        case Kind::kCallable: return "function";
        case Kind::kNamespace: return "Namespace";
    }
    return "object";
}

std::string Value::object_repr() const {
    switch (kind_) {
        case Kind::kNone: return "None";
        case Kind::kString:
            if (flag_) return "markupsafe.Markup object";
            break;
        case Kind::kNamespace: return "jinja2.utils.Namespace object";
        default: break;
    }
    return type_name() + " object";
}

// ---- dict keys -------------------------------------------------------------------------

std::string hash_key(const Value& key) {
    switch (key.kind()) {
        case Value::Kind::kString: return "s" + key.as_string();
        case Value::Kind::kBool:
        case Value::Kind::kInt: return "n" + std::to_string(key.as_int());
        case Value::Kind::kFloat: {
            double d = key.as_double();
            if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e18) {
                return "n" + std::to_string(static_cast<int64_t>(d));
            }
            return "f" + python_float_repr(d);
        }
        case Value::Kind::kNone: return "N";
        case Value::Kind::kUndefined: return "U";
        case Value::Kind::kList:
            if (key.is_tuple()) {
                std::string out = "t(";
                for (const Value& item : key.items()) {
                    out += hash_key(item);
                    out += '\x1f';
                    check_string_size(out.size());
                }
                return out + ")";
            }
            break;
        default: break;
    }
    throw JinjaError("unhashable type: '" + key.type_name() + "'");
}

namespace {

// Small dicts (messages, tool calls, loop objects) are searched linearly without
// building hash text; the index is built once a dict grows past kIndexFrom entries.
constexpr size_t kIndexFrom = 12;

bool same_key(const Value& a, const Value& b) {
    if (a.is_string() && b.is_string()) return a.as_string() == b.as_string();
    if (a.is_string() || b.is_string()) return false;
    return hash_key(a) == hash_key(b);
}

}  // namespace

const Value* DictData::find(const Value& key) const {
    if (index.empty()) {
        if (!key.is_string()) hash_key(key);  // raises for unhashable keys
        for (const auto& kv : entries) {
            if (same_key(kv.first, key)) return &kv.second;
        }
        return nullptr;
    }
    auto it = index.find(hash_key(key));
    return it == index.end() ? nullptr : &entries[it->second].second;
}

const Value* DictData::find(std::string_view key) const {
    if (index.empty()) {
        for (const auto& kv : entries) {
            if (kv.first.is_string() && kv.first.as_string() == key) return &kv.second;
        }
        return nullptr;
    }
    std::string k = "s";
    k += key;
    auto it = index.find(k);
    return it == index.end() ? nullptr : &entries[it->second].second;
}

void DictData::set(const Value& key, Value value) {
    int child = 1 + std::max(nesting_of(key), nesting_of(value));
    if (child > kMaxNesting) throw JinjaError("values nested too deeply");
    depth = std::max(depth, child);
    if (const Value* existing = find(key)) {
        *const_cast<Value*>(existing) = std::move(value);
        return;
    }
    check_list_size(entries.size() + 1);
    entries.emplace_back(key, std::move(value));
    if (!index.empty()) {
        index.emplace(hash_key(key), entries.size() - 1);
    } else if (entries.size() >= kIndexFrom) {
        for (size_t i = 0; i < entries.size(); ++i) index.emplace(hash_key(entries[i].first), i);
    }
}

void DictData::set(std::string_view key, Value value) {
    if (const Value* existing = find(key)) {
        int child = 1 + nesting_of(value);
        if (child > kMaxNesting) throw JinjaError("values nested too deeply");
        depth = std::max(depth, child);
        *const_cast<Value*>(existing) = std::move(value);
        return;
    }
    set(Value::string(std::string(key)), std::move(value));
}

// ---- equality and ordering ------------------------------------------------------------

namespace {

// Work budget for one deep comparison: shared sub-lists can make a small value a huge
// tree, so the number of visited nodes is bounded too, not only the depth.
constexpr size_t kCompareBudget = 5'000'000;

bool equal_impl(const Value& a, const Value& b, int depth, size_t& budget) {
    if (depth > kMaxNesting) throw JinjaError("values nested too deeply to compare");
    if (++budget > kCompareBudget) throw JinjaError("comparison of values too complex");
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
        return a.as_int() == b.as_int();
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case Value::Kind::kUndefined:
        case Value::Kind::kNone: return true;
        case Value::Kind::kString: return a.as_string() == b.as_string();
        case Value::Kind::kList: {
            if (a.is_tuple() != b.is_tuple()) return false;
            if (&a.items() == &b.items()) return true;
            const auto& x = a.items();
            const auto& y = b.items();
            if (x.size() != y.size()) return false;
            for (size_t i = 0; i < x.size(); ++i) {
                if (!equal_impl(x[i], y[i], depth + 1, budget)) return false;
            }
            return true;
        }
        case Value::Kind::kDict: {
            const DictData& x = a.dict_data();
            const DictData& y = b.dict_data();
            if (&x == &y) return true;
            if (x.entries.size() != y.entries.size()) return false;
            for (const auto& [key, value] : x.entries) {
                const Value* other = y.find(key);
                if (!other || !equal_impl(value, *other, depth + 1, budget)) return false;
            }
            return true;
        }
        case Value::Kind::kCallable: return &a.callable() == &b.callable();
        case Value::Kind::kNamespace: return &a.dict_data() == &b.dict_data();
        default: return false;
    }
}

int compare_impl(const Value& a, const Value& b, const char* op, int depth, size_t& budget) {
    if (depth > kMaxNesting) throw JinjaError("values nested too deeply to compare");
    if (++budget > kCompareBudget) throw JinjaError("comparison of values too complex");
    if (a.is_undefined() || b.is_undefined()) {
        const Value& u = a.is_undefined() ? a : b;
        throw JinjaError(u.as_string().empty() ? "undefined value" : u.as_string());
    }
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) {
            double x = a.as_double(), y = b.as_double();
            return x < y ? -1 : (x > y ? 1 : 0);
        }
        return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
    }
    if (a.is_string() && b.is_string()) {
        int c = a.as_string().compare(b.as_string());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
        const auto& x = a.items();
        const auto& y = b.items();
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (equal_impl(x[i], y[i], depth + 1, budget)) continue;
            return compare_impl(x[i], y[i], op, depth + 1, budget);
        }
        return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
    }
    throw JinjaError(std::string("'") + op + "' not supported between instances of '" +
                     a.type_name() + "' and '" + b.type_name() + "'");
}

}  // namespace

bool values_equal(const Value& a, const Value& b, int depth) {
    size_t budget = 0;
    return equal_impl(a, b, depth, budget);
}

int compare_values(const Value& a, const Value& b, const char* op) {
    size_t budget = 0;
    return compare_impl(a, b, op, 0, budget);
}

// ---- text ----------------------------------------------------------------------------

void check_string_size(size_t bytes) {
    if (bytes > kMaxStringBytes) {
        throw JinjaError("string longer than the limit of " + std::to_string(kMaxStringBytes) +
                         " bytes");
    }
}

void check_list_size(size_t items) {
    if (items > kMaxListItems) {
        throw JinjaError("list longer than the limit of " + std::to_string(kMaxListItems) +
                         " items");
    }
}

std::string python_float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);  // "-d.ddde+XX"
    bool negative = !sci.empty() && sci[0] == '-';
    if (negative) sci.erase(0, 1);
    size_t e = sci.find('e');
    std::string digits = sci.substr(0, e);
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    int exponent = std::stoi(sci.substr(e + 1));
    std::string out = negative ? "-" : "";
    if (exponent < -4 || exponent >= 16) {
        out += digits[0];
        if (digits.size() > 1) out += "." + digits.substr(1);
        char exp_buf[16];
        std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+',
                      std::abs(exponent));
        return out + exp_buf;
    }
    if (exponent < 0) {
        out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
        out += digits + std::string(static_cast<size_t>(exponent) + 1 - digits.size(), '0') + ".0";
    } else {
        size_t point = static_cast<size_t>(exponent) + 1;
        out += digits.substr(0, point) + "." + digits.substr(point);
    }
    return out;
}

namespace {

bool printable(char32_t c) {
    if (c < 0x20 || c == 0x7f) return false;
    if (c < 0x7f) return true;
    if (c <= 0xa0 || c == 0xad) return false;
    if ((c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
        (c >= 0x205f && c <= 0x206f) || c == 0x3000 || c == 0xfeff)
        return false;
    if ((c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff9 && c <= 0xfffb)) return false;
    return c <= 0x10ffff;
}

void repr_string(std::string& out, const std::string& s) {
    char quote = '\'';
    if (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) quote = '"';
    out += quote;
    for (char32_t c : utf8_decode(s)) {
        char buf[16];
        if (c == static_cast<char32_t>(quote) || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (printable(c)) {
            utf8_append(out, c);
        } else {
            if (c < 0x100) {
                std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
            } else if (c < 0x10000) {
                std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
            } else {
                std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(c));
            }
            out += buf;
        }
    }
    out += quote;
}

void repr_into(std::string& out, const Value& v, int depth) {
    if (depth > kMaxNesting) throw JinjaError("value nested too deeply to print");
    switch (v.kind()) {
        case Value::Kind::kUndefined: out += "Undefined"; break;
        case Value::Kind::kString:
            if (v.is_markup()) {
                out += "Markup(";
                repr_string(out, v.as_string());
                out += ")";
            } else {
                repr_string(out, v.as_string());
            }
            break;
        case Value::Kind::kList: {
            out += v.is_tuple() ? '(' : '[';
            const auto& items = v.items();
            for (size_t i = 0; i < items.size(); ++i) {
                if (i) out += ", ";
                repr_into(out, items[i], depth + 1);
                check_string_size(out.size());
            }
            if (v.is_tuple() && items.size() == 1) out += ',';
            out += v.is_tuple() ? ')' : ']';
            break;
        }
        case Value::Kind::kDict: {
            out += '{';
            bool first = true;
            for (const auto& [key, value] : v.dict_data().entries) {
                if (!first) out += ", ";
                first = false;
                repr_into(out, key, depth + 1);
                out += ": ";
                repr_into(out, value, depth + 1);
                check_string_size(out.size());
            }
            out += '}';
            break;
        }
        case Value::Kind::kNamespace: {
            Value d = Value::dict();
            d.dict_data() = v.dict_data();
            out += "<Namespace ";
            repr_into(out, d, depth + 1);
            out += '>';
            break;
        }
        default: out += to_str(v); break;
    }
    check_string_size(out.size());
}

}  // namespace

std::string to_str(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::kUndefined: return "";
        case Value::Kind::kNone: return "None";
        case Value::Kind::kBool: return v.as_bool() ? "True" : "False";
        case Value::Kind::kInt: return std::to_string(v.as_int());
        case Value::Kind::kFloat: return python_float_repr(v.as_double());
        case Value::Kind::kString: return v.as_string();
        case Value::Kind::kCallable: return "<function " + v.callable().name + ">";
        default: return repr(v);
    }
}

std::string repr(const Value& v, int depth) {
    std::string out;
    repr_into(out, v, depth);
    return out;
}

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    check_string_size(out.size());
    return out;
}

// ---- json.dumps -------------------------------------------------------------------------

namespace {

void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
    out += '"';
    for (char32_t c : utf8_decode(s)) {
        char buf[16];
        switch (c) {
            case '"': out += "\\\""; continue;
            case '\\': out += "\\\\"; continue;
            case '\n': out += "\\n"; continue;
            case '\r': out += "\\r"; continue;
            case '\t': out += "\\t"; continue;
            case '\b': out += "\\b"; continue;
            case '\f': out += "\\f"; continue;
            default: break;
        }
        if (c < 0x20 || (ensure_ascii && c > 0x7e)) {
            if (c >= 0x10000) {
                char32_t v = c - 0x10000;
                std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x",
                              static_cast<unsigned>(0xd800 + (v >> 10)),
                              static_cast<unsigned>(0xdc00 + (v & 0x3ff)));
            } else {
                std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
            }
            out += buf;
        } else {
            utf8_append(out, c);
        }
    }
    out += '"';
}

std::string json_float(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    return python_float_repr(d);
}

std::string json_key(const Value& key) {
    switch (key.kind()) {
        case Value::Kind::kString: return key.as_string();
        case Value::Kind::kBool: return key.as_bool() ? "true" : "false";
        case Value::Kind::kInt: return std::to_string(key.as_int());
        case Value::Kind::kFloat: return json_float(key.as_double());
        case Value::Kind::kNone: return "null";
        default:
            throw JinjaError("keys must be str, int, float, bool or None, not " +
                             key.type_name());
    }
}

void json_into(std::string& out, const Value& v, const JsonOptions& o, int depth) {
    if (depth > kMaxNesting) throw JinjaError("value nested too deeply for tojson");
    auto newline = [&](int level) {
        if (!o.has_indent) return;
        out += '\n';
        for (int i = 0; i < level; ++i) out += o.indent;
        check_string_size(out.size());
    };
    switch (v.kind()) {
        case Value::Kind::kNone: out += "null"; break;
        case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; break;
        case Value::Kind::kInt: out += std::to_string(v.as_int()); break;
        case Value::Kind::kFloat: out += json_float(v.as_double()); break;
        case Value::Kind::kString: json_string(out, v.as_string(), o.ensure_ascii); break;
        case Value::Kind::kList: {
            const auto& items = v.items();
            if (items.empty()) {
                out += "[]";
                break;
            }
            out += '[';
            for (size_t i = 0; i < items.size(); ++i) {
                if (i) out += o.item_sep;
                newline(depth + 1);
                json_into(out, items[i], o, depth + 1);
                check_string_size(out.size());
            }
            newline(depth);
            out += ']';
            break;
        }
        case Value::Kind::kDict: {
            const auto& entries = v.dict_data().entries;
            if (entries.empty()) {
                out += "{}";
                break;
            }
            std::vector<std::pair<std::string, const Value*>> items;
            items.reserve(entries.size());
            for (const auto& [key, value] : entries) items.emplace_back(json_key(key), &value);
            if (o.sort_keys) {
                std::stable_sort(items.begin(), items.end(),
                                 [](const auto& a, const auto& b) { return a.first < b.first; });
            }
            out += '{';
            for (size_t i = 0; i < items.size(); ++i) {
                if (i) out += o.item_sep;
                newline(depth + 1);
                json_string(out, items[i].first, o.ensure_ascii);
                out += o.key_sep;
                json_into(out, *items[i].second, o, depth + 1);
                check_string_size(out.size());
            }
            newline(depth);
            out += '}';
            break;
        }
        default:
            throw JinjaError("Object of type " + v.type_name() + " is not JSON serializable");
    }
    check_string_size(out.size());
}

}  // namespace

std::string to_json(const Value& v, const JsonOptions& options) {
    std::string out;
    json_into(out, v, options, 0);
    return out;
}

// ---- UTF-8 ------------------------------------------------------------------------------

std::u32string utf8_decode(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        auto b = static_cast<unsigned char>(s[i]);
        size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        char32_t c = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
        bool ok = len > 0 && i + len <= s.size();
        for (size_t k = 1; ok && k < len; ++k) {
            auto cb = static_cast<unsigned char>(s[i + k]);
            if ((cb & 0xc0) != 0x80) ok = false;
            c = (c << 6) | (cb & 0x3f);
        }
        // Reject overlong forms, surrogates and values past U+10FFFF.
        if (ok && ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
                   (len == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff)))
            ok = false;
        if (!ok) {
            out += static_cast<char32_t>(0xdc00 + b);  // 0xdc80..0xdcff for bytes >= 0x80
            i += 1;
        } else {
            out += c;
            i += len;
        }
    }
    return out;
}

void utf8_append(std::string& out, char32_t c) {
    if (c >= 0xdc80 && c <= 0xdcff) {
        out += static_cast<char>(c - 0xdc00);  // an escaped invalid byte
    } else if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xc0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xe0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (c & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (c & 0x3f));
    }
}

std::string utf8_encode(std::u32string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : s) utf8_append(out, c);
    return out;
}

size_t utf8_length(std::string_view s) { return utf8_decode(s).size(); }

}  // namespace mmojo::jinja
