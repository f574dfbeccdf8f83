// Python binary operators (+ - * / // % ** and Jinja's ~), `in`, and printf-style
// `str % args`, with Python's results and error messages. Integers are 64-bit: results
// that Python would grow past that raise "integer overflow" instead.
// Markup (from |safe) follows markupsafe: Markup + str escapes the str.
#include <cmath>
#include <cstdio>

#include "chat/evaluator.h"

namespace mmojo::jinja {

[[noreturn]] void raise_undefined(const Value& undefined) {
    throw JinjaError(undefined.as_string().empty() ? "undefined value" : undefined.as_string());
}

bool contains(const Value& container, const Value& item) {
    switch (container.kind()) {
        case Value::Kind::kUndefined: return false;
        case Value::Kind::kString:
            if (!item.is_string()) {
                throw JinjaError("'in <string>' requires string as left operand, not " + item.type_name());
            }
            return container.as_string().find(item.as_string()) != std::string::npos;
        case Value::Kind::kList:
            for (const Value& v : container.items()) {
                if (values_equal(v, item)) return true;
            }
            return false;
        case Value::Kind::kDict:
            if (item.is_list() && !item.is_tuple()) return false;  // unhashable: no such key
            if (item.is_dict()) return false;
            return container.dict_data().find(item) != nullptr;
        default:
            throw JinjaError("argument of type '" + container.type_name() + "' is not iterable");
    }
}

namespace {

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
    throw JinjaError("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" +
                     b.type_name() + "'");
}

bool is_integral(const Value& v) { return v.is_int() || v.is_bool(); }

Value repeat(const Value& seq, int64_t times) {
    if (times <= 0) return seq.is_string() ? Value::string("", seq.is_markup()) : Value::list({}, seq.is_tuple());
    auto n = static_cast<uint64_t>(times);
    if (seq.is_string()) {
        const std::string& s = seq.as_string();
        if (!s.empty() && n > kMaxStringBytes / s.size()) check_string_size(kMaxStringBytes + 1);
        std::string out;
        out.reserve(s.size() * n);
        for (uint64_t i = 0; i < n; ++i) out += s;
        return Value::string(std::move(out), seq.is_markup());
    }
    const auto& items = seq.items();
    if (!items.empty() && n > kMaxListItems / items.size()) check_list_size(kMaxListItems + 1);
    std::vector<Value> out;
    for (uint64_t i = 0; i < n && !items.empty(); ++i) out.insert(out.end(), items.begin(), items.end());
    return Value::list(std::move(out), seq.is_tuple());
}

int64_t checked(bool overflow, int64_t v) {
    if (overflow) throw JinjaError("integer overflow");
    return v;
}

// printf-style formatting: str % value (tuple = several values, dict = %(name)s).
std::string percent_format(const std::string& fmt, const Value& args) {
    std::vector<Value> values;
    bool mapping = args.is_dict();
    if (args.is_tuple()) values = args.items();
    else if (!mapping) values.push_back(args);
    size_t next = 0;
    std::string out;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        if (++i >= fmt.size()) throw JinjaError("incomplete format");
        const Value* value = nullptr;
        if (fmt[i] == '(') {
            size_t close = fmt.find(')', i);
            if (close == std::string::npos || !mapping) throw JinjaError("format requires a mapping");
            value = args.dict_data().find(std::string_view(fmt).substr(i + 1, close - i - 1));
            if (!value) throw JinjaError("KeyError: '" + fmt.substr(i + 1, close - i - 1) + "'");
            i = close + 1;
        }
        std::string spec = "%";
        while (i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos) spec += fmt[i++];
        while (i < fmt.size() && spec.size() < 8 && fmt[i] >= '0' && fmt[i] <= '9') spec += fmt[i++];
        if (i < fmt.size() && fmt[i] == '.') {
            spec += fmt[i++];
            while (i < fmt.size() && spec.size() < 12 && fmt[i] >= '0' && fmt[i] <= '9') spec += fmt[i++];
        }
        if (i >= fmt.size()) throw JinjaError("incomplete format");
        char conv = fmt[i];
        if (conv == '%') {
            out += '%';
            continue;
        }
        if (!value) {
            if (mapping) {
                value = &args;
            } else {
                if (next >= values.size()) throw JinjaError("not enough arguments for format string");
                value = &values[next++];
            }
        }
        char buf[512];
        switch (conv) {
            case 's': case 'r': case 'a': {
                std::string text = conv == 's' ? to_str(*value) : repr(*value);
                std::string sspec = spec + "s";
                if (sspec == "%s") {
                    out += text;
                } else {
                    std::snprintf(buf, sizeof(buf), sspec.c_str(), text.c_str());
                    out += buf;
                }
                break;
            }
            case 'd': case 'i': case 'x': case 'X': case 'o': case 'c': {
                if (!value->is_number()) {
                    throw JinjaError(std::string("%") + conv + " format: a real number is required, not " +
                                     value->type_name());
                }
                auto v = static_cast<long long>(value->is_float() ? std::trunc(value->as_double()) : value->as_int());
                std::string ispec = spec + "ll" + (conv == 'i' ? 'd' : conv == 'c' ? 'd' : conv);
                std::snprintf(buf, sizeof(buf), ispec.c_str(), v);
                out += buf;
                break;
            }
            case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
                if (!value->is_number()) {
                    throw JinjaError("must be real number, not " + value->type_name());
                }
                std::snprintf(buf, sizeof(buf), (spec + conv).c_str(), value->as_double());
                out += buf;
                break;
            }
            default:
                throw JinjaError(std::string("unsupported format character '") + conv + "'");
        }
        check_string_size(out.size());
    }
    if (!mapping && next < values.size()) {
        throw JinjaError("not all arguments converted during string formatting");
    }
    return out;
}

