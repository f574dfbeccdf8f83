// Tree-walking evaluator of parsed chat templates: scopes (a fresh scope per loop
// iteration, per macro call), output with size limits, step and depth budgets, and
// the Python operators templates use. Filters, tests and methods live in builtins.h.
// Spec: Jinja2 3.1 "Template Designer Documentation" (Assignments, Scoping Behavior,
// Loop Controls, Macros, Call, Filters) and Python 3 operator semantics.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/ast.h"
#include "chat/value.h"

namespace mmojo::jinja {

inline constexpr int kMaxEvalDepth = 400;          // nested eval/exec/macro calls
inline constexpr uint64_t kMaxSteps = 5'000'000;   // statements + expressions + iterations

struct Frame {
    std::unordered_map<std::string, Value> vars;
    std::shared_ptr<Frame> parent;

    const Value* lookup(const std::string& name) const;
};

class Evaluator {
public:
    explicit Evaluator(std::time_t now) : now_(now) {}
    ~Evaluator();

    // Renders the template with `globals` (builtins and caller variables) as the
    // outermost scope. Throws ChatTemplateError.
    std::string render(const Template& tmpl, std::shared_ptr<Frame> globals);

    // Services for builtins.
    Value call(const Value& callee, CallArgs& args);
    std::time_t now() const { return now_; }
    void track(const Value& container);  // cycles through it are broken after render
    void tick();                         // counts one step against kMaxSteps

private:
    enum class Flow { kNormal, kBreak, kContinue };

    Flow exec_body(const Body& body, const std::shared_ptr<Frame>& frame, std::string& out);
    Flow exec(const Stmt& s, const std::shared_ptr<Frame>& frame, std::string& out);
    Flow exec_for(const Stmt& s, const std::shared_ptr<Frame>& frame, std::string& out);
    void exec_set(const Stmt& s, const std::shared_ptr<Frame>& frame, std::string& out);
    void exec_macro(const Stmt& s, const std::shared_ptr<Frame>& frame);
    void exec_call_block(const Stmt& s, const std::shared_ptr<Frame>& frame, std::string& out);
    void assign(const Target& target, const Value& value, Frame& frame);

    Value eval(const Expr& e, const std::shared_ptr<Frame>& frame);
    Value eval_inner(const Expr& e, const std::shared_ptr<Frame>& frame);
    Value eval_filter(const Expr& e, const std::shared_ptr<Frame>& frame, const Value* operand);
    Value eval_compare(const Expr& e, const std::shared_ptr<Frame>& frame);
    void eval_args(const Expr& e, size_t first, const std::shared_ptr<Frame>& frame, CallArgs& out);

    Value call_macro(const Stmt& macro, const std::shared_ptr<Frame>& closure, CallArgs& args,
                     const std::string& name);

    struct DepthGuard;

    std::time_t now_;
    int depth_ = 0;
    uint64_t steps_ = 0;
    std::vector<Value> tracked_;
};

// Python operators on values (throw JinjaError with Python's messages).
Value binary_op(const std::string& op, const Value& a, const Value& b);
bool contains(const Value& container, const Value& item);
[[noreturn]] void raise_undefined(const Value& undefined);

// Iterating a value as Python's `for` does: list items, dict keys, string characters;
// Undefined iterates as empty. Throws for None, numbers, ...
std::vector<Value> iterate(const Value& v);

}  // namespace mmojo::jinja
