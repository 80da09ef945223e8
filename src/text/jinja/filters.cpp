// Jinja2's builtin filters (plus Hugging Face's tojson), with Jinja2 3.1's semantics. Filters that
// Jinja implements as generators (map, select, unique, ...) return lists here.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "src/text/jinja/arguments.h"
#include "src/text/jinja/builtins.h"
#include "src/text/jinja/interpreter.h"
#include "src/text/jinja/json_dump.h"
#include "src/text/jinja/operators.h"
#include "src/text/jinja/python_repr.h"
#include "src/text/jinja/string_format.h"
#include "src/text/jinja/string_ops.h"
#include "src/text/jinja/unicode.h"

namespace slm::jinja {

namespace {

// ---- helpers -------------------------------------------------------------------------------

Value lowered_if_string(const Value& v, bool case_sensitive) {
  if (case_sensitive || !v.is_string()) return v;
  return Value::string(unicode::lower(v.as_string()));
}

// Jinja's make_attrgetter: an attribute path (or none), then case folding for comparisons.
Value sort_key(Interpreter& rt, const Value& item, const Value* attribute, bool case_sensitive) {
  Value key = item;
  if (attribute && !attribute->is_none()) {
    if (attribute->is_string()) key = attribute_path(rt, item, attribute->as_string());
    else if (attribute->is_int()) key = rt.item(item, *attribute);
    else fail("attribute must be a string or an integer");
  }
  return lowered_if_string(key, case_sensitive);
}

// Stable sort by precomputed keys; reverse keeps equal items in their original order, as
// Python's sorted(reverse=True) does.
std::vector<Value> sorted_by_keys(Interpreter& rt, std::vector<Value> items, const std::vector<Value>& keys, bool reverse) {
  std::vector<std::size_t> order(items.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return reverse ? less(keys[b], keys[a], &rt.meter()) : less(keys[a], keys[b], &rt.meter());
  });
  std::vector<Value> out;
  out.reserve(items.size());
  for (std::size_t i : order) out.push_back(std::move(items[i]));
  return out;
}

std::int64_t length_of(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::string: return static_cast<std::int64_t>(unicode::length(v.as_string()));
    case Value::Kind::list: return static_cast<std::int64_t>(v.items().size());
    case Value::Kind::dict:
      if (v.is_namespace()) break;
      return static_cast<std::int64_t>(v.dict_data().size());
    case Value::Kind::undefined: return 0;
    case Value::Kind::loop: return static_cast<std::int64_t>(v.loop_ptr()->items->size());
    default: break;
  }
  fail(fmt::format("object of type '{}' has no len()", v.type_name()));
}

// Python's int(text, base) for base 10 (and 0/2/8/16 prefixes), or nullopt when it would raise.
std::optional<std::int64_t> parse_python_int(std::string_view text, std::int64_t base) {
  std::string s = strings::strip(text, std::nullopt, true, true);
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (i + 1 < s.size() && s[i] == '0') {
    const char p = static_cast<char>(s[i + 1] | 0x20);
    const int prefixed = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
    if (prefixed && (base == 0 || base == prefixed)) {
      base = prefixed;
      i += 2;
      if (i < s.size() && s[i] == '_') ++i;
    }
  }
  if (base == 0) base = 10;
  if (base < 2 || base > 36 || i >= s.size()) return std::nullopt;
  std::uint64_t value = 0;
  bool last_underscore = true;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      if (last_underscore) return std::nullopt;
      last_underscore = true;
      continue;
    }
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') d = (c | 0x20) - 'a' + 10;
    else return std::nullopt;
    if (d >= base) return std::nullopt;
    last_underscore = false;
    if (value > (static_cast<std::uint64_t>(INT64_MAX) + 1 - static_cast<std::uint64_t>(d)) / static_cast<std::uint64_t>(base))
      fail("integer overflow (results beyond 64 bits are not supported)");
    value = value * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
  }
  if (last_underscore) return std::nullopt;
  if (!negative && value > static_cast<std::uint64_t>(INT64_MAX)) fail("integer overflow (results beyond 64 bits are not supported)");
  return negative ? static_cast<std::int64_t>(0 - value) : static_cast<std::int64_t>(value);
}

