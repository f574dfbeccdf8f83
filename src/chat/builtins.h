// Builtins of the chat-template interpreter: Jinja2 filters and tests, Python methods
// of str/dict/list that templates call, attribute and item lookup, and the globals of
// the transformers environment (range, namespace, dict, raise_exception, strftime_now).
// Spec: Jinja2 3.1 "List of Builtin Filters" / "List of Builtin Tests" /
// "List of Global Functions"; Python 3 str and dict methods; transformers
// chat_template_utils for raise_exception, strftime_now and tojson.
#pragma once

#include <string>

#include "chat/evaluator.h"
#include "chat/value.h"

namespace mmojo::jinja {

Value apply_filter(Evaluator& ev, const std::string& name, const Value& operand, CallArgs& args);
bool apply_test(Evaluator& ev, const std::string& name, const Value& operand, CallArgs& args);
bool has_filter(const std::string& name);
bool has_test(const std::string& name);

// `obj.name` and `obj[key]` with Jinja2's fallbacks; a miss gives Undefined whose hint
// is Jinja2's message ("'dict object' has no attribute 'x'").
Value get_attribute(const Value& obj, const std::string& name);
Value get_item(const Value& obj, const Value& key);

// A bound method of a str, dict or list (Undefined when there is none).
Value get_method(const Value& obj, const std::string& name);

void install_globals(Frame& frame);

// Python str helpers shared by filters and methods (operate on code points).
std::string py_strip(const std::string& s, const Value& chars, bool left, bool right);
std::string py_upper(const std::string& s);
std::string py_lower(const std::string& s);
std::string py_capitalize(const std::string& s);
std::string soft_str(const Value& v);  // str(v), keeping strings as they are

// Argument binding helper: positional index `i` or keyword `name`, else `fallback`.
const Value& arg(const CallArgs& args, size_t i, const char* name, const Value& fallback);
// Rejects positional/keyword arguments beyond the `count` named ones.
void check_args(const CallArgs& args, const char* function, const char* const* names, size_t count);

}  // namespace mmojo::jinja
