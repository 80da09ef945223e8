// Python methods that templates call on values: str (split, strip, startswith, format, ...),
// dict (get, items, keys, values, and the mutating update/pop/setdefault), list (append and the
// other common ones), and the loop object's cycle/changed. Hugging Face's immutable sandbox
// refuses the mutating ones; slm allows them, within the size limits, because real chat
// templates use list.append.
#include <algorithm>
#include <array>
#include <fmt/format.h>

#include "src/text/jinja/arguments.h"
#include "src/text/jinja/builtins.h"
#include "src/text/jinja/interpreter.h"
#include "src/text/jinja/python_repr.h"
#include "src/text/jinja/string_format.h"
#include "src/text/jinja/string_ops.h"
#include "src/text/jinja/unicode.h"

namespace slm::jinja {

namespace {

constexpr std::string_view kStringMethods[] = {
    "capitalize", "center", "count", "endswith", "find", "format", "index", "isalnum", "isalpha", "isdigit",
    "islower", "isspace", "isupper", "join", "ljust", "lower", "lstrip", "partition", "removeprefix",
    "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split",
    "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill"};
constexpr std::string_view kDictMethods[] = {"copy", "get", "items", "keys", "pop", "setdefault", "update", "values"};
constexpr std::string_view kListMethods[] = {"append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse"};
constexpr std::string_view kTupleMethods[] = {"count", "index"};
constexpr std::string_view kLoopMethods[] = {"changed", "cycle"};

template <std::size_t N>
bool listed(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

std::optional<std::string> optional_chars(const Arguments& a, std::size_t i) {
  if (!a.get(i) || a.get(i)->is_none()) return std::nullopt;
  if (!a.get(i)->is_string()) a.fail_type(i, "a string or None");
  return a.get(i)->as_string();
}

std::optional<std::int64_t> optional_index(const Arguments& a, std::size_t i) {
  if (!a.get(i) || a.get(i)->is_none()) return std::nullopt;
  return a.integer(i, 0);
}

const std::string& required_string(const Arguments& a, std::size_t i) {
  if (!a.get(i) || !a.get(i)->is_string()) a.fail_type(i, "a string");
  return a.get(i)->as_string();
}

// repr for an error message, cut short for big values.
std::string short_repr(const Value& v) {
  try {
    return to_repr(v, 200);
  } catch (const RuntimeFailure&) {
    return "value";
  }
}

Value string_list(Interpreter& rt, std::vector<std::string> parts) {
  std::vector<Value> out;
  out.reserve(parts.size());
  for (auto& p : parts) out.push_back(Value::string(std::move(p)));
  return rt.make_list(std::move(out));
}

// startswith / endswith accept a string or a tuple of strings.
bool affix_matches(const Value& affix, std::string_view text, bool prefix, const Arguments& a) {
  auto one = [&](const Value& v) {
    if (!v.is_string()) a.fail_type(0, "a string or a tuple of strings");
    const std::string& s = v.as_string();
    if (s.size() > text.size()) return false;
    return prefix ? text.substr(0, s.size()) == s : text.substr(text.size() - s.size()) == s;
  };
  if (affix.is_tuple()) {
    for (const Value& v : affix.items())
      if (one(v)) return true;
    return false;
  }
  return one(affix);
}

template <typename Predicate>
bool all_code_points(std::string_view s, Predicate p) {
  if (s.empty()) return false;
  for (std::size_t pos = 0, len = 0; pos < s.size(); pos += len)
    if (!p(unicode::decode(s, pos, len))) return false;
  return true;
}

Value string_method(Interpreter& rt, const Value& self, std::string_view name, CallArgs& args) {
  const std::string& s = self.as_string();
  rt.charge_work(s.size());  // every method below scans or copies the string
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    Arguments a(name, args, {"chars"});
    return rt.make_string(strings::strip(s, optional_chars(a, 0), name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    Arguments a(name, args, {"sep", "maxsplit"});
    const auto sep = optional_chars(a, 0);
    const std::int64_t maxsplit = a.integer(1, -1);
    return string_list(rt, name == "split" ? strings::split(s, sep, maxsplit) : strings::rsplit(s, sep, maxsplit));
  }
  if (name == "splitlines") {
    Arguments a(name, args, {"keepends"});
    return string_list(rt, strings::splitlines(s, a.boolean(0, false)));
  }
  if (name == "startswith" || name == "endswith") {
    Arguments a(name, args, {"prefix", "start", "end"});
    if (!a.get(0)) a.fail_type(0, "a string or a tuple of strings");
    std::string_view text = s;
    if (a.get(1) || a.get(2)) {
      rt.charge_work(s.size() * sizeof(std::size_t));
      const auto bounds = unicode::boundaries(s);
      const auto n = static_cast<std::int64_t>(bounds.size()) - 1;
      auto fix = [n](std::int64_t i) { return std::clamp<std::int64_t>(i < 0 ? i + n : i, 0, n); };
      const std::int64_t from = fix(optional_index(a, 1).value_or(0));
      const std::int64_t to = fix(optional_index(a, 2).value_or(n));
      if (from > to) return Value::boolean(false);
      text = std::string_view(s).substr(bounds[static_cast<std::size_t>(from)],
                                        bounds[static_cast<std::size_t>(to)] - bounds[static_cast<std::size_t>(from)]);
    }
    return Value::boolean(affix_matches(*a.get(0), text, name == "startswith", a));
  }
  if (name == "upper") {
    Arguments(name, args, {});
    return rt.make_string(unicode::upper(s));
  }
  if (name == "lower") {
    Arguments(name, args, {});
    return rt.make_string(unicode::lower(s));
  }
  if (name == "title") {
    Arguments(name, args, {});
    return rt.make_string(strings::title_case(s));
  }
  if (name == "capitalize") {
    Arguments(name, args, {});
    return rt.make_string(strings::capitalize(s));
  }
  if (name == "swapcase") {
    Arguments(name, args, {});
    return rt.make_string(strings::swapcase(s));
  }
  if (name == "replace") {
    Arguments a(name, args, {"old", "new", "count"});
    return rt.make_string(strings::replace(s, required_string(a, 0), required_string(a, 1), a.integer(2, -1),
                                           rt.limits().max_string_bytes));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
    Arguments a(name, args, {"sub", "start", "end"});
    if (a.get(1) || a.get(2)) rt.charge_work(s.size() * sizeof(std::size_t));
    const std::int64_t at = strings::find(s, required_string(a, 0), optional_index(a, 1), optional_index(a, 2),
                                          name[0] == 'r');
    if (at < 0 && (name == "index" || name == "rindex")) fail("substring not found");
    return Value::integer(at);
  }
  if (name == "count") {
    Arguments a(name, args, {"sub", "start", "end"});
    if (a.get(1) || a.get(2)) rt.charge_work(s.size() * sizeof(std::size_t));
    return Value::integer(strings::count(s, required_string(a, 0), optional_index(a, 1), optional_index(a, 2)));
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    Arguments a(name, args, {"width", "fillchar"});
    const std::string fill = a.string(1, " ");
    if (unicode::length(fill) != 1) fail("The fill character must be exactly one character long");
    const std::int64_t width = a.integer(0, 0);
    const char align = name == "center" ? '^' : name == "ljust" ? '<' : '>';
    return rt.make_string(strings::justify(s, static_cast<std::size_t>(std::max<std::int64_t>(0, width)), align, fill,
                                           rt.limits().max_string_bytes));
  }
  if (name == "zfill") {
    Arguments a(name, args, {"width"});
    const std::int64_t width = a.integer(0, 0);
    const std::size_t length = unicode::length(s);
    if (width <= static_cast<std::int64_t>(length)) return self;
    rt.check_string_size(s.size() + static_cast<std::size_t>(width));
    const std::size_t sign = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    std::string out = s;
    out.insert(sign, static_cast<std::size_t>(width) - length, '0');
    return rt.make_string(std::move(out));
  }
  if (name == "join") {
    Arguments a(name, args, {"iterable"});
    std::string out;
    std::size_t i = 0;
    for (const Value& item : rt.iterate(a.value(0))) {
      if (!item.is_string()) fail(fmt::format("sequence item {}: expected str instance, {} found", i, item.type_name()));
      rt.check_string_size(out.size() + s.size() + item.as_string().size());
      if (i++) out += s;
      out += item.as_string();
    }
    return rt.make_string(std::move(out));
  }
  if (name == "format") return rt.make_string(brace_format(rt, s, args));
  if (name == "partition" || name == "rpartition") {
    Arguments a(name, args, {"sep"});
    const std::string& sep = required_string(a, 0);
    if (sep.empty()) fail("empty separator");
    const std::size_t at = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (at == std::string::npos) {
      if (name == "partition") return Value::tuple({self, Value::string(""), Value::string("")});
      return Value::tuple({Value::string(""), Value::string(""), self});
    }
    return Value::tuple({Value::string(s.substr(0, at)), Value::string(sep), Value::string(s.substr(at + sep.size()))});
  }
  if (name == "removeprefix" || name == "removesuffix") {
    Arguments a(name, args, {"affix"});
    const std::string& affix = required_string(a, 0);
    if (name == "removeprefix" && s.compare(0, affix.size(), affix) == 0) return Value::string(s.substr(affix.size()));
    if (name == "removesuffix" && s.size() >= affix.size() && s.compare(s.size() - affix.size(), affix.size(), affix) == 0)
      return Value::string(s.substr(0, s.size() - affix.size()));
    return self;
  }
  Arguments(name, args, {});
  if (name == "isdigit") return Value::boolean(all_code_points(s, unicode::is_digit));
  if (name == "isalpha") return Value::boolean(all_code_points(s, unicode::is_alpha));
  if (name == "isalnum")
    return Value::boolean(all_code_points(s, [](char32_t c) { return unicode::is_alpha(c) || unicode::is_digit(c); }));
  if (name == "isspace") return Value::boolean(all_code_points(s, unicode::is_space));
  if (name == "islower") return Value::boolean(unicode::lower(s) == s && unicode::upper(s) != s);
  if (name == "isupper") return Value::boolean(unicode::upper(s) == s && unicode::lower(s) != s);
  fail(fmt::format("'str' object has no attribute '{}'", name));
}

Value dict_method(Interpreter& rt, const Value& self, std::string_view name, CallArgs& args) {
  const Dict& dict = self.dict_data();
  if (name == "get") {
    Arguments a(name, args, {"key", "default"});
    if (!a.get(0)) a.fail_type(0, "a key");
    const Value* found = dict.find(*a.get(0), &rt.meter());
    return found ? *found : (a.get(1) ? *a.get(1) : Value::none());
  }
  if (name == "items" || name == "keys" || name == "values") {
    Arguments(name, args, {});
    std::vector<Value> out;
    out.reserve(dict.size());
    for (const auto& [key, value] : dict.items()) {
      if (name == "items") out.push_back(Value::tuple({key, value}));
      else out.push_back(name == "keys" ? key : value);
    }
    Value view = rt.make_list(std::move(out));
    view.list_ptr()->view_name = name == "items" ? "dict_items" : name == "keys" ? "dict_keys" : "dict_values";
    return view;
  }
  if (name == "copy") {
    Arguments(name, args, {});
    return Value::dict(std::make_shared<Dict>(dict));
  }
  Dict& target = *self.dict_ptr();
  if (name == "update") {
    if (args.positional.size() > 1) fail("update expected at most 1 argument");
    std::vector<std::pair<Value, Value>> entries;
    if (!args.positional.empty()) {
      const Value& other = args.positional[0];
      if (other.is_dict() && !other.is_namespace()) {
        entries = other.dict_data().items();
      } else {
        for (const Value& pair : rt.iterate(other)) {
          if (!pair.is_list() || pair.items().size() != 2) fail("dictionary update sequence element has wrong length");
          entries.emplace_back(pair.items()[0], pair.items()[1]);
        }
      }
    }
    for (const auto& [key, value] : args.keyword) entries.emplace_back(Value::string(key), value);
    rt.check_items(target.size() + entries.size());
    for (auto& [key, value] : entries) target.set(std::move(key), std::move(value), &rt.meter());
    rt.note_mutation(self);
    return Value::none();
  }
  if (name == "pop") {
    Arguments a(name, args, {"key", "default"});
    if (!a.get(0)) a.fail_type(0, "a key");
    const Value* found = target.find(*a.get(0), &rt.meter());
    if (!found) {
      if (a.get(1)) return *a.get(1);
      fail(fmt::format("KeyError: {}", rt.str(*a.get(0))));
    }
    Value result = *found;
    target.erase(*a.get(0), &rt.meter());
    return result;
  }
  if (name == "setdefault") {
    Arguments a(name, args, {"key", "default"});
    if (!a.get(0)) a.fail_type(0, "a key");
    if (const Value* found = target.find(*a.get(0), &rt.meter())) return *found;
    rt.check_items(target.size() + 1);
    const Value fallback = a.get(1) ? *a.get(1) : Value::none();
    target.set(*a.get(0), fallback, &rt.meter());
    rt.note_mutation(self);
    return fallback;
  }
  fail(fmt::format("'dict' object has no attribute '{}'", name));
}

Value list_method(Interpreter& rt, const Value& self, std::string_view name, CallArgs& args) {
  const std::vector<Value>& items = self.items();
  if (name == "count") {
    Arguments a(name, args, {"value"});
    std::int64_t n = 0;
    for (const Value& v : items) n += equal(v, a.value(0), &rt.meter()) ? 1 : 0;
    return Value::integer(n);
  }
  if (name == "index") {
    Arguments a(name, args, {"value"});
    for (std::size_t i = 0; i < items.size(); ++i)
      if (equal(items[i], a.value(0), &rt.meter())) return Value::integer(static_cast<std::int64_t>(i));
    fail(fmt::format("{} is not in list", short_repr(a.value(0))));
  }
  if (name == "copy") {
    Arguments(name, args, {});
    return rt.make_list(items);
  }
  std::vector<Value>& target = self.list_ptr()->items;
  rt.note_mutation(self);
  // insert, pop from the front and remove shift the elements behind: charged as work.
  const auto charge_shift = [&rt, &target](std::size_t from) { rt.charge_work((target.size() - from) * sizeof(Value)); };
  if (name == "append") {
    Arguments a(name, args, {"object"});
    if (!a.get(0)) a.fail_type(0, "a value");
    rt.check_items(target.size() + 1);
    target.push_back(*a.get(0));
    return Value::none();
  }
  if (name == "extend") {
    Arguments a(name, args, {"iterable"});
    std::vector<Value> more = rt.iterate(a.value(0));  // charged there
    rt.check_items(target.size() + more.size());
    target.insert(target.end(), more.begin(), more.end());
    return Value::none();
  }
  if (name == "insert") {
    Arguments a(name, args, {"index", "object"});
    if (!a.get(1)) a.fail_type(1, "a value");
    rt.check_items(target.size() + 1);
    const auto n = static_cast<std::int64_t>(target.size());
    std::int64_t i = a.integer(0, 0);
    if (i < 0) i = std::max<std::int64_t>(0, i + n);
    i = std::min(i, n);
    charge_shift(static_cast<std::size_t>(i));
    target.insert(target.begin() + i, *a.get(1));
    return Value::none();
  }
  if (name == "pop") {
    Arguments a(name, args, {"index"});
    if (target.empty()) fail("pop from empty list");
    const auto n = static_cast<std::int64_t>(target.size());
    std::int64_t i = a.integer(0, -1);
    if (i < 0) i += n;
    if (i < 0 || i >= n) fail("pop index out of range");
    Value result = target[static_cast<std::size_t>(i)];
    charge_shift(static_cast<std::size_t>(i));
    target.erase(target.begin() + i);
    return result;
  }
  if (name == "remove") {
    Arguments a(name, args, {"value"});
    for (auto it = target.begin(); it != target.end(); ++it) {
      if (equal(*it, a.value(0), &rt.meter())) {
        charge_shift(static_cast<std::size_t>(it - target.begin()));
        target.erase(it);
        return Value::none();
      }
    }
    fail("list.remove(x): x not in list");
  }
  if (name == "reverse") {
    Arguments(name, args, {});
    charge_shift(0);
    std::reverse(target.begin(), target.end());
    return Value::none();
  }
  if (name == "clear") {
    Arguments(name, args, {});
    target.clear();
    return Value::none();
  }
  fail(fmt::format("'list' object has no attribute '{}'", name));
}

Value loop_method(Interpreter& rt, const Value& self, std::string_view name, CallArgs& args) {
  LoopState& loop = *self.loop_ptr();
  if (!args.keyword.empty()) fail(fmt::format("loop.{}() takes no keyword arguments", name));
  if (name == "cycle") {
    if (args.positional.empty()) fail("no items for cycling given");
    return args.positional[loop.index0 % args.positional.size()];
  }
  // changed(*values): true when the values differ from the previous call's.
  if (!loop.last_changed) {
    loop.last_changed = std::make_shared<std::vector<Value>>(args.positional);
    return Value::boolean(true);
  }
  const Value now = Value::tuple(args.positional);
  const Value before = Value::tuple(*loop.last_changed);
  if (equal(now, before, &rt.meter())) return Value::boolean(false);
  *loop.last_changed = args.positional;
  return Value::boolean(true);
}

class BoundMethod final : public Callable {
 public:
  BoundMethod(Value self, std::string name) : self_(std::move(self)), name_(std::move(name)) {}

  Value call(Interpreter& rt, CallArgs& args) const override {
    rt.step();
    switch (self_.kind()) {
      case Value::Kind::string: return string_method(rt, self_, name_, args);
      case Value::Kind::dict: return dict_method(rt, self_, name_, args);
      case Value::Kind::list: return list_method(rt, self_, name_, args);
      case Value::Kind::loop: return loop_method(rt, self_, name_, args);
      default: fail(fmt::format("'{}' object has no attribute '{}'", self_.type_name(), name_));
    }
  }

  std::string repr() const override {
    return fmt::format("<built-in method {} of {} object>", name_, self_.type_name());
  }

 private:
  Value self_;
  std::string name_;
};

}  // namespace

bool has_method(const Value& self, std::string_view name) {
  switch (self.kind()) {
    case Value::Kind::string: return listed(kStringMethods, name);
    case Value::Kind::dict: return !self.is_namespace() && listed(kDictMethods, name);
    case Value::Kind::list: return self.is_tuple() ? listed(kTupleMethods, name) : listed(kListMethods, name);
    case Value::Kind::loop: return listed(kLoopMethods, name);
    default: return false;
  }
}

Value bind_method(const Value& self, std::string_view name) {
  if (!has_method(self, name))
    return Value::undefined(fmt::format("'{}' object has no attribute '{}'", self.type_name(), name));
  return Value::callable(std::make_shared<BoundMethod>(self, std::string(name)));
}

}  // namespace slm::jinja
