// Recursive-descent parser for the Jinja2 subset used by chat templates.
// Statements: if/elif/else, for (tuple targets, `if` filter, else), set (expression,
// tuple, ns.attr and block forms), macro (default arguments), call blocks, filter
// blocks, break/continue (loopcontrols). Expressions follow jinja2.parser's precedence.
#include "chat/parser.h"

#include <charconv>
#include <cmath>
#include <initializer_list>

#include "chat/builtins.h"
#include "chat/chat_template.h"
#include "chat/lexer.h"

namespace mmojo::jinja {
namespace {

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

    std::unique_ptr<Template> run() {
        auto tmpl = std::make_unique<Template>();
        tmpl->body = subparse({});
        return tmpl;
    }

private:
    // ---- token helpers ----
    const Token& cur() const { return t_[pos_]; }
    const Token& look(size_t ahead = 1) const {
        return t_[std::min(pos_ + ahead, t_.size() - 1)];
    }
    const Token& advance() {
        const Token& tok = t_[pos_];
        if (pos_ + 1 < t_.size()) ++pos_;
        return tok;
    }
    bool is_op(const char* op) const {
        return cur().type == TokenType::kOperator && cur().text == op;
    }
    bool is_name(const char* name) const {
        return cur().type == TokenType::kName && cur().text == name;
    }
    bool skip_op(const char* op) {
        if (!is_op(op)) return false;
        advance();
        return true;
    }
    bool skip_name(const char* name) {
        if (!is_name(name)) return false;
        advance();
        return true;
    }

    static std::string describe(const Token& tok) {
        switch (tok.type) {
            case TokenType::kText: return "template data";
            case TokenType::kVarBegin: return "'{{'";
            case TokenType::kVarEnd: return "end of print statement";
            case TokenType::kBlockBegin: return "'{%'";
            case TokenType::kBlockEnd: return "end of statement block";
            case TokenType::kString: return "string";
            case TokenType::kInt: return "integer";
            case TokenType::kFloat: return "float";
            case TokenType::kEof: return "end of template";
            default: return "'" + tok.text + "'";
        }
    }

    [[noreturn]] void fail(const Token& tok, const std::string& message) const {
        throw ChatTemplateError(message, tok.line, tok.column);
    }
    [[noreturn]] void unexpected(const std::string& expected) const {
        fail(cur(), "expected " + expected + ", got " + describe(cur()));
    }
    void expect_op(const char* op) {
        if (!skip_op(op)) unexpected(std::string("'") + op + "'");
    }
    void expect_block_end() {
        if (cur().type != TokenType::kBlockEnd) unexpected("end of statement block");
        advance();
    }
    std::string expect_identifier() {
        if (cur().type != TokenType::kName) unexpected("a name");
        return advance().text;
    }

    ExprPtr node(Expr::Kind kind, const Token& at, std::vector<ExprPtr> args = {}) {
        auto e = std::make_unique<Expr>();
        e->kind = kind;
        e->line = at.line;
        e->column = at.column;
        e->args = std::move(args);
        return e;
    }
    // Checks the depth of a finished node: left-deep chains (a + b + c ...) are built
    // iteratively, so depth is measured on the tree, not on the parser's recursion.
    ExprPtr finish(ExprPtr e) {
        int depth = 1;
        for (const auto& a : e->args) depth = std::max(depth, a ? 1 + a->depth : 1);
        for (const auto& kv : e->kwargs) depth = std::max(depth, 1 + kv.second->depth);
        e->depth = depth;
        if (depth > kMaxExprDepth) fail_at(*e, "expression nested too deeply");
        return e;
    }
    [[noreturn]] void fail_at(const Expr& e, const std::string& message) const {
        throw ChatTemplateError(message, e.line, e.column);
    }

    struct Guard {
        Guard(Parser& p, const Token& at) : p_(p) {
            if (++p_.recursion_ > kMaxExprDepth + kMaxStmtDepth * 2) {
                p_.fail(at, "template nested too deeply");
            }
        }
        ~Guard() { --p_.recursion_; }
        Parser& p_;
    };

