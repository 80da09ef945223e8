#include "src/text/jinja/operators.h"

#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "src/text/jinja/interpreter.h"
#include "src/text/jinja/string_format.h"

namespace slm::jinja {

namespace {

const char* symbol(BinaryExpr::Op op) {
  switch (op) {
    case BinaryExpr::Op::add: return "+";
    case BinaryExpr::Op::subtract: return "-";
    case BinaryExpr::Op::multiply: return "*";
    case BinaryExpr::Op::divide: return "/";
    case BinaryExpr::Op::floor_divide: return "//";
    case BinaryExpr::Op::modulo: return "%";
    case BinaryExpr::Op::power: return "**";
    case BinaryExpr::Op::concat: return "~";
  }
  return "?";
}

[[noreturn]] void unsupported(BinaryExpr::Op op, const Value& a, const Value& b) {
  a.require_defined();
  b.require_defined();
  fail(fmt::format("unsupported operand type(s) for {}: '{}' and '{}'", symbol(op), a.type_name(), b.type_name()));
}

[[noreturn]] void overflow() { fail("integer overflow (results beyond 64 bits are not supported)"); }

std::int64_t int_power(std::int64_t base, std::int64_t exponent) {
  std::int64_t result = 1;
  while (exponent > 0) {
    if (exponent & 1) {
      if (__builtin_mul_overflow(result, base, &result)) overflow();
    }
    exponent >>= 1;
    if (exponent > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
  }
  return result;
}

double float_floor_divide(double a, double b) {
  // CPython's float_floor_div: exact for the representable cases, floors toward -inf.
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0.0) {
    if ((b < 0) != (mod < 0)) div -= 1.0;
  }
  if (div != 0.0) {
    double floored = std::floor(div);
    if (div - floored > 0.5) floored += 1.0;
    return floored;
  }
  return std::copysign(0.0, a / b);
}

double float_modulo(double a, double b) {
  double mod = std::fmod(a, b);
  if (mod != 0.0) {
    if ((b < 0) != (mod < 0)) mod += b;
  } else {
    mod = std::copysign(0.0, b);
  }
  return mod;
}

Value repeat(Interpreter& rt, const Value& sequence, std::int64_t count) {
  if (sequence.is_string()) {
    const std::string& s = sequence.as_string();
    if (count <= 0 || s.empty()) return rt.make_string("");
    if (static_cast<std::uint64_t>(count) > rt.limits().max_string_bytes / s.size() + 1)
      rt.check_string_size(rt.limits().max_string_bytes + 1);  // fails
    rt.check_string_size(s.size() * static_cast<std::size_t>(count));
    std::string out;
    out.reserve(s.size() * static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) out += s;
    return rt.make_string(std::move(out));
  }
  const auto& items = sequence.items();
  if (count <= 0 || items.empty()) return sequence.is_tuple() ? rt.make_tuple({}) : rt.make_list({});
  if (static_cast<std::uint64_t>(count) > rt.limits().max_items / items.size() + 1)
    rt.check_items(rt.limits().max_items + 1);  // fails
  rt.check_items(items.size() * static_cast<std::size_t>(count));
  std::vector<Value> out;
  out.reserve(items.size() * static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) out.insert(out.end(), items.begin(), items.end());
  return sequence.is_tuple() ? rt.make_tuple(std::move(out)) : rt.make_list(std::move(out));
}

bool is_integral(const Value& v) { return v.is_int() || v.is_bool(); }

}  // namespace

Value unary_operator(Interpreter& rt, UnaryExpr::Op op, const Value& operand) {
  if (op == UnaryExpr::Op::logical_not) return Value::boolean(!operand.truthy());
  operand.require_defined();
  if (operand.is_float()) return Value::floating(op == UnaryExpr::Op::negate ? -operand.as_float() : operand.as_float());
  if (is_integral(operand)) {
    const std::int64_t i = operand.to_int();
    if (op == UnaryExpr::Op::plus) return Value::integer(i);
    if (i == std::numeric_limits<std::int64_t>::min()) overflow();
    return Value::integer(-i);
  }
  fail(fmt::format("bad operand type for unary {}: '{}'", op == UnaryExpr::Op::negate ? "-" : "+", operand.type_name()));
}

Value binary_operator(Interpreter& rt, BinaryExpr::Op op, const Value& a, const Value& b) {
  using Op = BinaryExpr::Op;
  if (op == Op::concat) {
    // Strings are used in place; only other values are converted first.
    std::string a_text, b_text;
    if (!a.is_string()) a_text = rt.str(a);
    if (!b.is_string()) b_text = rt.str(b);
    const std::string& left = a.is_string() ? a.as_string() : a_text;
    const std::string& right = b.is_string() ? b.as_string() : b_text;
    rt.check_string_size(left.size() + right.size());
    std::string out;
    out.reserve(left.size() + right.size());
    out += left;
    out += right;
    return rt.make_string(std::move(out));
  }
  a.require_defined();
  b.require_defined();

  if (a.is_number() && b.is_number()) {
    const bool integers = is_integral(a) && is_integral(b);
    if (integers) {
      const std::int64_t x = a.to_int();
      const std::int64_t y = b.to_int();
      std::int64_t r = 0;
      switch (op) {
        case Op::add:
          if (__builtin_add_overflow(x, y, &r)) overflow();
          return Value::integer(r);
        case Op::subtract:
          if (__builtin_sub_overflow(x, y, &r)) overflow();
          return Value::integer(r);
        case Op::multiply:
          if (__builtin_mul_overflow(x, y, &r)) overflow();
          return Value::integer(r);
        case Op::divide:
          if (y == 0) fail("division by zero");
          return Value::floating(static_cast<double>(x) / static_cast<double>(y));
        case Op::floor_divide: {
          if (y == 0) fail("integer division or modulo by zero");
          if (x == std::numeric_limits<std::int64_t>::min() && y == -1) overflow();
          std::int64_t q = x / y;
          if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
          return Value::integer(q);
        }
        case Op::modulo: {
          if (y == 0) fail("integer division or modulo by zero");
          if (y == -1) return Value::integer(0);
          std::int64_t m = x % y;
          if (m != 0 && ((m < 0) != (y < 0))) m += y;
          return Value::integer(m);
        }
        case Op::power:
          if (y < 0) {
            if (x == 0) fail("0.0 cannot be raised to a negative power");
            return Value::floating(std::pow(static_cast<double>(x), static_cast<double>(y)));
          }
          return Value::integer(int_power(x, y));
        case Op::concat:
          break;
      }
    }
    const double x = a.to_double();
    const double y = b.to_double();
    switch (op) {
      case Op::add: return Value::floating(x + y);
      case Op::subtract: return Value::floating(x - y);
      case Op::multiply: return Value::floating(x * y);
      case Op::divide:
        if (y == 0.0) fail("float division by zero");
        return Value::floating(x / y);
      case Op::floor_divide:
        if (y == 0.0) fail("float floor division by zero");
        return Value::floating(float_floor_divide(x, y));
      case Op::modulo:
        if (y == 0.0) fail("float modulo");
        return Value::floating(float_modulo(x, y));
      case Op::power: {
        if (x == 0.0 && y < 0) fail("0.0 cannot be raised to a negative power");
        if (x < 0 && std::trunc(y) != y) fail("negative number raised to a fractional power (complex result)");
        const double r = std::pow(x, y);
        if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) fail("numerical result out of range");
        return Value::floating(r);
      }
      case Op::concat:
        break;
    }
  }

