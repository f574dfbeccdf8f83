// Attribute and item lookup (Jinja2's environment.getattr/getitem with the immutable
// sandbox's rules), the Python methods of str, dict and list that templates call, and
// the global functions of the transformers environment.
// Spec: Python 3 "Built-in Types" (str methods, dict methods, range), Jinja2 3.1
// sandbox (mutating methods such as list.append are refused), transformers
// chat_template_utils (raise_exception, strftime_now).
#include <algorithm>
#include <ctime>

#include "chat/builtins.h"

namespace mmojo::jinja {

const Value& arg(const CallArgs& args, size_t i, const char* name, const Value& fallback) {
    if (i < args.positional.size()) return args.positional[i];
    for (const auto& [key, value] : args.keyword) {
        if (key == name) return value;
    }
    return fallback;
}

void check_args(const CallArgs& args, const char* function, const char* const* names, size_t count) {
    if (args.positional.size() > count) {
        throw JinjaError(std::string(function) + "() takes at most " + std::to_string(count) +
                         " argument(s) (" + std::to_string(args.positional.size()) + " given)");
    }
    for (const auto& kv : args.keyword) {
        bool known = false;
        for (size_t i = 0; i < count; ++i) known = known || kv.first == names[i];
        if (!known) {
            throw JinjaError(std::string(function) + "() got an unexpected keyword argument '" +
                             kv.first + "'");
        }
    }
}

// ---- str helpers ----------------------------------------------------------------------

namespace {

bool py_space(char32_t c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) || c == 0x85 ||
           c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
           c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

// Simple case mapping: ASCII, Latin-1, Greek and Cyrillic basic letters.
char32_t upper_of(char32_t c) {
    if (c >= 'a' && c <= 'z') return c - 32;
    if ((c >= 0xe0 && c <= 0xfe && c != 0xf7)) return c - 32;
    if (c == 0xff) return 0x178;
    if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2) return c - 32;
    if (c == 0x3c2) return 0x3a3;
    if (c >= 0x430 && c <= 0x44f) return c - 32;
    if (c >= 0x450 && c <= 0x45f) return c - 80;
    return c;
}

char32_t lower_of(char32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if ((c >= 0xc0 && c <= 0xde && c != 0xd7)) return c + 32;
    if (c == 0x178) return 0xff;
    if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 32;
    if (c >= 0x410 && c <= 0x42f) return c + 32;
    if (c >= 0x400 && c <= 0x40f) return c + 80;
    return c;
}

bool is_cased(char32_t c) { return upper_of(c) != c || lower_of(c) != c; }

std::u32string chars_of(const Value& chars) {
    if (!chars.is_string()) throw JinjaError("strip arg must be None or str");
    return utf8_decode(chars.as_string());
}

std::vector<Value> split(const std::string& s, const Value& sep, int64_t maxsplit) {
    std::vector<Value> out;
    if (sep.is_none() || sep.is_undefined()) {
        std::u32string u = utf8_decode(s);
        size_t i = 0;
        while (true) {
            while (i < u.size() && py_space(u[i])) ++i;
            if (i >= u.size()) break;
            if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
                size_t end = u.size();
                while (end > i && py_space(u[end - 1])) --end;
                out.push_back(Value::string(utf8_encode(u.substr(i, end - i))));
                break;
            }
            size_t j = i;
            while (j < u.size() && !py_space(u[j])) ++j;
            out.push_back(Value::string(utf8_encode(u.substr(i, j - i))));
            i = j;
        }
        return out;
    }
    if (!sep.is_string()) throw JinjaError("must be str or None, not " + sep.type_name());
    const std::string& d = sep.as_string();
    if (d.empty()) throw JinjaError("empty separator");
    size_t start = 0;
    while (true) {
        size_t hit = s.find(d, start);
        if (hit == std::string::npos || (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit)) {
            out.push_back(Value::string(s.substr(start)));
            break;
        }
        out.push_back(Value::string(s.substr(start, hit - start)));
        start = hit + d.size();
    }
    return out;
}