// Python's float(text), or nullopt when it would raise.
std::optional<double> parse_python_float(std::string_view text) {
  std::string s = strings::strip(text, std::nullopt, true, true);
  std::string lowered = unicode::lower(s);
  std::string_view body = lowered;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") return negative ? -HUGE_VAL : HUGE_VAL;
  if (body == "nan") return std::nan("");
  // digits [. digits] [e [sign] digits], underscores only between digits
  std::string clean;
  bool digits_before = false, digits_after = false, seen_dot = false, seen_e = false, exp_digits = false;
  char previous = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c >= '0' && c <= '9') {
      (seen_e ? exp_digits : seen_dot ? digits_after : digits_before) = true;
      clean += c;
    } else if (c == '_') {
      if (!(previous >= '0' && previous <= '9') || i + 1 >= body.size() || body[i + 1] < '0' || body[i + 1] > '9')
        return std::nullopt;
    } else if (c == '.' && !seen_dot && !seen_e) {
      seen_dot = true;
      clean += c;
    } else if (c == 'e' && !seen_e && (digits_before || digits_after)) {
      seen_e = true;
      clean += c;
      if (i + 1 < body.size() && (body[i + 1] == '+' || body[i + 1] == '-')) clean += body[++i];
    } else {
      return std::nullopt;
    }
    previous = c;
  }
  if (!(digits_before || digits_after) || (seen_e && !exp_digits)) return std::nullopt;
  const double value = std::strtod(clean.c_str(), nullptr);
  return negative ? -value : value;
}

// Python's round(x, ndigits) for floats: correctly rounded, ties to even on the exact binary value.
double python_round(double x, std::int64_t ndigits) {
  if (!std::isfinite(x) || x == 0.0) return x;
  if (ndigits > 320) return x;
  if (ndigits >= 0) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(ndigits), x);
    return std::strtod(buf, nullptr);
  }
  if (ndigits < -320) return std::copysign(0.0, x);
  const double scale = std::pow(10.0, static_cast<double>(-ndigits));
  return std::nearbyint(x / scale) * scale;
}

// The text a string filter works on (str() of anything else), charged as work: the filters
// below scan or copy it.
std::string text_of(Interpreter& rt, const Value& v) {
  if (!v.is_string()) return rt.str(v);
  rt.charge_work(v.as_string().size());
  return v.as_string();
}

// ---- filters -------------------------------------------------------------------------------

Value f_abs(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("abs", args, {});
  if (v.is_float()) return Value::floating(std::fabs(v.as_float()));
  if (v.is_int() || v.is_bool()) {
    const std::int64_t i = v.to_int();
    if (i == INT64_MIN) fail("integer overflow (results beyond 64 bits are not supported)");
    return Value::integer(i < 0 ? -i : i);
  }
  v.require_defined();
  fail(fmt::format("bad operand type for abs(): '{}'", v.type_name()));
}

Value f_attr(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("attr", args, {"name"});
  const std::string name = a.string(0, "");
  // getattr only: no fallback to dict keys (a dict's keys are items, not attributes).
  if (v.is_dict() && !v.is_namespace()) return has_method(v, name) ? bind_method(v, name) : Value::undefined(fmt::format("'dict object' has no attribute '{}'", name));
  return rt.attribute(v, name);
}

Value f_batch(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("batch", args, {"linecount", "fill_with"});
  const std::int64_t count = a.integer(0, 0);
  if (count <= 0) fail("batch(): linecount must be positive");
  const std::vector<Value> items = rt.iterate(v);
  std::vector<Value> batches;
  std::vector<Value> current;
  for (const Value& item : items) {
    current.push_back(item);
    if (static_cast<std::int64_t>(current.size()) == count) {
      batches.push_back(rt.make_list(std::move(current)));
      current.clear();
    }
  }
  if (!current.empty()) {
    if (a.get(1) && !a.get(1)->is_none()) {
      rt.check_items(static_cast<std::size_t>(count));
      while (static_cast<std::int64_t>(current.size()) < count) current.push_back(*a.get(1));
    }
    batches.push_back(rt.make_list(std::move(current)));
  }
  return rt.make_list(std::move(batches));
}