    // ---- statements ----
    Body subparse(std::initializer_list<const char*> end_tags) {
        Body body;
        while (true) {
            const Token& tok = cur();
            switch (tok.type) {
                case TokenType::kEof:
                    if (end_tags.size() != 0) {
                        std::string names;
                        for (const char* n : end_tags) {
                            names += names.empty() ? "" : " or ";
                            names += std::string("'") + n + "'";
                        }
                        fail(tok, "unexpected end of template, expected " + names);
                    }
                    return body;
                case TokenType::kText: {
                    auto s = std::make_unique<Stmt>();
                    s->kind = Stmt::Kind::kText;
                    s->line = tok.line;
                    s->column = tok.column;
                    s->text = tok.text;
                    body.push_back(std::move(s));
                    advance();
                    break;
                }
                case TokenType::kVarBegin: {
                    auto s = std::make_unique<Stmt>();
                    s->kind = Stmt::Kind::kOutput;
                    s->line = tok.line;
                    s->column = tok.column;
                    advance();
                    s->expr = parse_tuple(true);
                    if (cur().type != TokenType::kVarEnd) unexpected("end of print statement");
                    advance();
                    body.push_back(std::move(s));
                    break;
                }
                case TokenType::kBlockBegin: {
                    const Token& name = look();
                    if (name.type == TokenType::kName) {
                        for (const char* end : end_tags) {
                            if (name.text == end) {
                                advance();  // leave the end tag's name current
                                return body;
                            }
                        }
                    }
                    advance();
                    body.push_back(parse_statement());
                    break;
                }
                default: unexpected("template data or a tag");
            }
        }
    }

    StmtPtr make_stmt(Stmt::Kind kind, const Token& at) {
        auto s = std::make_unique<Stmt>();
        s->kind = kind;
        s->line = at.line;
        s->column = at.column;
        return s;
    }

    StmtPtr parse_statement() {
        const Token& tok = cur();
        if (tok.type != TokenType::kName) fail(tok, "tag name expected");
        if (++stmt_depth_ > kMaxStmtDepth) fail(tok, "statements nested too deeply");
        Guard guard(*this, tok);
        StmtPtr s;
        const std::string& n = tok.text;
        if (n == "if") {
            s = parse_if();
        } else if (n == "for") {
            s = parse_for();
        } else if (n == "set") {
            s = parse_set();
        } else if (n == "macro") {
            s = parse_macro();
        } else if (n == "call") {
            s = parse_call_block();
        } else if (n == "filter") {
            s = parse_filter_block();
        } else if (n == "break" || n == "continue") {
            if (loop_depth_ == 0) fail(tok, "'" + n + "' outside of a loop");
            s = make_stmt(n == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue, tok);
            advance();
            expect_block_end();
        } else {
            fail(tok, "encountered unknown tag '" + n + "'");
        }
        --stmt_depth_;
        return s;
    }

    StmtPtr parse_if() {
        auto s = make_stmt(Stmt::Kind::kIf, advance());
        ExprPtr cond = parse_expression(false);
        expect_block_end();
        while (true) {
            Body body = subparse({"elif", "else", "endif"});
            s->branches.emplace_back(std::move(cond), std::move(body));
            const std::string tag = advance().text;
            if (tag == "elif") {
                cond = parse_expression(false);
                expect_block_end();
                continue;
            }
            if (tag == "else") {
                expect_block_end();
                s->branches.emplace_back(nullptr, subparse({"endif"}));
                advance();
            }
            expect_block_end();
            return s;
        }
    }

    Target parse_target(bool allow_attribute) {
        Target target;
        bool paren = skip_op("(");
        target.names.push_back(expect_identifier());
        if (allow_attribute && !paren && skip_op(".")) {
            target.attribute = expect_identifier();
            return target;
        }
        while (skip_op(",")) {
            target.tuple = true;
            if (cur().type != TokenType::kName || is_name("in")) break;
            target.names.push_back(expect_identifier());
        }
        if (paren) {
            target.tuple = true;
            expect_op(")");
        }
        return target;
    }