std::string replace_all(const std::string& s, const std::string& old, const std::string& repl,
                        int64_t count) {
    std::string out;
    if (old.empty()) {  // Python inserts `repl` between characters (and at both ends)
        std::u32string u = utf8_decode(s);
        int64_t done = 0;
        for (size_t i = 0; i <= u.size(); ++i) {
            if (count < 0 || done < count) {
                out += repl;
                ++done;
            }
            if (i < u.size()) utf8_append(out, u[i]);
            check_string_size(out.size());
        }
        return out;
    }
    size_t start = 0;
    int64_t done = 0;
    while (count < 0 || done < count) {
        size_t hit = s.find(old, start);
        if (hit == std::string::npos) break;
        out.append(s, start, hit - start);
        out += repl;
        check_string_size(out.size());
        start = hit + old.size();
        ++done;
    }
    out.append(s, start, std::string::npos);
    check_string_size(out.size());
    return out;
}

bool affix_match(const std::string& s, const Value& affix, bool prefix) {
    auto one = [&](const Value& a) {
        if (!a.is_string()) {
            throw JinjaError(std::string(prefix ? "startswith" : "endswith") +
                             " first arg must be str or a tuple of str, not " + a.type_name());
        }
        const std::string& x = a.as_string();
        if (x.size() > s.size()) return false;
        return prefix ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
    };
    if (affix.is_tuple()) {
        return std::any_of(affix.items().begin(), affix.items().end(), one);
    }
    return one(affix);
}

// str.format with {} / {0} / {name} fields (format specs are not supported).
std::string str_format(const std::string& fmt, const CallArgs& args) {
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        char c = fmt[i];
        if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
            out += '{';
            ++i;
        } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
            out += '}';
            ++i;
        } else if (c == '{') {
            size_t close = fmt.find('}', i);
            if (close == std::string::npos) throw JinjaError("Single '{' encountered in format string");
            std::string field = fmt.substr(i + 1, close - i - 1);
            if (field.find_first_of(":!") != std::string::npos) {
                throw JinjaError("format specs in str.format are not supported");
            }
            const Value* v = nullptr;
            if (field.empty() || std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
                size_t idx = field.empty() ? auto_index++ : std::stoul(field.substr(0, 9));
                if (idx >= args.positional.size()) throw JinjaError("Replacement index " + std::to_string(idx) + " out of range for positional args tuple");
                v = &args.positional[idx];
            } else {
                for (const auto& kv : args.keyword) {
                    if (kv.first == field) v = &kv.second;
                }
                if (!v) throw JinjaError("KeyError: '" + field + "'");
            }
            out += to_str(*v);
            i = close;
        } else if (c == '}') {
            throw JinjaError("Single '}' encountered in format string");
        } else {
            out += c;
        }
        check_string_size(out.size());
    }
    return out;
}

int64_t find_sub(const std::string& s, const std::string& sub, bool reverse) {
    size_t pos = reverse ? s.rfind(sub) : s.find(sub);
    if (pos == std::string::npos) return -1;
    return static_cast<int64_t>(utf8_length(s.substr(0, pos)));  // code-point index
}

