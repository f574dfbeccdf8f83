// Jinja2 builtin filters and tests used by chat templates, with Jinja2 3.1's argument
// names and defaults. `tojson` is transformers' override: json.dumps(x,
// ensure_ascii=False, indent=None, separators=None, sort_keys=False), no HTML escaping.
// Markup (from |safe and |escape) is kept through the string filters that keep it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "chat/builtins.h"

namespace mmojo::jinja {
namespace {

const Value kNoneValue = Value::none();
const Value kFalse = Value::boolean(false);

Value str_result(const Value& input, std::string s) {
    return Value::string(std::move(s), input.is_markup());
}

// Jinja2's make_attrgetter: "a.b.0" looks up a, then b, then item 0.
Value attribute_path(const Value& item, const Value& attribute) {
    if (!attribute.is_string()) return get_item(item, attribute);
    Value cur = item;
    const std::string& path = attribute.as_string();
    size_t start = 0;
    while (true) {
        size_t dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        cur = digits && part.size() < 18 ? get_item(cur, Value::integer(std::stoll(part)))
                                         : get_item(cur, Value::string(part));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return cur;
}

// Sort key with Jinja2's case-insensitive default (strings compared lower-cased).
Value sort_key(const Value& v, bool case_sensitive) {
    return (!case_sensitive && v.is_string()) ? Value::string(py_lower(v.as_string())) : v;
}

void stable_sort(std::vector<Value>& items, std::vector<Value>& keys, bool reverse) {
    std::vector<size_t> order(items.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return reverse ? compare_values(keys[b], keys[a], "<") < 0 : compare_values(keys[a], keys[b], "<") < 0;
    });
    std::vector<Value> sorted;
    sorted.reserve(items.size());
    for (size_t i : order) sorted.push_back(items[i]);
    items = std::move(sorted);
}

// select/reject/selectattr/rejectattr: args[first] is the test name, the rest its args.
Value select_items(Evaluator& ev, const Value& value, CallArgs& args, bool by_attribute, bool keep_when) {
    size_t first = by_attribute ? 1 : 0;
    if (by_attribute && args.positional.empty()) throw JinjaError("Missing parameter for attribute name");
    std::string test_name;
    CallArgs test_args;
    if (args.positional.size() > first) {
        if (!args.positional[first].is_string()) throw JinjaError("test name must be a string");
        test_name = args.positional[first].as_string();
        test_args.positional.assign(args.positional.begin() + static_cast<long>(first) + 1, args.positional.end());
        test_args.keyword = args.keyword;
    }
    std::vector<Value> out;
    if (!value.truthy()) return Value::list();  // Jinja2: `if value:` before iterating
    for (const Value& item : iterate(value)) {
        ev.tick();
        Value subject = by_attribute ? attribute_path(item, args.positional[0]) : item;
        bool ok = test_name.empty() ? subject.truthy() : apply_test(ev, test_name, subject, test_args);
        if (ok == keep_when) out.push_back(item);
    }
    return Value::list(std::move(out));
}

Value map_items(Evaluator& ev, const Value& value, CallArgs& args) {
    std::vector<Value> out;
    if (!value.truthy()) return Value::list();  // Jinja2: `if value:` before iterating
    const Value* attribute = nullptr;
    const Value* dflt = nullptr;
    for (const auto& [k, v] : args.keyword) {
        if (k == "attribute") attribute = &v;
        if (k == "default") dflt = &v;
    }
    if (attribute) {
        for (const Value& item : iterate(value)) {
            Value v = attribute_path(item, *attribute);
            out.push_back(v.is_undefined() && dflt ? *dflt : v);
        }
        return Value::list(std::move(out));
    }
    if (args.positional.empty() || !args.positional[0].is_string()) throw JinjaError("map requires a filter name");
    std::string name = args.positional[0].as_string();
    CallArgs rest;
    rest.positional.assign(args.positional.begin() + 1, args.positional.end());
    rest.keyword = args.keyword;
    for (const Value& item : iterate(value)) {
        ev.tick();
        CallArgs copy = rest;
        out.push_back(apply_filter(ev, name, item, copy));
    }
    return Value::list(std::move(out));
}

Value to_json_filter(const Value& value, const CallArgs& args) {
    static const char* const kNames[] = {"ensure_ascii", "indent", "separators", "sort_keys"};
    check_args(args, "tojson", kNames, 4);
    JsonOptions o;
    o.ensure_ascii = arg(args, 0, "ensure_ascii", kFalse).truthy();
    const Value& indent = arg(args, 1, "indent", kNoneValue);
    if (indent.is_string()) {
        o.has_indent = true;
        o.indent = indent.as_string();
    } else if (indent.is_int() || indent.is_bool()) {
        o.has_indent = true;
        o.indent.assign(static_cast<size_t>(std::clamp<int64_t>(indent.as_int(), 0, 64)), ' ');
    } else if (!indent.is_none()) {
        throw JinjaError("tojson indent must be an int or a str");
    }
    if (o.has_indent) o.item_sep = ",";
    const Value& separators = arg(args, 2, "separators", kNoneValue);
    if (separators.is_list() && separators.items().size() == 2 && separators.items()[0].is_string() &&
        separators.items()[1].is_string()) {
        o.item_sep = separators.items()[0].as_string();
        o.key_sep = separators.items()[1].as_string();
    } else if (!separators.is_none()) {
        throw JinjaError("tojson separators must be a (item, key) pair of strings");
    }
    o.sort_keys = arg(args, 3, "sort_keys", kFalse).truthy();
    return Value::string(to_json(value, o));
}

// Python int(str, base) for the `int` filter; false when the text is not an integer.
bool parse_int(const std::string& text, int base, int64_t& out) {
    std::string s = py_strip(text, kNoneValue, true, true);
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    if (s.empty()) return false;
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, base);
    if (errno != 0 || end != s.c_str() + s.size()) return false;
    out = v;
    return true;
}

bool parse_float(const std::string& text, double& out) {
    std::string s = py_strip(text, kNoneValue, true, true);
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    if (s.empty() || s.find_first_of("xXpP") != std::string::npos) return false;
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size();
}

Value indent_filter(Evaluator& ev, const Value& value, const CallArgs& args) {
    static const Value kFour = Value::integer(4);
    const Value& width = arg(args, 0, "width", kFour);
    bool first = arg(args, 1, "first", kFalse).truthy();
    bool blank = arg(args, 2, "blank", kFalse).truthy();
    std::string pad = width.is_string() ? width.as_string()
                                        : std::string(static_cast<size_t>(std::clamp<int64_t>(
                                                          width.is_number() ? width.as_int() : 4, 0, 256)),
                                                      ' ');
    CallArgs none;
    Value lines_v = get_method(Value::string(soft_str(value) + "\n"), "splitlines");
    // Jinja2 appends "\n" before splitlines() so that a trailing newline is kept.
    const std::vector<Value> lines = lines_v.callable().fn(ev, none).items();
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i].as_string();
        if (i > 0) {
            out += '\n';
            if (blank || !line.empty()) out += pad;
        }
        out += line;
        check_string_size(out.size());
    }
    if (first) out = pad + out;
    return str_result(value, std::move(out));
}

