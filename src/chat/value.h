// Runtime values of the chat-template interpreter: the Python objects a Jinja2 template
// sees (Undefined, None, bool, int, float, str/Markup, list/tuple, dict, callables,
// namespace()) with Python's semantics for truth, equality, ordering, str() and repr(),
// plus json.dumps-compatible serialisation (the `tojson` filter of transformers).
// Spec: Python 3 data model, Jinja2 3.1 runtime (Undefined, Namespace, Markup).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mmojo::jinja {

// An error raised while evaluating, without a source position yet; the evaluator adds
// the line:column of the expression that raised it. `raised_by_template` marks
// messages from raise_exception(), which callers want verbatim.
class JinjaError : public std::runtime_error {
public:
    explicit JinjaError(const std::string& message, bool raised_by_template = false)
        : std::runtime_error(message), raised_by_template_(raised_by_template) {}
    bool raised_by_template() const { return raised_by_template_; }

private:
    bool raised_by_template_;
};

// Resource limits that keep hostile templates from exhausting memory or time.
inline constexpr size_t kMaxStringBytes = 16u << 20;  // any one string, incl. output
inline constexpr size_t kMaxListItems = 1u << 20;     // any one list built by the template
inline constexpr int kMaxNesting = 200;               // repr/json/equality recursion

class Value;
class Evaluator;
struct ListData;
struct DictData;

// Arguments of a call: positional values and keyword arguments in call order.
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
};

using NativeFunction = std::function<Value(Evaluator&, CallArgs&)>;

struct Callable {
    std::string name;  // for error messages
    NativeFunction fn;
};

class Value {
public:
    enum class Kind : uint8_t {
        kUndefined,
        kNone,
        kBool,
        kInt,
        kFloat,
        kString,
        kList,
        kDict,
        kCallable,
        kNamespace,
    };

    Value() = default;  // Undefined with no hint
    static Value undefined(std::string hint) {
        Value v;
        v.str_ = std::move(hint);
        return v;
    }
    static Value none() { return Value(Kind::kNone); }
    static Value boolean(bool b) {
        Value v(Kind::kBool);
        v.int_ = b ? 1 : 0;
        return v;
    }
    static Value integer(int64_t i) {
        Value v(Kind::kInt);
        v.int_ = i;
        return v;
    }
    static Value number(double d) {
        Value v(Kind::kFloat);
        v.float_ = d;
        return v;
    }
    static Value string(std::string s, bool markup = false) {
        Value v(Kind::kString);
        v.str_ = std::move(s);
        v.flag_ = markup;
        return v;
    }
    static Value list(std::vector<Value> items = {}, bool tuple = false);
    static Value dict();
    static Value namespace_object();
    static Value function(std::string name, NativeFunction fn);

    Kind kind() const { return kind_; }
    bool is_undefined() const { return kind_ == Kind::kUndefined; }
    bool is_none() const { return kind_ == Kind::kNone; }
    bool is_bool() const { return kind_ == Kind::kBool; }
    bool is_int() const { return kind_ == Kind::kInt; }
    bool is_float() const { return kind_ == Kind::kFloat; }
    bool is_number() const { return is_int() || is_float() || is_bool(); }
    bool is_string() const { return kind_ == Kind::kString; }
    bool is_markup() const { return kind_ == Kind::kString && flag_; }
    bool is_list() const { return kind_ == Kind::kList; }
    bool is_tuple() const { return kind_ == Kind::kList && flag_; }
    bool is_dict() const { return kind_ == Kind::kDict; }
    bool is_callable() const { return kind_ == Kind::kCallable; }
    bool is_namespace() const { return kind_ == Kind::kNamespace; }

    bool as_bool() const { return int_ != 0; }
    int64_t as_int() const { return int_; }  // also bools (0/1)
    double as_double() const { return is_float() ? float_ : static_cast<double>(int_); }
    const std::string& as_string() const { return str_; }  // also the Undefined hint
    const std::vector<Value>& items() const;               // list/tuple
    std::vector<Value>& mutable_items() const;
    int list_nesting() const;  // ListData::depth
    DictData& dict_data() const;  // dict or namespace
    const Callable& callable() const { return *fn_; }

    // Python semantics.
    bool truthy() const;
    std::string type_name() const;  // Python type name: 'str', 'NoneType', ...
    std::string object_repr() const;  // Jinja2's object_type_repr: "None", "dict object"

private:
    explicit Value(Kind k) : kind_(k) {}

    Kind kind_ = Kind::kUndefined;
    bool flag_ = false;  // string: Markup; list: tuple
    int64_t int_ = 0;
    double float_ = 0;
    std::string str_;
    std::shared_ptr<ListData> list_;
    std::shared_ptr<DictData> dict_;
    std::shared_ptr<Callable> fn_;
};

// `depth` is the nesting height of a list or dict (1 = holds no containers; namespaces
// count as leaves). It is bounded by kMaxNesting at construction, so destroying,
// printing or comparing any value cannot recurse deeper than that.
struct ListData {
    std::vector<Value> items;
    int depth = 1;
};

// An insertion-ordered dict. Keys must be hashable (str, numbers, None, tuples of them).
struct DictData {
    std::vector<std::pair<Value, Value>> entries;
    std::unordered_map<std::string, size_t> index;  // hash_key(key) -> position; large dicts only
    int depth = 1;

    const Value* find(const Value& key) const;
    const Value* find(std::string_view key) const;  // a str key
    void set(const Value& key, Value value);
    void set(std::string_view key, Value value);
};

// Nesting height of a value (0 for scalars and namespaces).
int nesting_of(const Value& v);

// Canonical text of a hashable key (equal Python keys give equal text). Throws for
// unhashable values (list, dict).
std::string hash_key(const Value& key);

// Python operators and conversions.
bool values_equal(const Value& a, const Value& b, int depth = 0);
int compare_values(const Value& a, const Value& b, const char* op);  // <0, 0, >0 or throws
std::string to_str(const Value& v);                  // str(v); Undefined -> ""
std::string repr(const Value& v, int depth = 0);     // repr(v)
std::string python_float_repr(double d);             // repr(float)

struct JsonOptions {
    bool ensure_ascii = false;
    bool sort_keys = false;
    bool has_indent = false;
    std::string indent;                  // per level, when has_indent
    std::string item_sep = ", ";         // json.dumps defaults depend on indent
    std::string key_sep = ": ";
};
std::string to_json(const Value& v, const JsonOptions& options);  // json.dumps

// Markup escaping (markupsafe.escape) of & < > " '.
std::string html_escape(std::string_view s);

// UTF-8 helpers. Invalid bytes decode to U+DC80+byte (Python's surrogateescape) and
// encode back to the same byte, so any byte string round-trips.
std::u32string utf8_decode(std::string_view s);
std::string utf8_encode(std::u32string_view s);
void utf8_append(std::string& out, char32_t c);
size_t utf8_length(std::string_view s);

// Throws JinjaError when a produced string or list exceeds the limits.
void check_string_size(size_t bytes);
void check_list_size(size_t items);

}  // namespace mmojo::jinja