Value add(const Value& a, const Value& b) {
    if (a.is_string() && b.is_string()) {
        check_string_size(a.as_string().size() + b.as_string().size());
        if (a.is_markup() || b.is_markup()) {  // markupsafe: escape the plain side
            std::string left = a.is_markup() ? a.as_string() : html_escape(a.as_string());
            std::string right = b.is_markup() ? b.as_string() : html_escape(b.as_string());
            check_string_size(left.size() + right.size());
            return Value::string(left + right, true);
        }
        return Value::string(a.as_string() + b.as_string());
    }
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return Value::number(a.as_double() + b.as_double());
        int64_t r = 0;
        bool overflow = __builtin_add_overflow(a.as_int(), b.as_int(), &r);
        return Value::integer(checked(overflow, r));
    }
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
        check_list_size(a.items().size() + b.items().size());
        std::vector<Value> items = a.items();
        items.insert(items.end(), b.items().begin(), b.items().end());
        return Value::list(std::move(items), a.is_tuple());
    }
    if (a.is_string() && !a.is_markup()) {
        throw JinjaError("can only concatenate str (not \"" + b.type_name() + "\") to str");
    }
    if (a.is_list()) {
        throw JinjaError("can only concatenate " + a.type_name() + " (not \"" + b.type_name() +
                         "\") to " + a.type_name());
    }
    unsupported("+", a, b);
}

}  // namespace

Value binary_op(const std::string& op, const Value& a, const Value& b) {
    if (op == "~") {
        std::string left = to_str(a), right = to_str(b);
        check_string_size(left.size() + right.size());
        return Value::string(left + right);
    }
    if (a.is_undefined()) raise_undefined(a);
    if (b.is_undefined()) raise_undefined(b);
    if (op == "+") return add(a, b);
    const bool numbers = a.is_number() && b.is_number();
    const bool floats = numbers && (a.is_float() || b.is_float());
    if (op == "-") {
        if (!numbers) unsupported("-", a, b);
        if (floats) return Value::number(a.as_double() - b.as_double());
        int64_t r = 0;
        bool overflow = __builtin_sub_overflow(a.as_int(), b.as_int(), &r);
        return Value::integer(checked(overflow, r));
    }
    if (op == "*") {
        if (numbers) {
            if (floats) return Value::number(a.as_double() * b.as_double());
            int64_t r = 0;
            bool overflow = __builtin_mul_overflow(a.as_int(), b.as_int(), &r);
        return Value::integer(checked(overflow, r));
        }
        if ((a.is_string() || a.is_list()) && is_integral(b)) return repeat(a, b.as_int());
        if ((b.is_string() || b.is_list()) && is_integral(a)) return repeat(b, a.as_int());
        throw JinjaError("can't multiply sequence by non-int of type '" +
                         (a.is_string() || a.is_list() ? b : a).type_name() + "'");
    }
    if (op == "/") {
        if (!numbers) unsupported("/", a, b);
        if (b.as_double() == 0.0) throw JinjaError("division by zero");
        return Value::number(a.as_double() / b.as_double());
    }
    if (op == "//") {
        if (!numbers) unsupported("//", a, b);
        if (floats) {
            if (b.as_double() == 0.0) throw JinjaError("float floor division by zero");
            return Value::number(std::floor(a.as_double() / b.as_double()));
        }
        int64_t x = a.as_int(), y = b.as_int();
        if (y == 0) throw JinjaError("integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) throw JinjaError("integer overflow");
        int64_t q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
        return Value::integer(q);
    }
    if (op == "%") {
        if (a.is_string()) return Value::string(percent_format(a.as_string(), b), a.is_markup());
        if (!numbers) unsupported("%", a, b);
        if (floats) {
            double y = b.as_double();
            if (y == 0.0) throw JinjaError("float modulo");
            double r = std::fmod(a.as_double(), y);
            if (r != 0.0 && ((r < 0) != (y < 0))) r += y;
            return Value::number(r);
        }
        int64_t x = a.as_int(), y = b.as_int();
        if (y == 0) throw JinjaError("integer modulo by zero");
        if (y == -1) return Value::integer(0);
        int64_t r = x % y;
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        return Value::integer(r);
    }
    if (op == "**") {
        if (!numbers) unsupported("** or pow()", a, b);
        if (!floats && b.as_int() >= 0) {
            int64_t base = a.as_int(), result = 1;
            for (int64_t e = b.as_int(); e > 0; --e) {
                if (__builtin_mul_overflow(result, base, &result)) throw JinjaError("integer overflow");
                if (result == 0 || result == 1) break;  // 0**n and 1**n stay put
                if (result == -1) {
                    result = ((e - 1) % 2 == 0) ? -1 : 1;
                    break;
                }
            }
            return Value::integer(result);
        }
        if (a.as_double() == 0.0 && b.as_double() < 0) {
            throw JinjaError("0.0 cannot be raised to a negative power");
        }
        return Value::number(std::pow(a.as_double(), b.as_double()));
    }
    throw JinjaError("unknown operator " + op);
}

}  // namespace mmojo::jinja