Value round_filter(const Value& value, const CallArgs& args) {
    static const Value kZero = Value::integer(0);
    static const Value kCommon = Value::string("common");
    const Value& precision_v = arg(args, 0, "precision", kZero);
    const Value& method = arg(args, 1, "method", kCommon);
    if (!value.is_number()) throw JinjaError("type " + value.type_name() + " doesn't define __round__ method");
    int precision = static_cast<int>(std::clamp<int64_t>(precision_v.is_number() ? precision_v.as_int() : 0, -30, 30));
    double v = value.as_double();
    double scale = std::pow(10.0, precision);
    std::string m = method.is_string() ? method.as_string() : "";
    if (m == "ceil") return Value::number(std::ceil(v * scale) / scale);
    if (m == "floor") return Value::number(std::floor(v * scale) / scale);
    if (m != "common") throw JinjaError("method must be common, ceil or floor");
    if (precision <= 0 || !std::isfinite(v)) return Value::number(std::nearbyint(v * scale) / scale);
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", precision, v);
    return Value::number(std::strtod(buf, nullptr));
}

Value min_max(const Value& value, const CallArgs& args, bool want_max) {
    bool case_sensitive = arg(args, 0, "case_sensitive", kFalse).truthy();
    const Value& attribute = arg(args, 1, "attribute", kNoneValue);
    std::vector<Value> items = iterate(value);
    if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
    size_t best = 0;
    auto key = [&](const Value& v) { return sort_key(attribute.is_none() ? v : attribute_path(v, attribute), case_sensitive); };
    for (size_t i = 1; i < items.size(); ++i) {
        int c = compare_values(key(items[i]), key(items[best]), want_max ? ">" : "<");
        if (want_max ? c > 0 : c < 0) best = i;
    }
    return items[best];
}

}  // namespace