Value f_capitalize(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("capitalize", args, {});
  return rt.make_string(strings::capitalize(text_of(rt, v)));
}

Value f_center(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("center", args, {"width"});
  const std::int64_t width = a.integer(0, 80);
  return rt.make_string(strings::justify(text_of(rt, v), static_cast<std::size_t>(std::max<std::int64_t>(0, width)), '^',
                                         " ", rt.limits().max_string_bytes));
}

Value f_default(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments a("default", args, {"default_value", "boolean"});
  const bool boolean = a.boolean(1, false);
  if (v.is_undefined() || (boolean && !v.truthy())) return a.get(0) ? *a.get(0) : Value::string("");
  return v;
}

Value f_dictsort(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("dictsort", args, {"case_sensitive", "by", "reverse"});
  const bool case_sensitive = a.boolean(0, false);
  const std::string by = a.string(1, "key");
  if (by != "key" && by != "value") fail("You can only sort by either \"key\" or \"value\"");
  const bool reverse = a.boolean(2, false);
  if (!v.is_dict() || v.is_namespace()) {
    v.require_defined();
    fail(fmt::format("dictsort expects a mapping, not {}", v.type_name()));
  }
  std::vector<Value> pairs, keys;
  for (const auto& [key, value] : v.dict_data().items()) {
    pairs.push_back(Value::tuple({key, value}));
    keys.push_back(lowered_if_string(by == "key" ? key : value, case_sensitive));
  }
  return rt.make_list(sorted_by_keys(rt, std::move(pairs), keys, reverse));
}

Value f_escape(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("escape", args, {});
  return rt.make_string(strings::html_escape(text_of(rt, v)));
}

Value f_first(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("first", args, {});
  if (v.is_list()) return v.items().empty() ? Value::undefined("No first item, sequence was empty.") : v.items().front();
  const std::vector<Value> items = rt.iterate(v);
  return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}

Value f_float(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments a("float", args, {"default"});
  const Value fallback = a.get(0) ? *a.get(0) : Value::floating(0.0);
  v.require_defined();  // float(Undefined) raises in Jinja2, it does not fall back
  if (v.is_float()) return v;
  if (v.is_int() || v.is_bool()) return Value::floating(v.to_double());
  if (v.is_string()) {
    if (auto parsed = parse_python_float(v.as_string())) return Value::floating(*parsed);
  }
  return fallback;
}

Value f_format(Interpreter& rt, const Value& v, const CallArgs& args) {
  if (!args.positional.empty() && !args.keyword.empty()) fail("can't handle positional and keyword arguments at the same time");
  Value format_args;
  if (!args.keyword.empty()) {
    auto dict = std::make_shared<Dict>();
    for (const auto& [key, value] : args.keyword) dict->set(Value::string(key), value, &rt.meter());
    format_args = Value::dict(std::move(dict));
  } else {
    format_args = Value::tuple(args.positional);
  }
  return rt.make_string(percent_format(rt, text_of(rt, v), format_args));
}

Value f_indent(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("indent", args, {"width", "first", "blank"});
  std::string indentation;
  if (a.get(0) && a.get(0)->is_string()) {
    indentation = a.get(0)->as_string();
  } else {
    const std::int64_t width = a.integer(0, 4);
    rt.check_string_size(static_cast<std::size_t>(std::max<std::int64_t>(0, width)));
    indentation.assign(static_cast<std::size_t>(std::max<std::int64_t>(0, width)), ' ');
  }
  const bool first = a.boolean(1, false);
  const bool blank = a.boolean(2, false);
  if (!v.is_string()) {  // Jinja2 appends "\n" to the value itself
    v.require_defined();
    fail(fmt::format("unsupported operand type(s) for +=: '{}' and 'str'", v.type_name()));
  }
  std::string s = text_of(rt, v);
  s += '\n';  // Jinja's quirk, so that splitlines keeps a trailing empty line
  const std::vector<std::string> lines = strings::splitlines(s, false);
  std::string out;
  auto add = [&](std::string_view piece) {
    rt.check_string_size(out.size() + piece.size());
    out += piece;
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      add("\n");
      if (blank || !lines[i].empty()) add(indentation);
    }
    add(lines[i]);
  }
  if (first) out = indentation + out;
  return rt.make_string(std::move(out));
}