Value string_method(const Value& self, const std::string& name, CallArgs& a) {
    static const Value kNone = Value::none();
    static const Value kMinusOne = Value::integer(-1);
    const std::string& s = self.as_string();
    bool markup = self.is_markup();
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        return Value::string(py_strip(s, arg(a, 0, "chars", kNone), name != "rstrip", name != "lstrip"), markup);
    }
    if (name == "split" || name == "rsplit") {
        const Value& maxsplit = arg(a, 1, "maxsplit", kMinusOne);
        if (!maxsplit.is_int()) throw JinjaError("maxsplit must be an integer");
        if (name == "rsplit" && maxsplit.as_int() >= 0) {
            // rsplit with a limit: split from the right by reversing around the separator.
            std::vector<Value> all = split(s, arg(a, 0, "sep", kNone), -1);
            const Value& sep = arg(a, 0, "sep", kNone);
            size_t keep = static_cast<size_t>(std::min<int64_t>(maxsplit.as_int(), static_cast<int64_t>(all.size())));
            if (keep + 1 < all.size()) {
                std::string joint = sep.is_string() ? sep.as_string() : " ";
                std::string head;
                size_t head_n = all.size() - keep;
                for (size_t i = 0; i < head_n; ++i) head += (i ? joint : "") + all[i].as_string();
                std::vector<Value> out{Value::string(head)};
                out.insert(out.end(), all.begin() + static_cast<long>(head_n), all.end());
                return Value::list(std::move(out));
            }
            return Value::list(std::move(all));
        }
        return Value::list(split(s, arg(a, 0, "sep", kNone), maxsplit.as_int()));
    }
    if (name == "startswith" || name == "endswith") {
        return Value::boolean(affix_match(s, arg(a, 0, name == "startswith" ? "prefix" : "suffix", kNone),
                                          name == "startswith"));
    }
    if (name == "replace") {
        const Value& old = arg(a, 0, "old", kNone);
        const Value& repl = arg(a, 1, "new", kNone);
        const Value& count = arg(a, 2, "count", kMinusOne);
        if (!old.is_string() || !repl.is_string()) throw JinjaError("replace() arguments must be str");
        if (!count.is_int()) throw JinjaError("replace() count must be an integer");
        return Value::string(replace_all(s, old.as_string(), repl.as_string(), count.as_int()), markup);
    }
    if (name == "upper") return Value::string(py_upper(s), markup);
    if (name == "lower" || name == "casefold") return Value::string(py_lower(s), markup);
    if (name == "capitalize") return Value::string(py_capitalize(s), markup);
    if (name == "title") {
        std::u32string u = utf8_decode(s);
        bool prev_cased = false;
        for (char32_t& c : u) {
            c = prev_cased ? lower_of(c) : upper_of(c);
            prev_cased = is_cased(c);
        }
        return Value::string(utf8_encode(u), markup);
    }
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
        const Value& sub = arg(a, 0, "sub", kNone);
        if (!sub.is_string()) throw JinjaError("must be str, not " + sub.type_name());
        if (name == "count") {
            if (sub.as_string().empty()) return Value::integer(static_cast<int64_t>(utf8_length(s)) + 1);
            int64_t n = 0;
            for (size_t p = s.find(sub.as_string()); p != std::string::npos;
                 p = s.find(sub.as_string(), p + sub.as_string().size()))
                ++n;
            return Value::integer(n);
        }
        int64_t pos = find_sub(s, sub.as_string(), name[0] == 'r');
        if (pos < 0 && name.find("index") != std::string::npos) throw JinjaError("substring not found");
        return Value::integer(pos);
    }
    if (name == "join") {
        std::string out;
        size_t i = 0;
        for (const Value& item : iterate(arg(a, 0, "iterable", kNone))) {
            if (!item.is_string()) {
                throw JinjaError("sequence item " + std::to_string(i) + ": expected str instance, " +
                                 item.type_name() + " found");
            }
            if (i++) out += s;
            out += item.as_string();
            check_string_size(out.size());
        }
        return Value::string(std::move(out));
    }
    if (name == "format") return Value::string(str_format(s, a));
    if (name == "splitlines") {
        std::vector<Value> lines;
        std::u32string u = utf8_decode(s), line;
        for (size_t i = 0; i < u.size(); ++i) {
            char32_t c = u[i];
            if (c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || (c >= 0x1c && c <= 0x1e) ||
                c == 0x85 || c == 0x2028 || c == 0x2029) {
                if (c == '\r' && i + 1 < u.size() && u[i + 1] == '\n') ++i;
                lines.push_back(Value::string(utf8_encode(line)));
                line.clear();
            } else {
                line += c;
            }
        }
        if (!line.empty()) lines.push_back(Value::string(utf8_encode(line)));
        return Value::list(std::move(lines));
    }
    std::u32string u = utf8_decode(s);
    auto all = [&](auto pred) { return Value::boolean(!u.empty() && std::all_of(u.begin(), u.end(), pred)); };
    if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") {
        return all([](char32_t c) { return c >= '0' && c <= '9'; });
    }
    if (name == "isalpha") return all([](char32_t c) { return is_cased(c); });
    if (name == "isalnum") return all([](char32_t c) { return is_cased(c) || (c >= '0' && c <= '9'); });
    if (name == "isspace") return all(py_space);
    if (name == "islower" || name == "isupper") {
        bool any = false, ok = true;
        for (char32_t c : u) {
            if (!is_cased(c)) continue;
            any = true;
            ok = ok && (name == "islower" ? lower_of(c) == c : upper_of(c) == c);
        }
        return Value::boolean(any && ok);
    }
    throw JinjaError("'str' object has no attribute '" + name + "'");
}