Value apply_filter(Evaluator& ev, const std::string& name, const Value& value, CallArgs& args) {
    const std::string& n = name;
    if (n == "tojson") return to_json_filter(value, args);
    if (n == "default" || n == "d") {
        static const Value kEmpty = Value::string("");
        bool boolean = arg(args, 1, "boolean", kFalse).truthy();
        if (value.is_undefined() || (boolean && !value.truthy())) return arg(args, 0, "default_value", kEmpty);
        return value;
    }
    if (n == "length" || n == "count") {
        switch (value.kind()) {
            case Value::Kind::kUndefined: return Value::integer(0);
            case Value::Kind::kString: return Value::integer(static_cast<int64_t>(utf8_length(value.as_string())));
            case Value::Kind::kList: return Value::integer(static_cast<int64_t>(value.items().size()));
            case Value::Kind::kDict: return Value::integer(static_cast<int64_t>(value.dict_data().entries.size()));
            default: throw JinjaError("object of type '" + value.type_name() + "' has no len()");
        }
    }
    if (n == "trim") return str_result(value, py_strip(soft_str(value), arg(args, 0, "chars", kNoneValue), true, true));
    if (n == "string") return value.is_string() ? value : Value::string(to_str(value));
    if (n == "upper") return str_result(value, py_upper(soft_str(value)));
    if (n == "lower") return str_result(value, py_lower(soft_str(value)));
    if (n == "capitalize") return str_result(value, py_capitalize(soft_str(value)));
    if (n == "title") {
        std::u32string u = utf8_decode(soft_str(value));
        bool word_start = true;
        for (char32_t& c : u) {
            bool boundary = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || c == ' ' ||
                            (c >= 0x09 && c <= 0x0d);
            std::string one;
            utf8_append(one, c);
            one = word_start ? py_upper(one) : py_lower(one);
            c = utf8_decode(one)[0];
            word_start = boundary;
        }
        return str_result(value, utf8_encode(u));
    }
    if (n == "safe") return Value::string(to_str(value), true);
    if (n == "escape" || n == "e" || n == "forceescape") {
        if (value.is_markup() && n != "forceescape") return value;
        return Value::string(html_escape(to_str(value)), true);
    }
    if (n == "replace") {
        static const Value kAll = Value::none();
        CallArgs method_args;
        method_args.positional.push_back(arg(args, 0, "old", kNoneValue));
        method_args.positional.push_back(arg(args, 1, "new", kNoneValue));
        const Value& count = arg(args, 2, "count", kAll);
        if (!count.is_none()) method_args.positional.push_back(count);
        Value method = get_method(Value::string(soft_str(value), value.is_markup()), "replace");
        return method.callable().fn(ev, method_args);
    }
    if (n == "join") {
        static const Value kEmpty = Value::string("");
        const Value& sep = arg(args, 0, "d", kEmpty);
        const Value& attribute = arg(args, 1, "attribute", kNoneValue);
        std::string out;
        size_t i = 0;
        for (const Value& item : iterate(value)) {
            if (i++) out += soft_str(sep);
            out += to_str(attribute.is_none() ? item : attribute_path(item, attribute));
            check_string_size(out.size());
        }
        return Value::string(std::move(out));
    }
    if (n == "list") return Value::list(iterate(value));
    if (n == "items") {
        if (value.is_undefined()) return Value::list();
        if (!value.is_dict()) throw JinjaError("Can only get item pairs from a mapping.");
        std::vector<Value> out;
        for (const auto& [k, v] : value.dict_data().entries) out.push_back(Value::list({k, v}, true));
        return Value::list(std::move(out));
    }
    if (n == "first" || n == "last") {
        std::vector<Value> items = iterate(value);
        if (items.empty()) {
            return Value::undefined(std::string("No ") + (n == "first" ? "first" : "last") + " item, sequence was empty.");
        }
        return n == "first" ? items.front() : items.back();
    }
    if (n == "reverse") {
        if (value.is_string()) {
            std::u32string u = utf8_decode(value.as_string());
            std::reverse(u.begin(), u.end());
            return str_result(value, utf8_encode(u));
        }
        std::vector<Value> items = iterate(value);
        std::reverse(items.begin(), items.end());
        return Value::list(std::move(items));
    }
    if (n == "selectattr" || n == "rejectattr") return select_items(ev, value, args, true, n == "selectattr");
    if (n == "select" || n == "reject") return select_items(ev, value, args, false, n == "select");
    if (n == "map") return map_items(ev, value, args);
    if (n == "indent") return indent_filter(ev, value, args);
    if (n == "dictsort") {
        static const Value kKey = Value::string("key");
        if (!value.is_dict()) throw JinjaError("You can only sort by either a mapping");
        bool case_sensitive = arg(args, 0, "case_sensitive", kFalse).truthy();
        const Value& by = arg(args, 1, "by", kKey);
        bool reverse = arg(args, 2, "reverse", kFalse).truthy();
        int pos = by.is_string() && by.as_string() == "value" ? 1 : 0;
        if (!(by.is_string() && (by.as_string() == "key" || by.as_string() == "value"))) {
            throw JinjaError("You can only sort by either \"key\" or \"value\"");
        }
        std::vector<Value> items, keys;
        for (const auto& [k, v] : value.dict_data().entries) {
            items.push_back(Value::list({k, v}, true));
            keys.push_back(sort_key(pos == 0 ? k : v, case_sensitive));
        }
        stable_sort(items, keys, reverse);
        return Value::list(std::move(items));
    }
    if (n == "sort" || n == "unique") {
        bool reverse = n == "sort" && arg(args, 0, "reverse", kFalse).truthy();
        bool case_sensitive = arg(args, n == "sort" ? 1 : 0, "case_sensitive", kFalse).truthy();
        const Value& attribute = arg(args, n == "sort" ? 2 : 1, "attribute", kNoneValue);
        std::vector<Value> items = iterate(value), keys;
        for (const Value& item : items) {
            keys.push_back(sort_key(attribute.is_none() ? item : attribute_path(item, attribute), case_sensitive));
        }
        if (n == "sort") {
            stable_sort(items, keys, reverse);
            return Value::list(std::move(items));
        }
        std::vector<Value> out, seen;
        for (size_t i = 0; i < items.size(); ++i) {
            ev.tick();
            if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return values_equal(s, keys[i]); })) {
                seen.push_back(keys[i]);
                out.push_back(items[i]);
            }
        }
        return Value::list(std::move(out));
    }
    if (n == "int") {
        static const Value kZero = Value::integer(0);
        static const Value kTen = Value::integer(10);
        const Value& dflt = arg(args, 0, "default", kZero);
        const Value& base = arg(args, 1, "base", kTen);
        if (value.is_int() || value.is_bool()) return Value::integer(value.as_int());
        if (value.is_float()) {
            double d = std::trunc(value.as_double());
            if (!(std::fabs(d) < 9.2e18)) return dflt;
            return Value::integer(static_cast<int64_t>(d));
        }
        if (value.is_string()) {
            int64_t i;
            int b = base.is_int() ? static_cast<int>(std::clamp<int64_t>(base.as_int(), 0, 36)) : 10;
            if (b == 1) b = 10;
            if (parse_int(value.as_string(), b, i)) return Value::integer(i);
            double d;
            if (parse_float(value.as_string(), d) && std::fabs(d) < 9.2e18) {
                return Value::integer(static_cast<int64_t>(std::trunc(d)));
            }
        }
        return dflt;
    }
    if (n == "float") {
        static const Value kZero = Value::number(0.0);
        const Value& dflt = arg(args, 0, "default", kZero);
        if (value.is_number()) return Value::number(value.as_double());
        double d;
        if (value.is_string() && parse_float(value.as_string(), d)) return Value::number(d);
        return dflt;
    }
    if (n == "abs") {
        if (value.is_float()) return Value::number(std::fabs(value.as_double()));
        if (value.is_int() || value.is_bool()) {
            if (value.as_int() == INT64_MIN) throw JinjaError("integer overflow");
            return Value::integer(std::llabs(value.as_int()));
        }
        throw JinjaError("bad operand type for abs(): '" + value.type_name() + "'");
    }
    if (n == "round") return round_filter(value, args);
    if (n == "min" || n == "max") return min_max(value, args, n == "max");
    if (n == "sum") {
        static const Value kZero = Value::integer(0);
        const Value& attribute = arg(args, 0, "attribute", kNoneValue);
        Value total = arg(args, 1, "start", kZero);
        for (const Value& item : iterate(value)) {
            total = binary_op("+", total, attribute.is_none() ? item : attribute_path(item, attribute));
        }
        return total;
    }
    if (n == "attr") {
        const Value& name_v = arg(args, 0, "name", kNoneValue);
        if (!name_v.is_string()) throw JinjaError("attribute name must be a string");
        return get_attribute(value, name_v.as_string());
    }
    if (n == "format") {
        Value params;
        if (!args.keyword.empty()) {
            params = Value::dict();
            for (const auto& [k, v] : args.keyword) params.dict_data().set(k, v);
        } else {
            params = Value::list(args.positional, true);
        }
        return binary_op("%", Value::string(soft_str(value), value.is_markup()), params);
    }
    if (n == "center") {
        static const Value kWidth = Value::integer(80);
        const Value& w = arg(args, 0, "width", kWidth);
        std::u32string u = utf8_decode(soft_str(value));
        int64_t width = std::clamp<int64_t>(w.is_number() ? w.as_int() : 80, 0, 100000);
        if (static_cast<int64_t>(u.size()) >= width) return str_result(value, utf8_encode(u));
        size_t pad = static_cast<size_t>(width) - u.size();
        size_t left = pad / 2 + (pad & static_cast<size_t>(width) & 1);
        return str_result(value, std::string(left, ' ') + utf8_encode(u) + std::string(pad - left, ' '));
    }
    if (n == "wordcount") {
        CallArgs none;
        Value words = get_method(Value::string(soft_str(value)), "split");
        return Value::integer(static_cast<int64_t>(words.callable().fn(ev, none).items().size()));
    }
    if (n == "batch") {
        const Value& size_v = arg(args, 0, "linecount", kNoneValue);
        const Value& fill = arg(args, 1, "fill_with", kNoneValue);
        if (!size_v.is_int() || size_v.as_int() <= 0) throw JinjaError("batch size must be a positive integer");
        auto size = static_cast<size_t>(size_v.as_int());
        std::vector<Value> out, cur;
        for (const Value& item : iterate(value)) {
            cur.push_back(item);
            if (cur.size() == size) out.push_back(Value::list(std::exchange(cur, {})));
        }
        if (!cur.empty()) {
            while (!fill.is_none() && cur.size() < size) cur.push_back(fill);
            out.push_back(Value::list(std::move(cur)));
        }
        return Value::list(std::move(out));
    }
    throw JinjaError("No filter named '" + n + "'.");
}