Value f_int(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments a("int", args, {"default", "base"});
  const Value fallback = a.get(0) ? *a.get(0) : Value::integer(0);
  const std::int64_t base = a.integer(1, 10);
  v.require_defined();  // int(Undefined) raises in Jinja2, it does not fall back
  if (v.is_int() || v.is_bool()) return Value::integer(v.to_int());
  if (v.is_float()) {
    const double d = v.as_float();
    if (!std::isfinite(d)) return fallback;
    if (std::fabs(d) >= 9.2233720368547758e18) fail("integer overflow (results beyond 64 bits are not supported)");
    return Value::integer(static_cast<std::int64_t>(d));
  }
  if (v.is_string()) {
    if (auto parsed = parse_python_int(v.as_string(), base)) return Value::integer(*parsed);
    if (auto f = parse_python_float(v.as_string()); f && std::isfinite(*f) && std::fabs(*f) < 9.2233720368547758e18)
      return Value::integer(static_cast<std::int64_t>(*f));
  }
  return fallback;
}

Value f_items(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("items", args, {});
  if (v.is_undefined()) return rt.make_list({});
  if (!v.is_dict() || v.is_namespace()) fail("Can only get item pairs from a mapping.");
  std::vector<Value> pairs;
  for (const auto& [key, value] : v.dict_data().items()) pairs.push_back(Value::tuple({key, value}));
  return rt.make_list(std::move(pairs));
}

Value f_join(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("join", args, {"d", "attribute"});
  const std::string separator = a.get(0) ? text_of(rt, *a.get(0)) : std::string();
  std::string out;
  bool first = true;
  for (const Value& item : rt.iterate(v)) {
    const Value shown = a.get(1) && !a.get(1)->is_none() ? sort_key(rt, item, a.get(1), true) : item;
    const std::string piece = text_of(rt, shown);
    rt.check_string_size(out.size() + separator.size() + piece.size());
    if (!first) out += separator;
    first = false;
    out += piece;
  }
  return rt.make_string(std::move(out));
}