    StmtPtr parse_for() {
        auto s = make_stmt(Stmt::Kind::kFor, advance());
        s->target = parse_target(false);
        if (!skip_name("in")) unexpected("'in'");
        s->expr = parse_tuple(false);
        if (skip_name("if")) s->cond = parse_expression(true);
        if (is_name("recursive")) fail(cur(), "recursive loops are not supported");
        expect_block_end();
        ++loop_depth_;
        s->body = subparse({"endfor", "else"});
        --loop_depth_;
        if (advance().text == "else") {
            expect_block_end();
            s->else_body = subparse({"endfor"});
            advance();
        }
        expect_block_end();
        return s;
    }

    StmtPtr parse_set() {
        const Token& at = advance();
        Target target = parse_target(true);
        if (skip_op("=")) {
            auto s = make_stmt(Stmt::Kind::kSet, at);
            s->target = std::move(target);
            s->expr = parse_tuple(true);
            expect_block_end();
            return s;
        }
        auto s = make_stmt(Stmt::Kind::kSetBlock, at);
        if (target.tuple || !target.attribute.empty()) {
            fail(at, "a block set needs a single name");
        }
        s->target = std::move(target);
        if (is_op("|")) s->expr = parse_filter_chain(nullptr);
        expect_block_end();
        s->body = subparse({"endset"});
        advance();
        expect_block_end();
        return s;
    }

    void parse_params(std::vector<MacroParam>& params) {
        expect_op("(");
        while (!is_op(")")) {
            if (!params.empty()) expect_op(",");
            if (is_op(")")) break;
            MacroParam p;
            p.name = expect_identifier();
            if (skip_op("=")) {
                p.default_value = parse_expression(true);
            } else if (!params.empty() && params.back().default_value) {
                fail(cur(), "non-default argument follows default argument");
            }
            params.push_back(std::move(p));
        }
        advance();
    }

    StmtPtr parse_macro() {
        auto s = make_stmt(Stmt::Kind::kMacro, advance());
        s->text = expect_identifier();
        parse_params(s->params);
        expect_block_end();
        int saved_loops = loop_depth_;
        loop_depth_ = 0;
        s->body = subparse({"endmacro"});
        loop_depth_ = saved_loops;
        advance();
        expect_block_end();
        return s;
    }

    StmtPtr parse_call_block() {
        auto s = make_stmt(Stmt::Kind::kCallBlock, advance());
        if (is_op("(")) parse_params(s->params);
        s->expr = parse_expression(true);
        if (s->expr->kind != Expr::Kind::kCall) fail_at(*s->expr, "expected call");
        expect_block_end();
        int saved_loops = loop_depth_;
        loop_depth_ = 0;
        s->body = subparse({"endcall"});
        loop_depth_ = saved_loops;
        advance();
        expect_block_end();
        return s;
    }

    StmtPtr parse_filter_block() {
        auto s = make_stmt(Stmt::Kind::kFilterBlock, advance());
        s->expr = parse_filter_chain(nullptr, /*leading_pipe=*/false);
        expect_block_end();
        s->body = subparse({"endfilter"});
        advance();
        expect_block_end();
        return s;
    }

    // ---- expressions ----
    // A comma-separated list becomes a tuple: `{{ a, b }}`, `set x = 1, 2`.
    ExprPtr parse_tuple(bool with_condexpr) {
        const Token& at = cur();
        ExprPtr first = parse_expression(with_condexpr);
        if (!is_op(",")) return first;
        std::vector<ExprPtr> items;
        items.push_back(std::move(first));
        while (skip_op(",")) {
            if (cur().type == TokenType::kBlockEnd || cur().type == TokenType::kVarEnd ||
                is_name("if"))
                break;
            items.push_back(parse_expression(with_condexpr));
        }
        return finish(node(Expr::Kind::kTuple, at, std::move(items)));
    }

    ExprPtr parse_expression(bool with_condexpr) {
        Guard guard(*this, cur());
        ExprPtr e = parse_or();
        if (!with_condexpr) return e;
        while (is_name("if")) {
            const Token& at = advance();
            ExprPtr cond = parse_or();
            ExprPtr otherwise = skip_name("else") ? parse_expression(true) : nullptr;
            std::vector<ExprPtr> args;
            args.push_back(std::move(cond));
            args.push_back(std::move(e));
            args.push_back(std::move(otherwise));
            e = finish(node(Expr::Kind::kCondExpr, at, std::move(args)));
        }
        return e;
    }