bool has_filter(const std::string& n) {
    static const char* const kNames[] = {
        "tojson", "default", "d", "length", "count", "trim", "string", "upper", "lower",
        "capitalize", "title", "safe", "escape", "e", "forceescape", "replace", "join", "list",
        "items", "first", "last", "reverse", "selectattr", "rejectattr", "select", "reject", "map",
        "indent", "dictsort", "sort", "unique", "int", "float", "abs", "round", "min", "max", "sum",
        "attr", "format", "center", "wordcount", "batch"};
    return std::find(std::begin(kNames), std::end(kNames), n) != std::end(kNames);
}

bool apply_test(Evaluator& ev, const std::string& n, const Value& v, CallArgs& args) {
    (void)ev;
    auto other = [&]() -> const Value& {
        if (args.positional.empty()) throw JinjaError("test '" + n + "' needs an argument");
        return args.positional[0];
    };
    if (n == "defined") return !v.is_undefined();
    if (n == "undefined") return v.is_undefined();
    if (n == "none") return v.is_none();
    if (n == "boolean") return v.is_bool();
    if (n == "true") return v.is_bool() && v.as_bool();
    if (n == "false") return v.is_bool() && !v.as_bool();
    if (n == "integer") return v.is_int();
    if (n == "float") return v.is_float();
    if (n == "number") return v.is_number();
    if (n == "string") return v.is_string();
    if (n == "mapping") return v.is_dict();
    if (n == "iterable" || n == "sequence") return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
    if (n == "callable") return v.is_callable() || v.is_undefined();
    if (n == "escaped") return v.is_markup();
    if (n == "eq" || n == "equalto" || n == "==") return values_equal(v, other());
    if (n == "ne" || n == "!=") return !values_equal(v, other());
    if (n == "lt" || n == "lessthan" || n == "<") return compare_values(v, other(), "<") < 0;
    if (n == "le" || n == "<=") return compare_values(v, other(), "<=") <= 0;
    if (n == "gt" || n == "greaterthan" || n == ">") return compare_values(v, other(), ">") > 0;
    if (n == "ge" || n == ">=") return compare_values(v, other(), ">=") >= 0;
    if (n == "in") return contains(other(), v);
    if (n == "sameas") {
        const Value& o = other();
        if (v.kind() != o.kind()) return false;
        if (v.is_list()) return &v.items() == &o.items();
        if (v.is_dict() || v.is_namespace()) return &v.dict_data() == &o.dict_data();
        return values_equal(v, o);
    }
    if (n == "odd" || n == "even" || n == "divisibleby") {
        if (v.is_undefined()) raise_undefined(v);
        Value divisor = n == "divisibleby" ? other() : Value::integer(2);
        Value rem = binary_op("%", v, divisor);
        bool zero = rem.as_double() == 0.0;
        return n == "odd" ? !zero : zero;
    }
    if (n == "lower" || n == "upper") {
        CallArgs none;
        Value method = get_method(Value::string(soft_str(v)), n == "lower" ? "islower" : "isupper");
        return method.callable().fn(ev, none).truthy();
    }
    if (n == "filter") return other().is_string() && has_filter(other().as_string());
    if (n == "test") return other().is_string() && has_test(other().as_string());
    throw JinjaError("No test named '" + n + "'.");
}

bool has_test(const std::string& n) {
    static const char* const kNames[] = {
        "defined", "undefined", "none", "boolean", "true", "false", "integer", "float", "number",
        "string", "mapping", "iterable", "sequence", "callable", "escaped", "eq", "equalto", "==",
        "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in",
        "sameas", "odd", "even", "divisibleby", "lower", "upper", "filter", "test"};
    return std::find(std::begin(kNames), std::end(kNames), n) != std::end(kNames);
}

}  // namespace mmojo::jinja
