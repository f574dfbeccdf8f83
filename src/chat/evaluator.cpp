// Evaluation of chat-template statements and expressions.
// Scoping follows Jinja2: `set` writes the innermost scope; each loop iteration and each
// macro call gets a fresh scope, so state crossing iterations must live in namespace().
// Every error leaves as ChatTemplateError with the line:column of the innermost node.
#include "chat/evaluator.h"

#include <algorithm>

#include "chat/builtins.h"
#include "chat/chat_template.h"

namespace mmojo::jinja {

const Value* Frame::lookup(const std::string& name) const {
    for (const Frame* f = this; f; f = f->parent.get()) {
        auto it = f->vars.find(name);
        if (it != f->vars.end()) return &it->second;
    }
    return nullptr;
}

struct Evaluator::DepthGuard {
    explicit DepthGuard(Evaluator& ev) : ev_(ev) {
        if (++ev_.depth_ > kMaxEvalDepth) {
            --ev_.depth_;
            throw JinjaError("maximum recursion depth exceeded (" + std::to_string(kMaxEvalDepth) + ")");
        }
    }
    ~DepthGuard() { --ev_.depth_; }
    Evaluator& ev_;
};

Evaluator::~Evaluator() {
    // Break reference cycles (ns.self = ns) so every container is freed.
    for (Value& v : tracked_) {
        if (v.is_namespace() || v.is_dict()) {
            DictData().entries.swap(v.dict_data().entries);
            v.dict_data().index.clear();
        } else if (v.is_list()) {
            std::vector<Value>().swap(v.mutable_items());
        }
    }
}

void Evaluator::track(const Value& container) { tracked_.push_back(container); }

void Evaluator::tick() {
    if (++steps_ > kMaxSteps) {
        throw JinjaError("template evaluation exceeded " + std::to_string(kMaxSteps) + " steps");
    }
}

namespace {

void append_out(std::string& out, const std::string& s) {
    check_string_size(out.size() + s.size());
    out += s;
}

}  // namespace

std::string Evaluator::render(const Template& tmpl, std::shared_ptr<Frame> globals) {
    auto root = std::make_shared<Frame>();
    root->parent = std::move(globals);
    std::string out;
    exec_body(tmpl.body, root, out);
    return out;
}

Evaluator::Flow Evaluator::exec_body(const Body& body, const std::shared_ptr<Frame>& frame,
                                     std::string& out) {
    for (const StmtPtr& s : body) {
        Flow flow = exec(*s, frame, out);
        if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
}

Evaluator::Flow Evaluator::exec(const Stmt& s, const std::shared_ptr<Frame>& frame, std::string& out) {
    try {
        DepthGuard guard(*this);
        tick();
        switch (s.kind) {
            case Stmt::Kind::kText: append_out(out, s.text); break;
            case Stmt::Kind::kOutput: append_out(out, to_str(eval(*s.expr, frame))); break;
            case Stmt::Kind::kIf:
                for (const auto& [cond, body] : s.branches) {
                    if (!cond || eval(*cond, frame).truthy()) return exec_body(body, frame, out);
                }
                break;
            case Stmt::Kind::kFor: return exec_for(s, frame, out);
            case Stmt::Kind::kSet:
            case Stmt::Kind::kSetBlock: exec_set(s, frame, out); break;
            case Stmt::Kind::kMacro: exec_macro(s, frame); break;
            case Stmt::Kind::kCallBlock: exec_call_block(s, frame, out); break;
            case Stmt::Kind::kFilterBlock: {
                std::string text;
                exec_body(s.body, frame, text);
                Value v = Value::string(std::move(text));
                append_out(out, to_str(eval_filter(*s.expr, frame, &v)));
                break;
            }
            case Stmt::Kind::kBreak: return Flow::kBreak;
            case Stmt::Kind::kContinue: return Flow::kContinue;
        }
    } catch (const JinjaError& e) {
        throw ChatTemplateError(e.what(), s.line, s.column, e.raised_by_template());
    }
    return Flow::kNormal;
}

std::vector<Value> iterate(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::kUndefined: return {};
        case Value::Kind::kList: return v.items();
        case Value::Kind::kDict: {
            std::vector<Value> keys;
            keys.reserve(v.dict_data().entries.size());
            for (const auto& kv : v.dict_data().entries) keys.push_back(kv.first);
            return keys;
        }
        case Value::Kind::kString: {
            std::vector<Value> chars;
            for (char32_t c : utf8_decode(v.as_string())) {
                std::string s;
                utf8_append(s, c);
                chars.push_back(Value::string(std::move(s), v.is_markup()));
            }
            return chars;
        }
        default: throw JinjaError("'" + v.type_name() + "' object is not iterable");
    }
}

void Evaluator::assign(const Target& target, const Value& value, Frame& frame) {
    if (!target.attribute.empty()) {
        const Value* ns = frame.lookup(target.names[0]);
        if (!ns || !ns->is_namespace()) {
            throw JinjaError("cannot assign attribute on non-namespace object");
        }
        ns->dict_data().set(target.attribute, value);
        return;
    }
    if (!target.tuple) {
        frame.vars[target.names[0]] = value;
        return;
    }
    std::vector<Value> items = iterate(value);
    if (items.size() < target.names.size()) {
        throw JinjaError("not enough values to unpack (expected " +
                         std::to_string(target.names.size()) + ", got " +
                         std::to_string(items.size()) + ")");
    }
    if (items.size() > target.names.size()) {
        throw JinjaError("too many values to unpack (expected " +
                         std::to_string(target.names.size()) + ")");
    }
    for (size_t i = 0; i < items.size(); ++i) frame.vars[target.names[i]] = items[i];
}

Evaluator::Flow Evaluator::exec_for(const Stmt& s, const std::shared_ptr<Frame>& frame,
                                    std::string& out) {
    std::vector<Value> items = iterate(eval(*s.expr, frame));
    if (s.cond) {  // `for x in xs if cond`: filter first, so loop.* sees only kept items
        std::vector<Value> kept;
        for (Value& item : items) {
            tick();
            auto scope = std::make_shared<Frame>();
            scope->parent = frame;
            assign(s.target, item, *scope);
            if (eval(*s.cond, scope).truthy()) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    const auto n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
        tick();
        auto scope = std::make_shared<Frame>();
        scope->parent = frame;
        assign(s.target, items[static_cast<size_t>(i)], *scope);
        // The loop object; keys are distinct, so entries are appended without lookups.
        static const Value kKeys[] = {Value::string("index"),    Value::string("index0"),
                                      Value::string("revindex"), Value::string("revindex0"),
                                      Value::string("first"),    Value::string("last"),
                                      Value::string("length"),   Value::string("depth"),
                                      Value::string("depth0"),   Value::string("previtem"),
                                      Value::string("nextitem")};
        Value loop = Value::dict();
        auto& entries = loop.dict_data().entries;
        entries.reserve(11);
        entries.emplace_back(kKeys[0], Value::integer(i + 1));
        entries.emplace_back(kKeys[1], Value::integer(i));
        entries.emplace_back(kKeys[2], Value::integer(n - i));
        entries.emplace_back(kKeys[3], Value::integer(n - i - 1));
        entries.emplace_back(kKeys[4], Value::boolean(i == 0));
        entries.emplace_back(kKeys[5], Value::boolean(i == n - 1));
        entries.emplace_back(kKeys[6], Value::integer(n));
        entries.emplace_back(kKeys[7], Value::integer(1));
        entries.emplace_back(kKeys[8], Value::integer(0));
        if (i > 0) entries.emplace_back(kKeys[9], items[static_cast<size_t>(i - 1)]);
        if (i + 1 < n) entries.emplace_back(kKeys[10], items[static_cast<size_t>(i + 1)]);
        int neighbours = 0;
        for (size_t k = 9; k < entries.size(); ++k) neighbours = std::max(neighbours, nesting_of(entries[k].second));
        loop.dict_data().depth = 1 + neighbours;
        scope->vars["loop"] = std::move(loop);
        Flow flow = exec_body(s.body, scope, out);
        if (flow == Flow::kBreak) break;
    }
    if (n == 0 && !s.else_body.empty()) {
        auto scope = std::make_shared<Frame>();
        scope->parent = frame;
        return exec_body(s.else_body, scope, out);
    }
    return Flow::kNormal;
}

void Evaluator::exec_set(const Stmt& s, const std::shared_ptr<Frame>& frame, std::string& out) {
    (void)out;
    if (s.kind == Stmt::Kind::kSet) {
        assign(s.target, eval(*s.expr, frame), *frame);
        return;
    }
    std::string text;
    exec_body(s.body, frame, text);
    Value v = Value::string(std::move(text));
    if (s.expr) v = eval_filter(*s.expr, frame, &v);
    assign(s.target, v, *frame);
}

void Evaluator::exec_macro(const Stmt& s, const std::shared_ptr<Frame>& frame) {
    // The closure is weak: the macro is stored in the frame it closes over.
    std::weak_ptr<Frame> closure = frame;
    const Stmt* macro = &s;
    std::string name = s.text;
    frame->vars[s.text] = Value::function(name, [macro, closure, name](Evaluator& ev, CallArgs& args) {
        auto scope = closure.lock();
        if (!scope) throw JinjaError("macro '" + name + "' called after its scope ended");
        return ev.call_macro(*macro, scope, args, name);
    });
}

void Evaluator::exec_call_block(const Stmt& s, const std::shared_ptr<Frame>& frame, std::string& out) {
    std::weak_ptr<Frame> closure = frame;
    const Stmt* block = &s;
    Value caller = Value::function("caller", [block, closure](Evaluator& ev, CallArgs& args) {
        auto scope = closure.lock();
        if (!scope) throw JinjaError("caller() called after its scope ended");
        return ev.call_macro(*block, scope, args, "caller");
    });
    const Expr& call = *s.expr;
    Value callee = eval(*call.args[0], frame);
    CallArgs args;
    eval_args(call, 1, frame, args);
    args.keyword.emplace_back("caller", caller);
    append_out(out, to_str(this->call(callee, args)));
}

Value Evaluator::call_macro(const Stmt& macro, const std::shared_ptr<Frame>& closure,
                            CallArgs& args, const std::string& name) {
    DepthGuard guard(*this);
    tick();
    auto scope = std::make_shared<Frame>();
    scope->parent = closure;
    const auto& params = macro.params;
    if (args.positional.size() > params.size()) {
        throw JinjaError("macro '" + name + "' takes not more than " + std::to_string(params.size()) +
                         " argument(s)");
    }
    std::vector<bool> bound(params.size(), false);
    for (size_t i = 0; i < args.positional.size(); ++i) {
        scope->vars[params[i].name] = args.positional[i];
        bound[i] = true;
    }
    for (auto& kv : args.keyword) {
        const std::string& key = kv.first;  // (a plain reference: lambdas may capture it)
        const Value& value = kv.second;
        auto it = std::find_if(params.begin(), params.end(),
                               [&](const MacroParam& p) { return p.name == key; });
        if (it == params.end()) {
            if (key == "caller") {
                scope->vars["caller"] = value;
                continue;
            }
            throw JinjaError("macro '" + name + "' takes no keyword argument '" + key + "'");
        }
        size_t idx = static_cast<size_t>(it - params.begin());
        if (bound[idx]) throw JinjaError("macro '" + name + "' got multiple values for argument '" + key + "'");
        scope->vars[key] = value;
        bound[idx] = true;
    }
    for (size_t i = 0; i < params.size(); ++i) {
        if (bound[i]) continue;
        scope->vars[params[i].name] =
            params[i].default_value ? eval(*params[i].default_value, scope)
                                    : Value::undefined("parameter '" + params[i].name + "' was not provided");
    }
    scope->vars["varargs"] = Value::list();
    scope->vars["kwargs"] = Value::dict();
    std::string text;
    exec_body(macro.body, scope, text);
    return Value::string(std::move(text));
}

Value Evaluator::call(const Value& callee, CallArgs& args) {
    if (callee.is_undefined()) raise_undefined(callee);
    if (!callee.is_callable()) throw JinjaError("'" + callee.type_name() + "' object is not callable");
    return callee.callable().fn(*this, args);
}

// ---- expressions ------------------------------------------------------------------------

Value Evaluator::eval(const Expr& e, const std::shared_ptr<Frame>& frame) {
    try {
        DepthGuard guard(*this);
        tick();
        return eval_inner(e, frame);
    } catch (const JinjaError& err) {
        throw ChatTemplateError(err.what(), e.line, e.column, err.raised_by_template());
    }
}

void Evaluator::eval_args(const Expr& e, size_t first, const std::shared_ptr<Frame>& frame,
                          CallArgs& out) {
    for (size_t i = first; i < e.args.size(); ++i) out.positional.push_back(eval(*e.args[i], frame));
    for (const auto& [key, value] : e.kwargs) out.keyword.emplace_back(key, eval(*value, frame));
}

Value Evaluator::eval_filter(const Expr& e, const std::shared_ptr<Frame>& frame, const Value* operand) {
    Value input = !e.args[0] ? *operand
                  : e.args[0]->kind == Expr::Kind::kFilter ? eval_filter(*e.args[0], frame, operand)
                                                           : eval(*e.args[0], frame);
    CallArgs args;
    eval_args(e, 1, frame, args);
    try {
        return apply_filter(*this, e.name, input, args);
    } catch (const JinjaError& err) {
        throw ChatTemplateError(err.what(), e.line, e.column, err.raised_by_template());
    }
}

Value Evaluator::eval_compare(const Expr& e, const std::shared_ptr<Frame>& frame) {
    Value left = eval(*e.args[0], frame);
    for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.args[i + 1], frame);
        const std::string& op = e.ops[i];
        bool ok;
        if (op == "==") {
            ok = values_equal(left, right);
        } else if (op == "!=") {
            ok = !values_equal(left, right);
        } else if (op == "in") {
            ok = contains(right, left);
        } else if (op == "notin") {
            ok = !contains(right, left);
        } else {
            int c = compare_values(left, right, op.c_str());
            ok = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
        }
        if (!ok) return Value::boolean(false);
        left = std::move(right);
    }
    return Value::boolean(true);
}

