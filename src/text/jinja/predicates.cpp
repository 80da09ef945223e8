// Jinja2's builtin tests: `x is name(args)`, with Python's type rules (a bool is a number but
// not an integer; Undefined is iterable and a sequence, as jinja2.Undefined is).
#include <cmath>
#include <fmt/format.h>
#include <unordered_map>

#include "src/text/jinja/arguments.h"
#include "src/text/jinja/builtins.h"
#include "src/text/jinja/interpreter.h"
#include "src/text/jinja/operators.h"
#include "src/text/jinja/unicode.h"

namespace slm::jinja {

namespace {

const Value& other(const CallArgs& args, std::string_view test) {
  Arguments a(test, args, {"other"});
  if (!a.get(0)) fail(fmt::format("test '{}' needs a value to compare with", test));
  return *a.get(0);
}

bool t_defined(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("defined", args, {});
  return !v.is_undefined();
}
bool t_undefined(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("undefined", args, {});
  return v.is_undefined();
}
bool t_none(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("none", args, {});
  return v.is_none();
}
bool t_boolean(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("boolean", args, {});
  return v.is_bool();
}
bool t_true(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("true", args, {});
  return v.is_bool() && v.as_bool();
}
bool t_false(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("false", args, {});
  return v.is_bool() && !v.as_bool();
}
bool t_string(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("string", args, {});
  return v.is_string();
}
bool t_number(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("number", args, {});
  return v.is_number();
}
bool t_integer(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("integer", args, {});
  return v.is_int();
}
bool t_float(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("float", args, {});
  return v.is_float();
}
bool t_mapping(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("mapping", args, {});
  return v.is_dict() && !v.is_namespace();
}
bool t_iterable(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("iterable", args, {});
  return v.is_list() || v.is_string() || (v.is_dict() && !v.is_namespace()) || v.is_undefined();
}
bool t_sequence(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("sequence", args, {});
  return v.is_list() || v.is_string() || (v.is_dict() && !v.is_namespace()) || v.is_undefined();
}
bool t_callable(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("callable", args, {});
  return v.is_callable() || v.is_undefined();  // jinja2.Undefined defines __call__ (which raises)
}
bool t_escaped(Interpreter&, const Value&, const CallArgs& args) {
  Arguments("escaped", args, {});
  return false;  // no autoescaping: nothing is Markup
}

// Jinja2's `value % 2 == 1` / `== 0`, with Python's `%` (a string formats instead).
bool t_odd(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("odd", args, {});
  return equal(binary_operator(rt, BinaryExpr::Op::modulo, v, Value::integer(2)), Value::integer(1));
}
bool t_even(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("even", args, {});
  return equal(binary_operator(rt, BinaryExpr::Op::modulo, v, Value::integer(2)), Value::integer(0));
}
bool t_divisibleby(Interpreter& rt, const Value& v, const CallArgs& args) {
  const Value& num = other(args, "divisibleby");
  const Value remainder = binary_operator(rt, BinaryExpr::Op::modulo, v, num);
  return equal(remainder, Value::integer(0));
}

bool t_eq(Interpreter& rt, const Value& v, const CallArgs& args) { return equal(v, other(args, "eq"), &rt.meter()); }
bool t_ne(Interpreter& rt, const Value& v, const CallArgs& args) { return !equal(v, other(args, "ne"), &rt.meter()); }
bool t_lt(Interpreter& rt, const Value& v, const CallArgs& args) { return less(v, other(args, "lt"), &rt.meter()); }
bool t_gt(Interpreter& rt, const Value& v, const CallArgs& args) { return less(other(args, "gt"), v, &rt.meter()); }
bool t_le(Interpreter& rt, const Value& v, const CallArgs& args) {
  const Value& o = other(args, "le");
  return less(v, o, &rt.meter()) || equal(v, o, &rt.meter());
}
bool t_ge(Interpreter& rt, const Value& v, const CallArgs& args) {
  const Value& o = other(args, "ge");
  return less(o, v, &rt.meter()) || equal(v, o, &rt.meter());
}
bool t_in(Interpreter& rt, const Value& v, const CallArgs& args) { return contains(rt, other(args, "in"), v); }
bool t_sameas(Interpreter&, const Value& v, const CallArgs& args) { return v.same_as(other(args, "sameas")); }

bool t_lower(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("lower", args, {});
  const std::string s = v.is_string() ? v.as_string() : rt.str(v);
  return unicode::lower(s) == s && unicode::upper(s) != s;
}
bool t_upper(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("upper", args, {});
  const std::string s = v.is_string() ? v.as_string() : rt.str(v);
  return unicode::upper(s) == s && unicode::lower(s) != s;
}
bool t_filter(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("filter", args, {});
  return v.is_string() && find_filter(v.as_string()) != nullptr;
}
bool t_test(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("test", args, {});
  return v.is_string() && find_test(v.as_string()) != nullptr;
}

const std::unordered_map<std::string_view, TestFunction>& test_table() {
  static const std::unordered_map<std::string_view, TestFunction> table = {
      {"boolean", t_boolean},   {"callable", t_callable}, {"defined", t_defined},   {"divisibleby", t_divisibleby},
      {"eq", t_eq},             {"equalto", t_eq},        {"==", t_eq},             {"escaped", t_escaped},
      {"even", t_even},         {"false", t_false},       {"filter", t_filter},     {"float", t_float},
      {"ge", t_ge},             {">=", t_ge},             {"gt", t_gt},             {"greaterthan", t_gt},
      {">", t_gt},              {"in", t_in},             {"integer", t_integer},   {"iterable", t_iterable},
      {"le", t_le},             {"<=", t_le},             {"lower", t_lower},       {"lt", t_lt},
      {"lessthan", t_lt},       {"<", t_lt},              {"mapping", t_mapping},   {"ne", t_ne},
      {"!=", t_ne},             {"none", t_none},         {"number", t_number},     {"odd", t_odd},
      {"sameas", t_sameas},     {"sequence", t_sequence}, {"string", t_string},     {"test", t_test},
      {"true", t_true},         {"undefined", t_undefined}, {"upper", t_upper},
  };
  return table;
}

}  // namespace

TestFunction find_test(std::string_view name) {
  const auto& table = test_table();
  auto it = table.find(name);
  return it == table.end() ? nullptr : it->second;
}

}  // namespace slm::jinja