    ExprPtr binary(Expr::Kind kind, const Token& at, ExprPtr a, ExprPtr b, std::string op = "") {
        std::vector<ExprPtr> args;
        args.push_back(std::move(a));
        args.push_back(std::move(b));
        auto e = node(kind, at, std::move(args));
        e->name = std::move(op);
        return finish(std::move(e));
    }

    ExprPtr parse_or() {
        ExprPtr e = parse_and();
        while (is_name("or")) {
            const Token& at = advance();
            e = binary(Expr::Kind::kOr, at, std::move(e), parse_and());
        }
        return e;
    }

    ExprPtr parse_and() {
        ExprPtr e = parse_not();
        while (is_name("and")) {
            const Token& at = advance();
            e = binary(Expr::Kind::kAnd, at, std::move(e), parse_not());
        }
        return e;
    }

    ExprPtr parse_not() {
        if (is_name("not")) {
            Guard guard(*this, cur());
            const Token& at = advance();
            std::vector<ExprPtr> args;
            args.push_back(parse_not());
            return finish(node(Expr::Kind::kNot, at, std::move(args)));
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        const Token& at = cur();
        ExprPtr first = parse_math1();
        std::vector<ExprPtr> args;
        std::vector<std::string> ops;
        while (true) {
            static const char* const kCmp[] = {"==", "!=", "<", "<=", ">", ">="};
            std::string op;
            for (const char* c : kCmp) {
                if (is_op(c)) op = c;
            }
            if (!op.empty()) {
                advance();
            } else if (skip_name("in")) {
                op = "in";
            } else if (is_name("not") && look().type == TokenType::kName && look().text == "in") {
                advance();
                advance();
                op = "notin";
            } else {
                break;
            }
            if (args.empty()) args.push_back(std::move(first));
            args.push_back(parse_math1());
            ops.push_back(op);
        }
        if (args.empty()) return first;
        auto e = node(Expr::Kind::kCompare, at, std::move(args));
        e->ops = std::move(ops);
        return finish(std::move(e));
    }

    ExprPtr parse_math1() {
        ExprPtr e = parse_concat();
        while (is_op("+") || is_op("-")) {
            const Token& at = advance();
            e = binary(Expr::Kind::kBinary, at, std::move(e), parse_concat(), at.text);
        }
        return e;
    }

    ExprPtr parse_concat() {
        ExprPtr e = parse_math2();
        while (is_op("~")) {
            const Token& at = advance();
            e = binary(Expr::Kind::kBinary, at, std::move(e), parse_math2(), "~");
        }
        return e;
    }

    ExprPtr parse_math2() {
        ExprPtr e = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            const Token& at = advance();
            e = binary(Expr::Kind::kBinary, at, std::move(e), parse_pow(), at.text);
        }
        return e;
    }

    ExprPtr parse_pow() {
        ExprPtr e = parse_unary(true);
        while (is_op("**")) {
            const Token& at = advance();
            e = binary(Expr::Kind::kBinary, at, std::move(e), parse_unary(true), "**");
        }
        return e;
    }

    ExprPtr parse_unary(bool with_filter) {
        Guard guard(*this, cur());
        ExprPtr e;
        if (is_op("-") || is_op("+")) {
            const Token& at = advance();
            std::vector<ExprPtr> args;
            args.push_back(parse_unary(false));
            e = finish(node(at.text == "-" ? Expr::Kind::kNeg : Expr::Kind::kPos, at, std::move(args)));
        } else {
            e = parse_primary();
        }
        e = parse_postfix(std::move(e));
        if (with_filter) e = parse_filter_expr(std::move(e));
        return e;
    }

    ExprPtr literal(const Token& at, Value v) {
        auto e = node(Expr::Kind::kLiteral, at);
        e->literal = std::move(v);
        return finish(std::move(e));
    }