namespace {

int64_t slice_index(const Value& v, const char* what) {
    if (v.is_int() || v.is_bool()) return v.as_int();
    throw JinjaError(std::string("slice ") + what +
                     " must be integers or None or have an __index__ method");
}

// Python slice semantics over n elements: the selected positions in order.
std::vector<size_t> slice_positions(int64_t n, const Value& start_v, const Value& stop_v,
                                    const Value& step_v) {
    int64_t step = step_v.is_none() ? 1 : slice_index(step_v, "indices");
    if (step == 0) throw JinjaError("slice step cannot be zero");
    auto clamp = [&](const Value& v, int64_t dflt) -> int64_t {
        if (v.is_none()) return dflt;
        int64_t i = slice_index(v, "indices");
        if (i < 0) i += n;
        if (step > 0) return std::clamp<int64_t>(i, 0, n);
        return std::clamp<int64_t>(i, -1, n - 1);
    };
    int64_t start = clamp(start_v, step > 0 ? 0 : n - 1);
    int64_t stop = clamp(stop_v, step > 0 ? n : -1);
    std::vector<size_t> out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
        out.push_back(static_cast<size_t>(i));
        if (__builtin_add_overflow(i, step, &i)) break;
    }
    return out;
}

}  // namespace

Value Evaluator::eval_inner(const Expr& e, const std::shared_ptr<Frame>& frame) {
    switch (e.kind) {
        case Expr::Kind::kLiteral: return e.literal;
        case Expr::Kind::kName: {
            const Value* v = frame->lookup(e.name);
            return v ? *v : Value::undefined("'" + e.name + "' is undefined");
        }
        case Expr::Kind::kList:
        case Expr::Kind::kTuple: {
            std::vector<Value> items;
            for (const auto& a : e.args) items.push_back(eval(*a, frame));
            return Value::list(std::move(items), e.kind == Expr::Kind::kTuple);
        }
        case Expr::Kind::kDict: {
            Value d = Value::dict();
            for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
                Value key = eval(*e.args[i], frame);
                d.dict_data().set(key, eval(*e.args[i + 1], frame));
            }
            return d;
        }
        case Expr::Kind::kGetAttr: return get_attribute(eval(*e.args[0], frame), e.name);
        case Expr::Kind::kGetItem:
            return get_item(eval(*e.args[0], frame), eval(*e.args[1], frame));
        case Expr::Kind::kSlice: {
            Value obj = eval(*e.args[0], frame);
            Value parts[3];
            for (int i = 0; i < 3; ++i) {
                parts[i] = e.args[static_cast<size_t>(i) + 1] ? eval(*e.args[static_cast<size_t>(i) + 1], frame)
                                                              : Value::none();
            }
            if (obj.is_undefined()) raise_undefined(obj);
            if (obj.is_string()) {
                std::u32string chars = utf8_decode(obj.as_string());
                std::u32string picked;
                for (size_t p : slice_positions(static_cast<int64_t>(chars.size()), parts[0], parts[1], parts[2])) {
                    picked += chars[p];
                }
                return Value::string(utf8_encode(picked), obj.is_markup());
            }
            if (obj.is_list()) {
                std::vector<Value> picked;
                const auto& items = obj.items();
                for (size_t p : slice_positions(static_cast<int64_t>(items.size()), parts[0], parts[1], parts[2])) {
                    picked.push_back(items[p]);
                }
                return Value::list(std::move(picked), obj.is_tuple());
            }
            throw JinjaError("'" + obj.type_name() + "' object is not subscriptable");
        }
        case Expr::Kind::kCall: {
            Value callee = eval(*e.args[0], frame);
            CallArgs args;
            eval_args(e, 1, frame, args);
            return call(callee, args);
        }
        case Expr::Kind::kFilter: return eval_filter(e, frame, nullptr);
        case Expr::Kind::kTest: {
            Value operand = eval(*e.args[0], frame);
            CallArgs args;
            eval_args(e, 1, frame, args);
            return Value::boolean(apply_test(*this, e.name, operand, args) != e.negated);
        }
        case Expr::Kind::kNeg:
        case Expr::Kind::kPos: {
            Value v = eval(*e.args[0], frame);
            if (v.is_undefined()) raise_undefined(v);
            bool neg = e.kind == Expr::Kind::kNeg;
            if (v.is_float()) return Value::number(neg ? -v.as_double() : v.as_double());
            if (v.is_int() || v.is_bool()) {
                if (neg && v.as_int() == INT64_MIN) throw JinjaError("integer overflow");
                return Value::integer(neg ? -v.as_int() : v.as_int());
            }
            throw JinjaError(std::string("bad operand type for unary ") + (neg ? "-" : "+") + ": '" +
                             v.type_name() + "'");
        }
        case Expr::Kind::kNot: return Value::boolean(!eval(*e.args[0], frame).truthy());
        case Expr::Kind::kAnd: {
            Value a = eval(*e.args[0], frame);
            return a.truthy() ? eval(*e.args[1], frame) : a;
        }
        case Expr::Kind::kOr: {
            Value a = eval(*e.args[0], frame);
            return a.truthy() ? a : eval(*e.args[1], frame);
        }
        case Expr::Kind::kCompare: return eval_compare(e, frame);
        case Expr::Kind::kCondExpr:
            if (eval(*e.args[0], frame).truthy()) return eval(*e.args[1], frame);
            if (e.args[2]) return eval(*e.args[2], frame);
            return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                                    " evaluated to false and no else section was defined.");
        case Expr::Kind::kBinary: {
            Value a = eval(*e.args[0], frame);
            Value b = eval(*e.args[1], frame);
            return binary_op(e.name, a, b);
        }
    }
    return Value();
}

}  // namespace mmojo::jinja
