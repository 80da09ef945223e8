#include "src/text/jinja/parser.h"

#include <algorithm>
#include <fmt/format.h>
#include <initializer_list>
#include <string_view>

#include "slm/error.h"

namespace slm::jinja {

namespace {

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::text: return "text";
    case TokenKind::variable_begin: return "'{{'";
    case TokenKind::variable_end: return "end of print statement '}}'";
    case TokenKind::block_begin: return "'{%'";
    case TokenKind::block_end: return "end of statement block '%}'";
    case TokenKind::name: return "'" + t.text + "'";
    case TokenKind::string: return "string literal";
    case TokenKind::integer: return "integer literal";
    case TokenKind::floating: return "float literal";
    case TokenKind::op: return "'" + t.text + "'";
    case TokenKind::end_of_input: return "end of template";
  }
  return "token";
}

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const ParserOptions& options) : tokens_(tokens), options_(options) {}

  Body parse_template() {
    std::string_view end_found;
    Body body = parse_body({}, end_found);
    if (current().kind != TokenKind::end_of_input) fail_here("unexpected " + describe(current()));
    return body;
  }

 private:
  // Counts one level of nesting for as long as it lives.
  class NestingGuard {
   public:
    explicit NestingGuard(Parser& p) : parser_(p) {
      if (++parser_.depth_ > parser_.options_.max_nesting)
        parser_.fail_here(fmt::format("template nested too deeply (nesting limit {})", parser_.options_.max_nesting));
    }
    ~NestingGuard() { --parser_.depth_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;

   private:
    Parser& parser_;
  };

  // ---- token stream --------------------------------------------------------------------------
  const Token& current() const { return tokens_[pos_]; }
  const Token& peek(std::size_t ahead = 1) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  const Token& advance() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool at_op(std::string_view op) const { return current().kind == TokenKind::op && current().text == op; }
  bool at_name(std::string_view name) const { return current().kind == TokenKind::name && current().text == name; }
  bool skip_op(std::string_view op) {
    if (!at_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!at_name(name)) return false;
    advance();
    return true;
  }

  [[noreturn]] void fail_at(const Token& t, const std::string& what) const {
    throw Error(ErrorKind::template_syntax, fmt::format("template line {}, column {}", t.line, t.column), what);
  }
  [[noreturn]] void fail_here(const std::string& what) const { fail_at(current(), what); }

  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail_here(fmt::format("expected '{}', got {}", op, describe(current())));
  }
  void expect_name(std::string_view name) {
    if (!skip_name(name)) fail_here(fmt::format("expected '{}', got {}", name, describe(current())));
  }
  std::string expect_identifier(std::string_view what) {
    if (current().kind != TokenKind::name) fail_here(fmt::format("expected {}, got {}", what, describe(current())));
    return advance().text;
  }
  void expect_block_end() {
    if (current().kind != TokenKind::block_end)
      fail_here("expected end of statement block '%}', got " + describe(current()));
    advance();
  }

  // ---- statements ----------------------------------------------------------------------------

  // Parses until `{% name` with name in end_names (left unconsumed after the name check:
  // current() is that name token) or the end of input (allowed only when end_names is empty).
  Body parse_body(std::initializer_list<std::string_view> end_names, std::string_view& end_found) {
    NestingGuard guard(*this);
    std::string expected;
    for (auto n : end_names) expected += (expected.empty() ? "'" : " or '") + std::string(n) + "'";
    struct ExpectedEnd {
      std::string& slot;
      std::string saved;
      ~ExpectedEnd() { slot = std::move(saved); }
    } restore{expected_end_, expected_end_};
    expected_end_ = expected;
    Body body;
    for (;;) {
      const Token& t = current();
      switch (t.kind) {
        case TokenKind::end_of_input:
          if (end_names.size() != 0) fail_at(t, "unexpected end of template, expected " + expected);
          return body;
        case TokenKind::text:
          body.push_back(std::make_unique<TextStmt>(t.text, t.line));
          advance();
          break;
        case TokenKind::variable_begin: {
          advance();
          ExprPtr e = parse_tuple(/*with_condexpr=*/true, {}, /*explicit_parentheses=*/false);
          if (current().kind != TokenKind::variable_end)
            fail_here("expected end of print statement '}}', got " + describe(current()));
          advance();
          const int line = t.line;
          body.push_back(std::make_unique<PrintStmt>(std::move(e), line));
          break;
        }
        case TokenKind::block_begin: {
          const Token& name = peek();
          if (name.kind == TokenKind::name &&
              std::find(end_names.begin(), end_names.end(), std::string_view(name.text)) != end_names.end()) {
            advance();
            end_found = std::string_view(current().text);
            return body;
          }
          advance();
          body.push_back(parse_statement());
          break;
        }
        default:
          fail_at(t, "unexpected " + describe(t));
      }
    }
  }

  StmtPtr parse_statement() {
    const Token& t = current();
    if (t.kind != TokenKind::name) fail_here("expected a statement name, got " + describe(t));
    const std::string& name = t.text;
    if (name == "if") return parse_if();
    if (name == "for") return parse_for();
    if (name == "set") return parse_set();
    if (name == "macro") return parse_macro();
    if (name == "call") return parse_call_block();
    if (name == "filter") return parse_filter_block();
    if (name == "with") return parse_with();
    if (name == "do") {
      advance();
      auto stmt = std::make_unique<DoStmt>(parse_tuple(true, {}, false), t.line);
      expect_block_end();
      return stmt;
    }
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) fail_here(fmt::format("'{}' outside of a loop", name));
      const Stmt::Kind kind = name == "break" ? Stmt::Kind::break_ : Stmt::Kind::continue_;
      const int line = t.line;
      advance();
      expect_block_end();
      return std::make_unique<LoopControlStmt>(kind, line);
    }
    if (name == "generation") {
      advance();
      expect_block_end();
      auto stmt = std::make_unique<ScopeStmt>(t.line);
      std::string_view end;
      stmt->body = parse_body({"endgeneration"}, end);
      advance();
      expect_block_end();
      return stmt;
    }
    if (name == "raw") fail_here("a raw block opens with '{% raw %}' or '{% raw -%}'");
    if (name == "include" || name == "import" || name == "from" || name == "extends" || name == "block")
      fail_here(fmt::format("unsupported tag '{}': a chat template cannot load or extend other templates", name));
    if (expected_end_.empty()) fail_here(fmt::format("unknown tag '{}'", name));
    fail_here(fmt::format("unknown tag '{}' (expected {})", name, expected_end_));
  }

  StmtPtr parse_if() {
    auto stmt = std::make_unique<IfStmt>(current().line);
    advance();  // if
    for (;;) {
      ExprPtr condition = parse_tuple(/*with_condexpr=*/false, {}, false);
      expect_block_end();
      std::string_view end;
      Body body = parse_body({"elif", "else", "endif"}, end);
      stmt->branches.emplace_back(std::move(condition), std::move(body));
      const std::string which(end);
      advance();
      if (which == "elif") continue;
      if (which == "else") {
        expect_block_end();
        stmt->otherwise = parse_body({"endif"}, end);
        advance();
      }
      expect_block_end();
      return stmt;
    }
  }

  StmtPtr parse_for() {
    auto stmt = std::make_unique<ForStmt>(current().line);
    advance();  // for
    stmt->target = parse_assign_target(/*allow_attribute=*/false, {"in"});
    expect_name("in");
    stmt->iterable = parse_tuple(/*with_condexpr=*/false, {"recursive"}, false);
    if (skip_name("if")) stmt->filter = parse_expression(true);
    if (at_name("recursive")) fail_here("recursive for loops are not supported");
    expect_block_end();
    ++loop_depth_;
    std::string_view end;
    stmt->body = parse_body({"endfor", "else"}, end);
    --loop_depth_;
    const std::string which(end);
    advance();
    if (which == "else") {
      expect_block_end();
      stmt->otherwise = parse_body({"endfor"}, end);
      advance();
    }
    expect_block_end();
    return stmt;
  }

  StmtPtr parse_set() {
    const int line = current().line;
    advance();  // set
    Target target = parse_assign_target(/*allow_attribute=*/true, {});
    if (skip_op("=")) {
      auto stmt = std::make_unique<SetStmt>(line);
      stmt->target = std::move(target);
      stmt->value = parse_tuple(true, {}, false);
      expect_block_end();
      return stmt;
    }
    auto stmt = std::make_unique<SetBlockStmt>(line);
    if (target.kind != Target::Kind::name) fail_here("a block set assigns a single name");
    stmt->target = std::move(target);
    if (at_op("|")) stmt->filters = parse_filter_chain();
    expect_block_end();
    stmt->body = parse_captured_body("endset");
    advance();
    expect_block_end();
    return stmt;
  }

  std::vector<MacroParam> parse_macro_params() {
    std::vector<MacroParam> params;
    expect_op("(");
    while (!at_op(")")) {
      if (!params.empty()) expect_op(",");
      if (at_op(")")) break;
      MacroParam param;
      param.name = expect_identifier("a parameter name");
      if (skip_op("=")) {
        param.default_value = parse_expression(true);
      } else if (!params.empty() && params.back().default_value) {
        fail_here("parameter without a default follows a parameter with a default");
      }
      params.push_back(std::move(param));
    }
    expect_op(")");
    return params;
  }

  // A body rendered into a string of its own (macro, call, set and filter blocks): break and
  // continue cannot reach a loop outside it.
  Body parse_captured_body(std::string_view end_name) {
    const int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    std::string_view end;
    Body body = parse_body({end_name}, end);
    loop_depth_ = saved_loop_depth;
    return body;
  }

  StmtPtr parse_macro() {
    auto stmt = std::make_unique<MacroStmt>(current().line);
    advance();  // macro
    stmt->name = expect_identifier("a macro name");
    stmt->params = parse_macro_params();
    expect_block_end();
    stmt->body = parse_captured_body("endmacro");
    advance();
    expect_block_end();
    return stmt;
  }

  StmtPtr parse_call_block() {
    auto stmt = std::make_unique<CallBlockStmt>(current().line);
    advance();  // call
    auto caller = std::make_unique<MacroStmt>(stmt->line);
    caller->name = "caller";
    if (at_op("(")) caller->params = parse_macro_params();
    ExprPtr call = parse_expression(true);
    if (call->kind != Expr::Kind::call) fail_here("expected a macro call after 'call'");
    stmt->call.reset(static_cast<CallExpr*>(call.release()));
    expect_block_end();
    caller->body = parse_captured_body("endcall");
    advance();
    expect_block_end();
    stmt->caller = std::move(caller);
    return stmt;
  }

  StmtPtr parse_filter_block() {
    auto stmt = std::make_unique<FilterBlockStmt>(current().line);
    advance();  // filter
    stmt->filters = parse_filter_chain(/*start_inline=*/true);
    expect_block_end();
    stmt->body = parse_captured_body("endfilter");
    advance();
    expect_block_end();
    return stmt;
  }

  StmtPtr parse_with() {
    auto stmt = std::make_unique<WithStmt>(current().line);
    advance();  // with
    while (current().kind != TokenKind::block_end) {
      if (!stmt->assignments.empty()) expect_op(",");
      Target target = parse_assign_target(false, {});
      expect_op("=");
      stmt->assignments.emplace_back(std::move(target), parse_expression(true));
    }
    expect_block_end();
    std::string_view end;
    stmt->body = parse_body({"endwith"}, end);
    advance();
    expect_block_end();
    return stmt;
  }

  Target parse_single_target(bool allow_attribute) {
    Target t;
    if (skip_op("(")) {
      t = parse_target_tuple(allow_attribute, {}, /*parenthesized=*/true);
      expect_op(")");
      return t;
    }
    t.name = expect_identifier("a variable name");
    if (allow_attribute && skip_op(".")) {
      t.kind = Target::Kind::attribute;
      t.attribute = expect_identifier("an attribute name");
    }
    if (t.kind == Target::Kind::name && (t.name == "true" || t.name == "false" || t.name == "none" ||
                                         t.name == "True" || t.name == "False" || t.name == "None"))
      fail_here(fmt::format("cannot assign to '{}'", t.name));
    return t;
  }

  Target parse_target_tuple(bool allow_attribute, std::initializer_list<std::string_view> end_names, bool parenthesized) {
    Target tuple;
    tuple.kind = Target::Kind::tuple;
    for (;;) {
      if (!tuple.items.empty()) {
        if (!skip_op(",")) break;
      }
      if (current().kind == TokenKind::block_end || at_op(")") || at_op("=") ||
          (current().kind == TokenKind::name &&
           std::find(end_names.begin(), end_names.end(), std::string_view(current().text)) != end_names.end()))
        break;
      tuple.items.push_back(parse_single_target(allow_attribute));
      if (!at_op(",")) break;
    }
    if (tuple.items.empty()) fail_here("expected an assignment target");
    if (tuple.items.size() == 1 && !parenthesized) return std::move(tuple.items.front());
    return tuple;
  }

  Target parse_assign_target(bool allow_attribute, std::initializer_list<std::string_view> end_names) {
    NestingGuard guard(*this);
    Target t = parse_target_tuple(allow_attribute, end_names, false);
    return t;
  }

  // ---- expressions ---------------------------------------------------------------------------

  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
    NestingGuard guard(*this);
    ExprPtr expr = parse_or();
    while (at_name("if")) {
      const int line = current().line;
      advance();
      ExprPtr condition = parse_or();
      ExprPtr otherwise;
      if (skip_name("else")) otherwise = parse_condexpr();
      expr = std::make_unique<ConditionalExpr>(std::move(condition), std::move(expr), std::move(otherwise), line);
    }
    return expr;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (at_name("or")) {
      const int line = advance().line;
      left = std::make_unique<LogicalExpr>(false, std::move(left), parse_and(), line);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (at_name("and")) {
      const int line = advance().line;
      left = std::make_unique<LogicalExpr>(true, std::move(left), parse_not(), line);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (at_name("not")) {
      NestingGuard guard(*this);
      const int line = advance().line;
      return std::make_unique<UnaryExpr>(UnaryExpr::Op::logical_not, parse_not(), line);
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const int line = current().line;
    ExprPtr first = parse_math1();
    std::unique_ptr<CompareExpr> compare;
    for (;;) {
      CompareExpr::Op op;
      if (current().kind == TokenKind::op && (current().text == "==" || current().text == "!=" || current().text == "<" ||
                                              current().text == "<=" || current().text == ">" || current().text == ">=")) {
        const std::string& s = current().text;
        op = s == "==" ? CompareExpr::Op::eq : s == "!=" ? CompareExpr::Op::ne : s == "<" ? CompareExpr::Op::lt
           : s == "<=" ? CompareExpr::Op::le : s == ">" ? CompareExpr::Op::gt : CompareExpr::Op::ge;
        advance();
      } else if (at_name("in")) {
        op = CompareExpr::Op::in;
        advance();
      } else if (at_name("not") && peek().kind == TokenKind::name && peek().text == "in") {
        op = CompareExpr::Op::not_in;
        advance();
        advance();
      } else {
        break;
      }
      if (!compare) compare = std::make_unique<CompareExpr>(std::move(first), line);
      compare->rest.emplace_back(op, parse_math1());
    }
    if (compare) return compare;
    return first;
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (at_op("+") || at_op("-")) {
      const auto op = current().text == "+" ? BinaryExpr::Op::add : BinaryExpr::Op::subtract;
      const int line = advance().line;
      left = std::make_unique<BinaryExpr>(op, std::move(left), parse_concat(), line);
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_math2();
    while (at_op("~")) {
      const int line = advance().line;
      left = std::make_unique<BinaryExpr>(BinaryExpr::Op::concat, std::move(left), parse_math2(), line);
    }
    return left;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    for (;;) {
      BinaryExpr::Op op;
      if (at_op("*")) op = BinaryExpr::Op::multiply;
      else if (at_op("/")) op = BinaryExpr::Op::divide;
      else if (at_op("//")) op = BinaryExpr::Op::floor_divide;
      else if (at_op("%")) op = BinaryExpr::Op::modulo;
      else break;
      const int line = advance().line;
      left = std::make_unique<BinaryExpr>(op, std::move(left), parse_pow(), line);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (at_op("**")) {
      const int line = advance().line;
      left = std::make_unique<BinaryExpr>(BinaryExpr::Op::power, std::move(left), parse_unary(true), line);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    NestingGuard guard(*this);
    const int line = current().line;
    ExprPtr node;
    if (skip_op("-")) {
      node = std::make_unique<UnaryExpr>(UnaryExpr::Op::negate, parse_unary(false), line);
    } else if (skip_op("+")) {
      node = std::make_unique<UnaryExpr>(UnaryExpr::Op::plus, parse_unary(false), line);
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = current();
    switch (t.kind) {
      case TokenKind::name: {
        advance();
        if (t.text == "true" || t.text == "True") return std::make_unique<LiteralExpr>(Value::boolean(true), t.line);
        if (t.text == "false" || t.text == "False") return std::make_unique<LiteralExpr>(Value::boolean(false), t.line);
        if (t.text == "none" || t.text == "None") return std::make_unique<LiteralExpr>(Value::none(), t.line);
        return std::make_unique<NameExpr>(t.text, t.line);
      }
      case TokenKind::string: {
        std::string text = advance().text;
        while (current().kind == TokenKind::string) text += advance().text;  // "a" "b" -> "ab"
        return std::make_unique<LiteralExpr>(Value::string(std::move(text)), t.line);
      }
      case TokenKind::integer:
        advance();
        return std::make_unique<LiteralExpr>(Value::integer(t.integer), t.line);
      case TokenKind::floating:
        advance();
        return std::make_unique<LiteralExpr>(Value::floating(t.floating), t.line);
      case TokenKind::op:
        if (t.text == "(") {
          advance();
          ExprPtr e = parse_tuple(true, {}, /*explicit_parentheses=*/true);
          expect_op(")");
          return e;
        }
        if (t.text == "[") return parse_list();
        if (t.text == "{") return parse_dict();
        break;
      default:
        break;
    }
    fail_here("unexpected " + describe(t));
  }

  bool at_tuple_end(std::initializer_list<std::string_view> extra_end_names) const {
    const Token& t = current();
    if (t.kind == TokenKind::variable_end || t.kind == TokenKind::block_end || t.kind == TokenKind::end_of_input)
      return true;
    if (t.kind == TokenKind::op && t.text == ")") return true;
    if (t.kind == TokenKind::name)
      return std::find(extra_end_names.begin(), extra_end_names.end(), std::string_view(t.text)) != extra_end_names.end();
    return false;
  }

  // `a`, `a, b` (a tuple), or `()` inside parentheses.
  ExprPtr parse_tuple(bool with_condexpr, std::initializer_list<std::string_view> extra_end_names, bool explicit_parentheses) {
    const int line = current().line;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    for (;;) {
      if (!items.empty()) expect_op(",");
      if (at_tuple_end(extra_end_names)) break;
      items.push_back(parse_expression(with_condexpr));
      if (at_op(",")) is_tuple = true;
      else break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items.front());
      if (!explicit_parentheses) fail_here("expected an expression, got " + describe(current()));
    }
    auto tuple = std::make_unique<SequenceExpr>(Expr::Kind::tuple, line);
    tuple->items = std::move(items);
    return tuple;
  }

  ExprPtr parse_list() {
    const int line = advance().line;  // [
    auto list = std::make_unique<SequenceExpr>(Expr::Kind::list, line);
    while (!at_op("]")) {
      if (!list->items.empty()) expect_op(",");
      if (at_op("]")) break;
      list->items.push_back(parse_expression(true));
    }
    expect_op("]");
    return list;
  }

  ExprPtr parse_dict() {
    const int line = advance().line;  // {
    auto dict = std::make_unique<DictExpr>(line);
    while (!at_op("}")) {
      if (!dict->items.empty()) expect_op(",");
      if (at_op("}")) break;
      ExprPtr key = parse_expression(true);
      expect_op(":");
      dict->items.emplace_back(std::move(key), parse_expression(true));
    }
    expect_op("}");
    return dict;
  }

  ExprPtr parse_postfix(ExprPtr node) {
    for (;;) {
      if (at_op(".") || at_op("[")) node = parse_subscript(std::move(node));
      else if (at_op("(")) node = parse_call(std::move(node));
      else return node;
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    for (;;) {
      if (at_op("|")) {
        auto chain = parse_filter_chain();
        for (auto& filter : chain) {
          filter->operand = std::move(node);
          node = std::move(filter);
        }
      } else if (at_name("is")) {
        node = parse_test(std::move(node));
      } else if (at_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    const Token& t = advance();
    if (t.text == ".") {
      const Token& attr = current();
      if (attr.kind == TokenKind::name) {
        advance();
        return std::make_unique<AttributeExpr>(std::move(node), attr.text, t.line);
      }
      if (attr.kind == TokenKind::integer) {
        advance();
        return std::make_unique<SubscriptExpr>(std::move(node), std::make_unique<LiteralExpr>(Value::integer(attr.integer), t.line), t.line);
      }
      fail_here("expected an attribute name after '.', got " + describe(attr));
    }
    // '[': an index, a slice, or several (a tuple index).
    std::vector<ExprPtr> indices;
    std::unique_ptr<SliceExpr> slice;
    while (!at_op("]")) {
      if (!indices.empty() || slice) expect_op(",");
      if (slice) fail_here("slices cannot be combined with other indices");
      ExprPtr start;
      if (!at_op(":")) {
        NestingGuard guard(*this);
        start = parse_expression(true);
      }
      if (!at_op(":")) {
        indices.push_back(std::move(start));
        continue;
      }
      if (!indices.empty()) fail_here("slices cannot be combined with other indices");
      advance();  // :
      slice = std::make_unique<SliceExpr>(std::move(node), t.line);
      slice->start = std::move(start);
      if (!at_op("]") && !at_op(",") && !at_op(":")) slice->stop = parse_expression(true);
      if (skip_op(":")) {
        if (!at_op("]") && !at_op(",")) slice->step = parse_expression(true);
      }
    }
    expect_op("]");
    if (slice) return slice;
    if (indices.empty()) fail_at(t, "empty subscript");
    ExprPtr index;
    if (indices.size() == 1) {
      index = std::move(indices.front());
    } else {
      auto tuple = std::make_unique<SequenceExpr>(Expr::Kind::tuple, t.line);
      tuple->items = std::move(indices);
      index = std::move(tuple);
    }
    return std::make_unique<SubscriptExpr>(std::move(node), std::move(index), t.line);
  }

  void parse_call_args(ArgList& args) {
    expect_op("(");
    bool first = true;
    while (!at_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (at_op(")")) break;
      if (skip_op("*")) {
        if (args.star) fail_here("more than one *args in a call");
        args.star = parse_expression(true);
      } else if (skip_op("**")) {
        if (args.double_star) fail_here("more than one **kwargs in a call");
        args.double_star = parse_expression(true);
      } else if (current().kind == TokenKind::name && peek().kind == TokenKind::op && peek().text == "=") {
        std::string key = advance().text;
        advance();  // =
        for (const auto& [existing, value] : args.keyword)
          if (existing == key) fail_here(fmt::format("keyword argument '{}' repeated", key));
        args.keyword.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!args.keyword.empty() || args.star || args.double_star)
          fail_here("positional argument follows keyword argument");
        args.positional.push_back(parse_expression(true));
      }
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr callee) {
    NestingGuard guard(*this);
    const int line = current().line;
    auto call = std::make_unique<CallExpr>(std::move(callee), line);
    parse_call_args(call->args);
    return call;
  }

  std::string parse_dotted_name() {
    std::string name = expect_identifier("a filter or test name");
    while (at_op(".") && peek().kind == TokenKind::name) {
      advance();
      name += '.';
      name += advance().text;
    }
    return name;
  }

  // `| name(args) | name ...`; with start_inline the first name has no leading `|`.
  std::vector<std::unique_ptr<FilterExpr>> parse_filter_chain(bool start_inline = false) {
    std::vector<std::unique_ptr<FilterExpr>> chain;
    while (start_inline || at_op("|")) {
      if (!start_inline) advance();
      start_inline = false;
      const int line = current().line;
      auto filter = std::make_unique<FilterExpr>(nullptr, parse_dotted_name(), line);
      if (at_op("(")) {
        NestingGuard guard(*this);
        parse_call_args(filter->args);
      }
      chain.push_back(std::move(filter));
    }
    return chain;
  }

  ExprPtr parse_test(ExprPtr node) {
    const int line = advance().line;  // is
    const bool negated = skip_name("not");
    std::string name = parse_dotted_name();
    auto test = std::make_unique<TestExpr>(std::move(node), std::move(name), negated, line);
    const Token& t = current();
    if (at_op("(")) {
      NestingGuard guard(*this);
      parse_call_args(test->args);
    } else if ((t.kind == TokenKind::name || t.kind == TokenKind::string || t.kind == TokenKind::integer ||
                t.kind == TokenKind::floating || at_op("[") || at_op("{")) &&
               !(t.kind == TokenKind::name && (t.text == "else" || t.text == "or" || t.text == "and"))) {
      if (at_name("is")) fail_here("cannot chain multiple tests with 'is'");
      NestingGuard guard(*this);
      test->args.positional.push_back(parse_postfix(parse_primary()));
    }
    return test;
  }

  const std::vector<Token>& tokens_;
  ParserOptions options_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  int loop_depth_ = 0;
  std::string expected_end_;  // the end tags the innermost open block accepts, for messages
};

}  // namespace

Body parse_tokens(const std::vector<Token>& tokens, const ParserOptions& options) {
  if (tokens.empty() || tokens.back().kind != TokenKind::end_of_input) {
    throw Error(ErrorKind::internal, "template parser", "token stream without end marker");
  }
  return Parser(tokens, options).parse_template();
}

}  // namespace slm::jinja
