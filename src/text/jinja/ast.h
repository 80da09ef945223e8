// The parsed form of a template: expression and statement nodes, each remembering its source
// line for error messages. Nodes are immutable after parsing; a Template may be rendered from
// several threads at once.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "src/text/jinja/value.h"

namespace slm::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

// Arguments as written at a call site: f(a, b, key=c, *rest, **more).
struct ArgList {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
  ExprPtr star;         // *rest
  ExprPtr double_star;  // **more
};

struct Expr {
  enum class Kind {
    literal, name, list, tuple, dict, attribute, subscript, slice, call, filter, test,
    unary, binary, compare, conditional, logical,
  };
  explicit Expr(Kind k, int l) : kind(k), line(l) {}
  virtual ~Expr() = default;
  Kind kind;
  int line;
};

struct LiteralExpr : Expr {
  LiteralExpr(Value v, int l) : Expr(Kind::literal, l), value(std::move(v)) {}
  Value value;
};

struct NameExpr : Expr {
  NameExpr(std::string n, int l) : Expr(Kind::name, l), name(std::move(n)) {}
  std::string name;
};

struct SequenceExpr : Expr {  // list [a, b] or tuple (a, b)
  SequenceExpr(Kind k, int l) : Expr(k, l) {}
  std::vector<ExprPtr> items;
};

