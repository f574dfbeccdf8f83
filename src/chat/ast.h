// Syntax tree of a parsed chat template: expressions and statements, each with the
// line:column of its first token for error messages.
// Spec: Jinja2 3.1 "Template Designer Documentation" (expressions, control structures).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/value.h"

namespace mmojo::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum class Kind {
        kLiteral,   // literal
        kName,      // name
        kList,      // args = items
        kTuple,     // args = items
        kDict,      // args = key0, value0, key1, value1, ...
        kGetAttr,   // args[0].name
        kGetItem,   // args[0][args[1]]
        kSlice,     // args[0][args[1]:args[2]:args[3]] (null = omitted)
        kCall,      // args[0](args[1..], kwargs)
        kFilter,    // args[0] | name(args[1..], kwargs); args[0] null in filter blocks
        kTest,      // args[0] is [not] name(args[1..], kwargs); negated
        kNeg,       // -args[0]
        kPos,       // +args[0]
        kNot,       // not args[0]
        kBinary,    // args[0] name args[1], name in + - * / // % ** ~
        kAnd,       // args[0] and args[1]
        kOr,        // args[0] or args[1]
        kCompare,   // args[0] ops[0] args[1] ops[1] args[2] ... (Python chaining)
        kCondExpr,  // args[1] if args[0] else args[2] (args[2] may be null)
    };

    Kind kind;
    int line = 0;
    int column = 0;
    Value literal;
    std::string name;
    bool negated = false;
    int depth = 1;  // height of this subtree (bounded by the parser)
    std::vector<ExprPtr> args;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    std::vector<std::string> ops;  // kCompare: == != < <= > >= in notin
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

// Left side of `for` / `set`: one name, a tuple of names, or `ns.attr`.
struct Target {
    std::vector<std::string> names;
    bool tuple = false;
    std::string attribute;  // `set ns.attr`: names = {"ns"}, attribute = "attr"
};

struct MacroParam {
    std::string name;
    ExprPtr default_value;  // null = no default
};

struct Stmt {
    enum class Kind {
        kText,         // text
        kOutput,       // {{ expr }}
        kIf,           // branches (cond null = else)
        kFor,          // for target in expr [if cond]: body [else: else_body]
        kSet,          // set target = expr
        kSetBlock,     // set target [| filter expr]: body
        kMacro,        // macro name(params): body
        kCallBlock,    // call [(params)] expr: body
        kFilterBlock,  // filter expr (kFilter chain with null operand): body
        kBreak,
        kContinue,
    };

    Kind kind;
    int line = 0;
    int column = 0;
    std::string text;  // kText; kMacro: the name
    ExprPtr expr;
    ExprPtr cond;
    Target target;
    std::vector<std::pair<ExprPtr, Body>> branches;
    std::vector<MacroParam> params;
    Body body;
    Body else_body;
};

// A parsed template: the statement list of its top level.
struct Template {
    Body body;
};

}  // namespace mmojo::jinja