bool is_string_method(const std::string& n) {
    static const char* const kNames[] = {
        "strip", "lstrip", "rstrip", "split", "rsplit", "startswith", "endswith", "replace",
        "upper", "lower", "casefold", "capitalize", "title", "find", "rfind", "index", "rindex",
        "count", "join", "format", "splitlines", "isdigit", "isnumeric", "isdecimal", "isalpha",
        "isalnum", "isspace", "islower", "isupper"};
    return std::find(std::begin(kNames), std::end(kNames), n) != std::end(kNames);
}

}  // namespace

std::string py_strip(const std::string& s, const Value& chars, bool left, bool right) {
    std::u32string u = utf8_decode(s);
    bool whitespace = chars.is_none() || chars.is_undefined();
    std::u32string set = whitespace ? std::u32string() : chars_of(chars);
    auto strip_it = [&](char32_t c) { return whitespace ? py_space(c) : set.find(c) != std::u32string::npos; };
    size_t b = 0, e = u.size();
    if (left) {
        while (b < e && strip_it(u[b])) ++b;
    }
    if (right) {
        while (e > b && strip_it(u[e - 1])) --e;
    }
    return utf8_encode(std::u32string_view(u).substr(b, e - b));
}

std::string py_upper(const std::string& s) {
    std::u32string u = utf8_decode(s);
    for (char32_t& c : u) c = upper_of(c);
    return utf8_encode(u);
}

std::string py_lower(const std::string& s) {
    std::u32string u = utf8_decode(s);
    for (char32_t& c : u) c = lower_of(c);
    return utf8_encode(u);
}

std::string py_capitalize(const std::string& s) {
    std::u32string u = utf8_decode(s);
    for (size_t i = 0; i < u.size(); ++i) u[i] = i == 0 ? upper_of(u[i]) : lower_of(u[i]);
    return utf8_encode(u);
}

std::string soft_str(const Value& v) { return v.is_string() ? v.as_string() : to_str(v); }

// ---- methods, attributes, items ---------------------------------------------------------

Value get_method(const Value& obj, const std::string& name) {
    if (obj.is_string() && is_string_method(name)) {
        return Value::function(name, [obj, name](Evaluator&, CallArgs& a) { return string_method(obj, name, a); });
    }
    if (obj.is_dict() && (name == "items" || name == "keys" || name == "values" || name == "get")) {
        return Value::function(name, [obj, name](Evaluator&, CallArgs& a) {
            static const Value kNone = Value::none();
            if (name == "get") {
                const Value* v = obj.dict_data().find(arg(a, 0, "key", kNone));
                return v ? *v : arg(a, 1, "default", kNone);
            }
            std::vector<Value> out;
            for (const auto& [k, v] : obj.dict_data().entries) {
                if (name == "items") out.push_back(Value::list({k, v}, true));
                else out.push_back(name == "keys" ? k : v);
            }
            return Value::list(std::move(out));
        });
    }
    if (obj.is_list() && (name == "index" || name == "count")) {
        return Value::function(name, [obj, name](Evaluator&, CallArgs& a) {
            static const Value kNone = Value::none();
            const Value& x = arg(a, 0, "value", kNone);
            int64_t n = 0;
            for (size_t i = 0; i < obj.items().size(); ++i) {
                if (!values_equal(obj.items()[i], x)) continue;
                if (name == "index") return Value::integer(static_cast<int64_t>(i));
                ++n;
            }
            if (name == "index") throw JinjaError(repr(x) + " is not in list");
            return Value::integer(n);
        });
    }
    return Value();
}