  switch (op) {
    case Op::add:
      if (a.is_string() && b.is_string()) {
        rt.check_string_size(a.as_string().size() + b.as_string().size());
        std::string s;
        s.reserve(a.as_string().size() + b.as_string().size());
        s += a.as_string();
        s += b.as_string();
        return rt.make_string(std::move(s));
      }
      if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
        rt.check_items(a.items().size() + b.items().size());
        std::vector<Value> items = a.items();
        items.insert(items.end(), b.items().begin(), b.items().end());
        return a.is_tuple() ? rt.make_tuple(std::move(items)) : rt.make_list(std::move(items));
      }
      if (a.is_string() || a.is_list())
        fail(fmt::format("can only concatenate {} (not \"{}\") to {}", a.type_name(), b.type_name(), a.type_name()));
      break;
    case Op::multiply:
      if ((a.is_string() || a.is_list()) && is_integral(b)) return repeat(rt, a, b.to_int());
      if ((b.is_string() || b.is_list()) && is_integral(a)) return repeat(rt, b, a.to_int());
      if (a.is_string() || a.is_list() || b.is_string() || b.is_list())
        fail(fmt::format("can't multiply sequence by non-int of type '{}'",
                         (a.is_string() || a.is_list()) ? b.type_name() : a.type_name()));
      break;
    case Op::modulo:
      if (a.is_string()) return rt.make_string(percent_format(rt, a.as_string(), b));
      break;
    default:
      break;
  }
  unsupported(op, a, b);
}

bool contains(Interpreter& rt, const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::string:
      if (!item.is_string()) {
        item.require_defined();
        fail(fmt::format("'in <string>' requires string as left operand, not {}", item.type_name()));
      }
      rt.charge_work(container.as_string().size());
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::list:
      for (const Value& v : container.items())
        if (equal(v, item, &rt.meter())) return true;
      return false;
    case Value::Kind::dict:
      if (container.is_namespace()) break;
      if (item.is_list() && !item.is_tuple()) fail("unhashable type: 'list'");
      if (item.is_dict()) fail("unhashable type: 'dict'");
      return container.dict_data().find(item, &rt.meter()) != nullptr;
    case Value::Kind::undefined:
      return false;  // Jinja's Undefined iterates as empty
    default:
      break;
  }
  fail(fmt::format("argument of type '{}' is not iterable", container.type_name()));
}

}  // namespace slm::jinja