Value f_last(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("last", args, {});
  if (v.is_list()) return v.items().empty() ? Value::undefined("No last item, sequence was empty.") : v.items().back();
  const std::vector<Value> items = rt.iterate(v);
  return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value f_length(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("length", args, {});
  return Value::integer(length_of(v));
}

Value f_list(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("list", args, {});
  return rt.make_list(rt.iterate(v));
}

Value f_lower(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("lower", args, {});
  return rt.make_string(unicode::lower(text_of(rt, v)));
}

Value f_upper(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("upper", args, {});
  return rt.make_string(unicode::upper(text_of(rt, v)));
}

Value f_map(Interpreter& rt, const Value& v, const CallArgs& args) {
  std::vector<Value> out;
  if (v.is_undefined() || !v.truthy()) return rt.make_list({});
  const std::vector<Value> items = rt.iterate(v);
  const Value* attribute = nullptr;
  const Value* fallback = nullptr;
  for (const auto& [key, value] : args.keyword) {
    if (key == "attribute") attribute = &value;
    else if (key == "default") fallback = &value;
  }
  if (args.positional.empty() && attribute) {
    for (const auto& [key, value] : args.keyword)
      if (key != "attribute" && key != "default") fail(fmt::format("Unexpected keyword argument '{}'", key));
    for (const Value& item : items) {
      rt.step();
      Value mapped = sort_key(rt, item, attribute, true);
      if (mapped.is_undefined() && fallback) mapped = *fallback;
      out.push_back(std::move(mapped));
    }
    return rt.make_list(std::move(out));
  }
  if (args.positional.empty() || !args.positional[0].is_string()) fail("map requires a filter argument");
  const std::string name = args.positional[0].as_string();
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  for (const Value& item : items) {
    CallArgs call = rest;
    out.push_back(rt.apply_filter(name, item, call));
  }
  return rt.make_list(std::move(out));
}

Value min_or_max(Interpreter& rt, const Value& v, const CallArgs& args, bool want_max) {
  Arguments a(want_max ? "max" : "min", args, {"case_sensitive", "attribute"});
  const bool case_sensitive = a.boolean(0, false);
  const std::vector<Value> items = rt.iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  std::size_t best = 0;
  Value best_key = sort_key(rt, items[0], a.get(1), case_sensitive);
  for (std::size_t i = 1; i < items.size(); ++i) {
    Value key = sort_key(rt, items[i], a.get(1), case_sensitive);
    if (want_max ? less(best_key, key, &rt.meter()) : less(key, best_key, &rt.meter())) {
      best = i;
      best_key = std::move(key);
    }
  }
  return items[best];
}

Value f_max(Interpreter& rt, const Value& v, const CallArgs& args) { return min_or_max(rt, v, args, true); }
Value f_min(Interpreter& rt, const Value& v, const CallArgs& args) { return min_or_max(rt, v, args, false); }

// pprint.pformat sorts dict keys (when they compare); long values are not wrapped here.
Value sorted_for_pprint(Interpreter& rt, const Value& v, int depth) {
  if (depth > 256) fail("value nested too deeply to print (a value that contains itself?)");
  if (v.is_list()) {
    std::vector<Value> items;
    for (const Value& item : v.items()) items.push_back(sorted_for_pprint(rt, item, depth + 1));
    Value copy = v.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
    copy.list_ptr()->view_name = v.list_data().view_name;
    return copy;
  }
  if (!v.is_dict() || v.is_namespace()) return v;
  std::vector<std::pair<Value, Value>> entries = v.dict_data().items();
  try {
    std::stable_sort(entries.begin(), entries.end(),
                     [&rt](const auto& x, const auto& y) { return less(x.first, y.first, &rt.meter()); });
  } catch (const RuntimeFailure&) {
    entries = v.dict_data().items();  // keys of mixed types keep their order
  }
  auto dict = std::make_shared<Dict>();
  for (auto& [key, value] : entries) dict->set(key, sorted_for_pprint(rt, value, depth + 1), &rt.meter());
  return Value::dict(std::move(dict));
}

Value f_pprint(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("pprint", args, {});
  return rt.make_string(to_repr(sorted_for_pprint(rt, v, 0), rt.limits().max_string_bytes));
}

// select / reject / selectattr / rejectattr share Jinja's select_or_reject.
Value select_or_reject(Interpreter& rt, const Value& v, const CallArgs& args, bool by_attribute, bool keep_matching) {
  std::size_t next = 0;
  std::string attribute;
  if (by_attribute) {
    if (args.positional.empty() || !args.positional[0].is_string()) fail("selectattr/rejectattr need an attribute name");
    attribute = args.positional[0].as_string();
    next = 1;
  }
  std::optional<std::string> test;
  if (next < args.positional.size()) {
    if (!args.positional[next].is_string()) fail("the test name must be a string");
    test = args.positional[next].as_string();
    ++next;
  }
  CallArgs test_args;
  test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(std::min(next, args.positional.size())),
                              args.positional.end());
  test_args.keyword = args.keyword;
  std::vector<Value> out;
  if (!v.truthy()) return rt.make_list({});  // Jinja2: `if value:` before iterating
  for (const Value& item : rt.iterate(v)) {
    rt.step();
    const Value subject = by_attribute ? attribute_path(rt, item, attribute) : item;
    bool matched;
    if (test) {
      CallArgs call = test_args;
      matched = rt.apply_test(*test, subject, call);
    } else {
      matched = subject.truthy();
    }
    if (matched == keep_matching) out.push_back(item);
  }
  return rt.make_list(std::move(out));
}