namespace {

Value missing(const Value& obj, const Value& name) {
    // Built with append: gcc 12 warns (-Wrestrict) on "literal" + std::string chains here.
    std::string hint = "'";
    hint += obj.object_repr();
    if (name.is_string()) {
        hint += "' has no attribute '";
        hint += name.as_string();
        hint += "'";
    } else {
        hint += "' has no element ";
        hint += repr(name);
    }
    return Value::undefined(std::move(hint));
}

}  // namespace

Value get_attribute(const Value& obj, const std::string& name) {
    if (obj.is_undefined()) raise_undefined(obj);
    Value method = get_method(obj, name);
    if (method.is_callable()) return method;
    if (obj.is_dict() || obj.is_namespace()) {
        if (const Value* v = obj.dict_data().find(name)) return *v;
    }
    return missing(obj, Value::string(name));
}

Value get_item(const Value& obj, const Value& key) {
    if (obj.is_undefined()) raise_undefined(obj);
    if (obj.is_dict() || obj.is_namespace()) {
        bool hashable = !(key.is_list() && !key.is_tuple()) && !key.is_dict() && !key.is_namespace() &&
                        !key.is_callable();
        if (hashable) {
            if (const Value* v = obj.dict_data().find(key)) return *v;
        }
    } else if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
        int64_t i = key.as_int();
        if (obj.is_list()) {
            auto n = static_cast<int64_t>(obj.items().size());
            if (i < 0) i += n;
            if (i >= 0 && i < n) return obj.items()[static_cast<size_t>(i)];
        } else {
            std::u32string u = utf8_decode(obj.as_string());
            auto n = static_cast<int64_t>(u.size());
            if (i < 0) i += n;
            if (i >= 0 && i < n) {
                std::string c;
                utf8_append(c, u[static_cast<size_t>(i)]);
                return Value::string(std::move(c), obj.is_markup());
            }
        }
    }
    if (key.is_string()) {
        Value method = get_method(obj, key.as_string());
        if (method.is_callable()) return method;
    }
    return missing(obj, key);
}

// ---- globals ----------------------------------------------------------------------------

namespace {

std::string strftime_py(const std::string& fmt, std::time_t now) {
    std::tm tm{};
#ifdef _WIN32
    localtime_s(&tm, &now);
#else
    localtime_r(&now, &tm);
#endif
    static const char* const kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
    static const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                          "July",    "August",   "September", "October", "November", "December"};
    std::string out;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%' || i + 1 >= fmt.size()) {
            out += fmt[i];
            continue;
        }
        bool no_pad = fmt[i + 1] == '-' && i + 2 < fmt.size();
        char c = fmt[i + (no_pad ? 2 : 1)];
        auto num = [&](int v, int width) {
            std::string d = std::to_string(v);
            if (!no_pad && static_cast<int>(d.size()) < width) d.insert(0, static_cast<size_t>(width) - d.size(), '0');
            out += d;
        };
        int hour12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
        switch (c) {
            case 'a': out += std::string(kDays[tm.tm_wday]).substr(0, 3); break;
            case 'A': out += kDays[tm.tm_wday]; break;
            case 'b': case 'h': out += std::string(kMonths[tm.tm_mon]).substr(0, 3); break;
            case 'B': out += kMonths[tm.tm_mon]; break;
            case 'd': num(tm.tm_mday, 2); break;
            case 'e': out += (tm.tm_mday < 10 && !no_pad ? " " : "") + std::to_string(tm.tm_mday); break;
            case 'H': num(tm.tm_hour, 2); break;
            case 'I': num(hour12, 2); break;
            case 'j': num(tm.tm_yday + 1, 3); break;
            case 'm': num(tm.tm_mon + 1, 2); break;
            case 'M': num(tm.tm_min, 2); break;
            case 'p': out += tm.tm_hour < 12 ? "AM" : "PM"; break;
            case 'S': num(tm.tm_sec, 2); break;
            case 'w': out += std::to_string(tm.tm_wday); break;
            case 'y': num(tm.tm_year % 100, 2); break;
            case 'Y': out += std::to_string(tm.tm_year + 1900); break;
            case '%': out += '%'; break;
            default: out += fmt.substr(i, no_pad ? 3 : 2); break;
        }
        i += no_pad ? 2 : 1;
        check_string_size(out.size());
    }
    return out;
}

}  // namespace