    ExprPtr parse_primary() {
        const Token& tok = cur();
        switch (tok.type) {
            case TokenType::kName: {
                advance();
                const std::string& n = tok.text;
                if (n == "true" || n == "True") return literal(tok, Value::boolean(true));
                if (n == "false" || n == "False") return literal(tok, Value::boolean(false));
                if (n == "none" || n == "None") return literal(tok, Value::none());
                auto e = node(Expr::Kind::kName, tok);
                e->name = n;
                return finish(std::move(e));
            }
            case TokenType::kString: {
                std::string s;
                while (cur().type == TokenType::kString) s += advance().text;
                return literal(tok, Value::string(std::move(s)));
            }
            case TokenType::kInt: {
                advance();
                int64_t v = 0;
                auto [ptr, ec] = std::from_chars(tok.text.data(), tok.text.data() + tok.text.size(), v);
                if (ec != std::errc() || ptr != tok.text.data() + tok.text.size()) {
                    fail(tok, "integer literal out of range: " + tok.text);
                }
                return literal(tok, Value::integer(v));
            }
            case TokenType::kFloat: {
                advance();
                double d = 0;
                auto [ptr, ec] = std::from_chars(tok.text.data(), tok.text.data() + tok.text.size(), d);
                if (ec == std::errc::result_out_of_range) {
                    d = tok.text.find("e-") != std::string::npos || tok.text.find("E-") != std::string::npos
                            ? 0.0
                            : HUGE_VAL;
                } else if (ec != std::errc()) {
                    fail(tok, "bad float literal: " + tok.text);
                }
                return literal(tok, Value::number(d));
            }
            case TokenType::kOperator:
                if (tok.text == "(") {
                    advance();
                    if (skip_op(")")) return finish(node(Expr::Kind::kTuple, tok));
                    ExprPtr e = parse_expression(true);
                    if (is_op(",")) {
                        std::vector<ExprPtr> items;
                        items.push_back(std::move(e));
                        while (skip_op(",")) {
                            if (is_op(")")) break;
                            items.push_back(parse_expression(true));
                        }
                        e = finish(node(Expr::Kind::kTuple, tok, std::move(items)));
                    }
                    expect_op(")");
                    return e;
                }
                if (tok.text == "[") {
                    advance();
                    std::vector<ExprPtr> items;
                    while (!is_op("]")) {
                        if (!items.empty()) expect_op(",");
                        if (is_op("]")) break;
                        items.push_back(parse_expression(true));
                    }
                    advance();
                    return finish(node(Expr::Kind::kList, tok, std::move(items)));
                }
                if (tok.text == "{") {
                    advance();
                    std::vector<ExprPtr> items;
                    while (!is_op("}")) {
                        if (!items.empty()) expect_op(",");
                        if (is_op("}")) break;
                        items.push_back(parse_expression(true));
                        expect_op(":");
                        items.push_back(parse_expression(true));
                    }
                    advance();
                    return finish(node(Expr::Kind::kDict, tok, std::move(items)));
                }
                break;
            default: break;
        }
        fail(tok, "unexpected " + describe(tok));
    }

    ExprPtr parse_postfix(ExprPtr e) {
        while (true) {
            if (is_op(".")) {
                const Token& at = advance();
                if (cur().type == TokenType::kInt) {
                    ExprPtr index = parse_primary();
                    e = binary(Expr::Kind::kGetItem, at, std::move(e), std::move(index));
                    continue;
                }
                std::vector<ExprPtr> args;
                args.push_back(std::move(e));
                auto g = node(Expr::Kind::kGetAttr, at, std::move(args));
                g->name = expect_identifier();
                e = finish(std::move(g));
            } else if (is_op("[")) {
                e = parse_subscript(std::move(e));
            } else if (is_op("(")) {
                e = parse_call(std::move(e));
            } else {
                return e;
            }
        }
    }

    ExprPtr parse_subscript(ExprPtr obj) {
        const Token& at = advance();  // [
        std::vector<ExprPtr> parts;   // start, stop, step
        bool slice = false;
        if (!is_op(":")) parts.push_back(parse_expression(true));
        else parts.push_back(nullptr);
        if (skip_op(":")) {
            slice = true;
            parts.push_back(is_op(":") || is_op("]") ? nullptr : parse_expression(true));
            if (skip_op(":")) {
                parts.push_back(is_op("]") ? nullptr : parse_expression(true));
            } else {
                parts.push_back(nullptr);
            }
        }
        expect_op("]");
        std::vector<ExprPtr> args;
        args.push_back(std::move(obj));
        for (auto& p : parts) args.push_back(std::move(p));
        return finish(node(slice ? Expr::Kind::kSlice : Expr::Kind::kGetItem, at, std::move(args)));
    }