Value f_select(Interpreter& rt, const Value& v, const CallArgs& args) { return select_or_reject(rt, v, args, false, true); }
Value f_reject(Interpreter& rt, const Value& v, const CallArgs& args) { return select_or_reject(rt, v, args, false, false); }
Value f_selectattr(Interpreter& rt, const Value& v, const CallArgs& args) { return select_or_reject(rt, v, args, true, true); }
Value f_rejectattr(Interpreter& rt, const Value& v, const CallArgs& args) { return select_or_reject(rt, v, args, true, false); }

Value f_replace(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("replace", args, {"old", "new", "count"});
  if (!a.get(0) || !a.get(1)) fail("replace() needs the old and the new text");
  const std::string old_text = text_of(rt, *a.get(0));
  const std::string new_text = text_of(rt, *a.get(1));
  return rt.make_string(strings::replace(text_of(rt, v), old_text, new_text, a.integer(2, -1), rt.limits().max_string_bytes));
}

Value f_reverse(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("reverse", args, {});
  if (v.is_string()) {
    const std::string& s = v.as_string();
    rt.charge_work(s.size() * sizeof(std::size_t));
    const auto bounds = unicode::boundaries(s);
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = bounds.size() - 1; i > 0; --i) out.append(s, bounds[i - 1], bounds[i] - bounds[i - 1]);
    return rt.make_string(std::move(out));
  }
  std::vector<Value> items = rt.iterate(v);
  std::reverse(items.begin(), items.end());
  return rt.make_list(std::move(items));
}

Value f_round(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments a("round", args, {"precision", "method"});
  const std::int64_t precision = a.integer(0, 0);
  const std::string method = a.string(1, "common");
  if (method != "common" && method != "ceil" && method != "floor") fail("method must be common, ceil or floor");
  if (!v.is_number()) {
    v.require_defined();
    fail(fmt::format("type {} doesn't define __round__ method", v.type_name()));
  }
  if (method == "common") {
    if (v.is_float()) return Value::floating(python_round(v.as_float(), precision));
    if (precision >= 0) return Value::integer(v.to_int());
    return Value::integer(static_cast<std::int64_t>(python_round(static_cast<double>(v.to_int()), precision)));
  }
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double scaled = v.to_double() * scale;
  return Value::floating((method == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / scale);
}

Value f_safe(Interpreter&, const Value& v, const CallArgs& args) {
  Arguments("safe", args, {});
  return v;
}

Value f_slice(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("slice", args, {"slices", "fill_with"});
  const std::int64_t slices = a.integer(0, 0);
  if (slices <= 0) fail("slice(): slices must be positive");
  const std::vector<Value> seq = rt.iterate(v);
  const std::size_t n = static_cast<std::size_t>(slices);
  rt.check_items(n);
  const std::size_t per_slice = seq.size() / n;
  const std::size_t with_extra = seq.size() % n;
  std::size_t offset = 0;
  std::vector<Value> out;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t start = offset + i * per_slice;
    if (i < with_extra) ++offset;
    const std::size_t end = offset + (i + 1) * per_slice;
    std::vector<Value> part(seq.begin() + static_cast<std::ptrdiff_t>(start), seq.begin() + static_cast<std::ptrdiff_t>(end));
    if (a.get(1) && !a.get(1)->is_none() && i >= with_extra) part.push_back(*a.get(1));
    out.push_back(rt.make_list(std::move(part)));
  }
  return rt.make_list(std::move(out));
}

Value f_sort(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("sort", args, {"reverse", "case_sensitive", "attribute"});
  const bool reverse = a.boolean(0, false);
  const bool case_sensitive = a.boolean(1, false);
  std::vector<Value> items = rt.iterate(v);
  std::vector<Value> keys;
  keys.reserve(items.size());
  for (const Value& item : items) keys.push_back(sort_key(rt, item, a.get(2), case_sensitive));
  return rt.make_list(sorted_by_keys(rt, std::move(items), keys, reverse));
}