struct DictExpr : Expr {
  explicit DictExpr(int l) : Expr(Kind::dict, l) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

struct AttributeExpr : Expr {  // object.name
  AttributeExpr(ExprPtr o, std::string n, int l) : Expr(Kind::attribute, l), object(std::move(o)), name(std::move(n)) {}
  ExprPtr object;
  std::string name;
};

struct SubscriptExpr : Expr {  // object[index]
  SubscriptExpr(ExprPtr o, ExprPtr i, int l) : Expr(Kind::subscript, l), object(std::move(o)), index(std::move(i)) {}
  ExprPtr object;
  ExprPtr index;
};

struct SliceExpr : Expr {  // object[start:stop:step], each part optional
  SliceExpr(ExprPtr o, int l) : Expr(Kind::slice, l), object(std::move(o)) {}
  ExprPtr object, start, stop, step;
};

struct CallExpr : Expr {
  CallExpr(ExprPtr c, int l) : Expr(Kind::call, l), callee(std::move(c)) {}
  ExprPtr callee;
  ArgList args;
};

struct FilterExpr : Expr {  // operand | name(args); operand is null inside {% filter %} blocks
  FilterExpr(ExprPtr o, std::string n, int l) : Expr(Kind::filter, l), operand(std::move(o)), name(std::move(n)) {}
  ExprPtr operand;
  std::string name;
  ArgList args;
};

struct TestExpr : Expr {  // operand is [not] name(args)
  TestExpr(ExprPtr o, std::string n, bool neg, int l)
      : Expr(Kind::test, l), operand(std::move(o)), name(std::move(n)), negated(neg) {}
  ExprPtr operand;
  std::string name;
  bool negated;
  ArgList args;
};

struct UnaryExpr : Expr {
  enum class Op { negate, plus, logical_not };
  UnaryExpr(Op o, ExprPtr e, int l) : Expr(Kind::unary, l), op(o), operand(std::move(e)) {}
  Op op;
  ExprPtr operand;
};

struct BinaryExpr : Expr {
  enum class Op { add, subtract, multiply, divide, floor_divide, modulo, power, concat };
  BinaryExpr(Op o, ExprPtr a, ExprPtr b, int l) : Expr(Kind::binary, l), op(o), left(std::move(a)), right(std::move(b)) {}
  Op op;
  ExprPtr left, right;
};

struct LogicalExpr : Expr {  // and / or, returning an operand as Python does
  LogicalExpr(bool is_and, ExprPtr a, ExprPtr b, int l)
      : Expr(Kind::logical, l), is_and(is_and), left(std::move(a)), right(std::move(b)) {}
  bool is_and;
  ExprPtr left, right;
};

struct CompareExpr : Expr {  // a < b <= c chains as in Python
  enum class Op { eq, ne, lt, le, gt, ge, in, not_in };
  CompareExpr(ExprPtr f, int l) : Expr(Kind::compare, l), first(std::move(f)) {}
  ExprPtr first;
  std::vector<std::pair<Op, ExprPtr>> rest;
};

struct ConditionalExpr : Expr {  // then if condition else otherwise (otherwise may be null)
  ConditionalExpr(ExprPtr c, ExprPtr t, ExprPtr o, int l)
      : Expr(Kind::conditional, l), condition(std::move(c)), then(std::move(t)), otherwise(std::move(o)) {}
  ExprPtr condition, then, otherwise;
};

// Left side of an assignment or loop variable: a name, a tuple of targets, or namespace.attr.
struct Target {
  enum class Kind { name, tuple, attribute };
  Kind kind = Kind::name;
  std::string name;             // name, or the namespace variable for attribute
  std::string attribute;        // attribute
  std::vector<Target> items;    // tuple
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null when required
};

struct Stmt {
  enum class Kind {
    text, print, if_, for_, set, set_block, macro, call_block, filter_block, with, break_, continue_, do_, scope,
  };
  explicit Stmt(Kind k, int l) : kind(k), line(l) {}
  virtual ~Stmt() = default;
  Kind kind;
  int line;
};

struct TextStmt : Stmt {
  TextStmt(std::string t, int l) : Stmt(Kind::text, l), text(std::move(t)) {}
  std::string text;
};

struct PrintStmt : Stmt {  // {{ expr }}
  PrintStmt(ExprPtr e, int l) : Stmt(Kind::print, l), expr(std::move(e)) {}
  ExprPtr expr;
};

struct IfStmt : Stmt {
  explicit IfStmt(int l) : Stmt(Kind::if_, l) {}
  std::vector<std::pair<ExprPtr, Body>> branches;  // if, then each elif
  Body otherwise;
};

struct ForStmt : Stmt {
  explicit ForStmt(int l) : Stmt(Kind::for_, l) {}
  Target target;
  ExprPtr iterable;
  ExprPtr filter;  // for x in xs if filter
  Body body;
  Body otherwise;  // {% else %}: ran when nothing was iterated
};

struct SetStmt : Stmt {
  explicit SetStmt(int l) : Stmt(Kind::set, l) {}
  Target target;
  ExprPtr value;
};

struct SetBlockStmt : Stmt {  // {% set name | filters %}body{% endset %}
  explicit SetBlockStmt(int l) : Stmt(Kind::set_block, l) {}
  Target target;
  std::vector<std::unique_ptr<FilterExpr>> filters;  // applied in order to the captured text
  Body body;
};

struct MacroStmt : Stmt {
  explicit MacroStmt(int l) : Stmt(Kind::macro, l) {}
  std::string name;
  std::vector<MacroParam> params;
  Body body;
};

struct CallBlockStmt : Stmt {  // {% call(params) macro(args) %}body{% endcall %}
  explicit CallBlockStmt(int l) : Stmt(Kind::call_block, l) {}
  std::unique_ptr<CallExpr> call;
  std::unique_ptr<MacroStmt> caller;  // the body as an anonymous macro named "caller"
};

struct FilterBlockStmt : Stmt {
  explicit FilterBlockStmt(int l) : Stmt(Kind::filter_block, l) {}
  std::vector<std::unique_ptr<FilterExpr>> filters;
  Body body;
};

struct WithStmt : Stmt {
  explicit WithStmt(int l) : Stmt(Kind::with, l) {}
  std::vector<std::pair<Target, ExprPtr>> assignments;
  Body body;
};

struct LoopControlStmt : Stmt {  // break / continue
  LoopControlStmt(Kind k, int l) : Stmt(k, l) {}
};

struct DoStmt : Stmt {  // {% do expr %}: evaluate, print nothing
  DoStmt(ExprPtr e, int l) : Stmt(Kind::do_, l), expr(std::move(e)) {}
  ExprPtr expr;
};

struct ScopeStmt : Stmt {  // {% generation %}...{% endgeneration %}: renders its body as is
  explicit ScopeStmt(int l) : Stmt(Kind::scope, l) {}
  Body body;
};

}  // namespace slm::jinja