    // Parses `(a, b, k=v)` into e's args (after any existing ones) and kwargs.
    void parse_call_args(Expr& e) {
        expect_op("(");
        bool first = true;
        while (!is_op(")")) {
            if (!first) expect_op(",");
            first = false;
            if (is_op(")")) break;
            if (is_op("*") || is_op("**")) fail(cur(), "*args and **kwargs calls are not supported");
            if (cur().type == TokenType::kName && look().type == TokenType::kOperator &&
                look().text == "=") {
                std::string key = advance().text;
                advance();
                e.kwargs.emplace_back(std::move(key), parse_expression(true));
            } else {
                if (!e.kwargs.empty()) fail(cur(), "positional argument follows keyword argument");
                e.args.push_back(parse_expression(true));
            }
        }
        advance();
    }

    ExprPtr parse_call(ExprPtr callee) {
        std::vector<ExprPtr> args;
        const Token& at = cur();
        args.push_back(std::move(callee));
        auto e = node(Expr::Kind::kCall, at, std::move(args));
        parse_call_args(*e);
        return finish(std::move(e));
    }

    // `| name(args) | name2 ...`; operand null for filter blocks and `set x | f`.
    ExprPtr parse_filter_chain(ExprPtr operand, bool leading_pipe = true) {
        bool first = true;
        while ((first && !leading_pipe) || is_op("|")) {
            if (!(first && !leading_pipe)) advance();
            first = false;
            const Token& at = cur();
            std::string name = expect_identifier();
            while (skip_op(".")) {
                name += ".";
                name += expect_identifier();
            }
            std::vector<ExprPtr> args;
            args.push_back(std::move(operand));
            // Like Jinja2, unknown filters are rejected when the template is compiled.
            if (!has_filter(name)) fail(at, "no filter named '" + name + "'");
            auto f = node(Expr::Kind::kFilter, at, std::move(args));
            f->name = std::move(name);
            if (is_op("(")) parse_call_args(*f);
            operand = finish(std::move(f));
        }
        return operand;
    }

    ExprPtr parse_filter_expr(ExprPtr e) {
        while (true) {
            if (is_op("|")) {
                e = parse_filter_chain(std::move(e));
            } else if (is_name("is")) {
                const Token& at = advance();
                bool negated = skip_name("not");
                std::vector<ExprPtr> args;
                args.push_back(std::move(e));
                auto t = node(Expr::Kind::kTest, at, std::move(args));
                t->negated = negated;
                t->name = expect_identifier();
                while (skip_op(".")) {
                    t->name += ".";
                    t->name += expect_identifier();
                }
                if (!has_test(t->name)) fail(at, "no test named '" + t->name + "'");
                const Token& c = cur();
                bool arg_start = c.type == TokenType::kName || c.type == TokenType::kString ||
                                 c.type == TokenType::kInt || c.type == TokenType::kFloat ||
                                 (c.type == TokenType::kOperator && (c.text == "[" || c.text == "{"));
                if (is_op("(")) {
                    parse_call_args(*t);
                } else if (arg_start && !is_name("else") && !is_name("or") && !is_name("and")) {
                    if (is_name("is")) fail(c, "you cannot chain multiple tests with is");
                    t->args.push_back(parse_postfix(parse_primary()));
                }
                e = finish(std::move(t));
            } else if (is_op("(")) {
                e = parse_call(std::move(e));
            } else {
                return e;
            }
        }
    }

    std::vector<Token> t_;
    size_t pos_ = 0;
    int recursion_ = 0;
    int stmt_depth_ = 0;
    int loop_depth_ = 0;
};

}  // namespace

std::unique_ptr<Template> parse_template(const std::string& source) {
    return Parser(tokenize(source)).run();
}

}  // namespace mmojo::jinja