Value f_string(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("string", args, {});
  if (v.is_string()) return v;
  return rt.make_string(rt.str(v));
}

Value f_striptags(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("striptags", args, {});
  const std::string s = text_of(rt, v);
  std::string text;
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, 4, "<!--") == 0) {
      const std::size_t end = s.find("-->", i + 4);
      if (end != std::string::npos) {
        i = end + 3;
        continue;
      }
    }
    if (s[i] == '<') {
      const std::size_t end = s.find('>', i + 1);
      if (end != std::string::npos) {
        i = end + 1;
        continue;
      }
    }
    text += s[i++];
  }
  static const std::pair<std::string_view, std::string_view> kEntities[] = {
      {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#34;", "\""}, {"&#39;", "'"}, {"&apos;", "'"}};
  std::string unescaped;
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (text[i] == '&') {
      for (const auto& [entity, plain] : kEntities) {
        if (text.compare(i, entity.size(), entity) == 0) {
          unescaped += plain;
          i += entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) unescaped += text[i++];
  }
  std::string out;
  for (const std::string& word : strings::split(unescaped, std::nullopt, -1)) {
    if (!out.empty()) out += ' ';
    out += word;
  }
  return rt.make_string(std::move(out));
}

Value f_sum(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("sum", args, {"attribute", "start"});
  Value total = a.get(1) ? *a.get(1) : Value::integer(0);
  for (const Value& item : rt.iterate(v)) {
    const Value term = a.get(0) && !a.get(0)->is_none() ? sort_key(rt, item, a.get(0), true) : item;
    rt.step();
    total = binary_operator(rt, BinaryExpr::Op::add, total, term);
  }
  return total;
}

Value f_title(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("title", args, {});
  return rt.make_string(strings::jinja_title(text_of(rt, v)));
}

Value f_tojson(Interpreter& rt, const Value& v, const CallArgs& args) {
  // Hugging Face's signature: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
  Arguments a("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions options;
  options.ensure_ascii = a.boolean(0, false);
  if (const Value* indent = a.get(1); indent && !indent->is_none()) {
    if (indent->is_string()) {
      options.indent = indent->as_string();
    } else if (indent->is_int() || indent->is_bool()) {
      const std::int64_t width = std::max<std::int64_t>(0, indent->to_int());
      rt.check_string_size(static_cast<std::size_t>(width));
      options.indent = std::string(static_cast<std::size_t>(width), ' ');
    } else {
      a.fail_type(1, "an integer or a string");
    }
  }
  if (const Value* separators = a.get(2); separators && !separators->is_none()) {
    if (!separators->is_list() || separators->items().size() != 2 || !separators->items()[0].is_string() ||
        !separators->items()[1].is_string())
      a.fail_type(2, "a pair of strings");
    options.item_separator = separators->items()[0].as_string();
    options.key_separator = separators->items()[1].as_string();
  }
  options.sort_keys = a.boolean(3, false);
  return rt.make_string(json_dumps(v, options, rt.limits().max_string_bytes));
}

Value f_trim(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("trim", args, {"chars"});
  std::optional<std::string> chars;
  if (a.get(0) && !a.get(0)->is_none()) chars = a.string(0, "");
  return rt.make_string(strings::strip(text_of(rt, v), chars, true, true));
}

Value f_truncate(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("truncate", args, {"length", "killwords", "end", "leeway"});
  const std::int64_t length = a.integer(0, 255);
  const bool killwords = a.boolean(1, false);
  const std::string end = a.string(2, "...");
  const std::int64_t leeway = a.integer(3, 5);
  const auto end_length = static_cast<std::int64_t>(unicode::length(end));
  if (length < end_length) fail(fmt::format("expected length >= {}, got {}", end_length, length));
  if (leeway < 0) fail(fmt::format("expected leeway >= 0, got {}", leeway));
  if (!v.is_string()) {
    // Jinja2 applies len() first: short sized values come back as they are.
    if (length_of(v) <= length + leeway) return v;
    fail(fmt::format("truncate expects a string, not {}", v.type_name()));
  }
  const std::string s = text_of(rt, v);
  rt.charge_work(s.size() * sizeof(std::size_t));
  const auto bounds = unicode::boundaries(s);
  const auto n = static_cast<std::int64_t>(bounds.size()) - 1;
  if (n <= length + leeway) return v.is_string() ? v : rt.make_string(s);
  std::string head = s.substr(0, bounds[static_cast<std::size_t>(length - end_length)]);
  if (!killwords) {
    const std::size_t space = head.rfind(' ');
    if (space != std::string::npos) head.resize(space);
  }
  return rt.make_string(head + end);
}

Value f_unique(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments a("unique", args, {"case_sensitive", "attribute"});
  const bool case_sensitive = a.boolean(0, false);
  std::vector<Value> out;
  std::unordered_set<std::string> seen;
  for (const Value& item : rt.iterate(v)) {
    const Value key = sort_key(rt, item, a.get(1), case_sensitive);
    if (seen.insert(hash_key(key, &rt.meter())).second) out.push_back(item);
  }
  return rt.make_list(std::move(out));
}

Value f_wordcount(Interpreter& rt, const Value& v, const CallArgs& args) {
  Arguments("wordcount", args, {});
  const std::string s = text_of(rt, v);
  std::int64_t words = 0;
  bool in_word = false;
  for (std::size_t pos = 0, len = 0; pos < s.size(); pos += len) {
    const char32_t cp = unicode::decode(s, pos, len);
    // Regex \w: letters, digits and underscore; non-ASCII counts as a letter unless it is
    // whitespace or general punctuation.
    const bool word = cp < 0x80 ? (std::isalnum(static_cast<int>(cp)) != 0 || cp == '_')
                                : !(unicode::is_space(cp) || (cp >= 0x2000 && cp <= 0x206F) ||
                                    (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFF0F));
    if (word && !in_word) ++words;
    in_word = word;
  }
  return Value::integer(words);
}

const std::unordered_map<std::string_view, FilterFunction>& filter_table() {
  static const std::unordered_map<std::string_view, FilterFunction> table = {
      {"abs", f_abs},
      {"attr", f_attr},
      {"batch", f_batch},
      {"capitalize", f_capitalize},
      {"center", f_center},
      {"count", f_length},
      {"d", f_default},
      {"default", f_default},
      {"dictsort", f_dictsort},
      {"e", f_escape},
      {"escape", f_escape},
      {"first", f_first},
      {"float", f_float},
      {"forceescape", f_escape},
      {"format", f_format},
      {"indent", f_indent},
      {"int", f_int},
      {"items", f_items},
      {"join", f_join},
      {"last", f_last},
      {"length", f_length},
      {"list", f_list},
      {"lower", f_lower},
      {"map", f_map},
      {"max", f_max},
      {"min", f_min},
      {"pprint", f_pprint},
      {"reject", f_reject},
      {"rejectattr", f_rejectattr},
      {"replace", f_replace},
      {"reverse", f_reverse},
      {"round", f_round},
      {"safe", f_safe},
      {"select", f_select},
      {"selectattr", f_selectattr},
      {"slice", f_slice},
      {"sort", f_sort},
      {"string", f_string},
      {"striptags", f_striptags},
      {"sum", f_sum},
      {"title", f_title},
      {"tojson", f_tojson},
      {"trim", f_trim},
      {"truncate", f_truncate},
      {"unique", f_unique},
      {"upper", f_upper},
      {"wordcount", f_wordcount},
  };
  return table;
}

}  // namespace

FilterFunction find_filter(std::string_view name) {
  const auto& table = filter_table();
  auto it = table.find(name);
  return it == table.end() ? nullptr : it->second;
}

Value attribute_path(Interpreter& rt, const Value& v, const std::string& path) {
  Value current = v;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool digits = !part.empty() && part.size() < 19 &&
                        std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    current = rt.item(current, digits ? Value::integer(std::stoll(part)) : Value::string(part));
    if (dot == std::string::npos) return current;
    start = dot + 1;
  }
}

}  // namespace slm::jinja