void install_globals(Frame& frame) {
    frame.vars["range"] = Value::function("range", [](Evaluator&, CallArgs& a) {
        if (!a.keyword.empty()) throw JinjaError("range() takes no keyword arguments");
        if (a.positional.empty() || a.positional.size() > 3) {
            throw JinjaError("range expected 1 to 3 arguments, got " + std::to_string(a.positional.size()));
        }
        for (const Value& v : a.positional) {
            if (!v.is_int() && !v.is_bool()) {
                throw JinjaError("'" + v.type_name() + "' object cannot be interpreted as an integer");
            }
        }
        int64_t start = 0, stop, step = 1;
        if (a.positional.size() == 1) {
            stop = a.positional[0].as_int();
        } else {
            start = a.positional[0].as_int();
            stop = a.positional[1].as_int();
            if (a.positional.size() == 3) step = a.positional[2].as_int();
        }
        if (step == 0) throw JinjaError("range() arg 3 must not be zero");
        // The sandbox refuses more than 100000 items (jinja2.sandbox.MAX_RANGE).
        std::vector<Value> out;
        for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
            if (out.size() >= 100000) {
                throw JinjaError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
            }
            out.push_back(Value::integer(i));
            if (__builtin_add_overflow(i, step, &i)) break;
        }
        return Value::list(std::move(out));
    });
    frame.vars["namespace"] = Value::function("namespace", [](Evaluator& ev, CallArgs& a) {
        Value ns = Value::namespace_object();
        ev.track(ns);
        for (const Value& init : a.positional) {
            if (!init.is_dict()) throw JinjaError("namespace() positional argument must be a dict");
            for (const auto& [k, v] : init.dict_data().entries) ns.dict_data().set(k, v);
        }
        for (const auto& [k, v] : a.keyword) ns.dict_data().set(k, v);
        return ns;
    });
    frame.vars["dict"] = Value::function("dict", [](Evaluator&, CallArgs& a) {
        Value d = Value::dict();
        for (const Value& init : a.positional) {
            if (!init.is_dict()) throw JinjaError("dict() positional argument must be a dict");
            for (const auto& [k, v] : init.dict_data().entries) d.dict_data().set(k, v);
        }
        for (const auto& [k, v] : a.keyword) d.dict_data().set(k, v);
        return d;
    });
    frame.vars["raise_exception"] = Value::function("raise_exception", [](Evaluator&, CallArgs& a) -> Value {
        static const Value kEmpty = Value::string("");
        throw JinjaError(to_str(arg(a, 0, "message", kEmpty)), true);
    });
    frame.vars["strftime_now"] = Value::function("strftime_now", [](Evaluator& ev, CallArgs& a) {
        static const Value kNone = Value::none();
        const Value& fmt = arg(a, 0, "format", kNone);
        if (!fmt.is_string()) throw JinjaError("strftime() argument 1 must be str, not " + fmt.type_name());
        return Value::string(strftime_py(fmt.as_string(), ev.now()));
    });
}

}  // namespace mmojo::jinja
