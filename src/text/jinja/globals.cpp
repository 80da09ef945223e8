// The global functions of Hugging Face's chat-template environment: range, namespace, dict (from
// Jinja2), raise_exception and strftime_now (added by transformers). Nothing here reaches a file,
// a process or the network; strftime_now reads the render's injectable clock.
#include <ctime>
#include <fmt/format.h>

#include "src/text/jinja/arguments.h"
#include "src/text/jinja/builtins.h"
#include "src/text/jinja/interpreter.h"

namespace slm::jinja {

namespace {

using GlobalFunction = Value (*)(Interpreter& rt, CallArgs& args);

class BuiltinFunction final : public Callable {
 public:
  BuiltinFunction(std::string name, GlobalFunction fn) : name_(std::move(name)), fn_(fn) {}
  Value call(Interpreter& rt, CallArgs& args) const override {
    rt.step();
    return fn_(rt, args);
  }
  std::string repr() const override { return fmt::format("<built-in function {}>", name_); }

 private:
  std::string name_;
  GlobalFunction fn_;
};

Value g_range(Interpreter& rt, CallArgs& args) {
  if (!args.keyword.empty()) fail("range() takes no keyword arguments");
  const auto& p = args.positional;
  if (p.empty() || p.size() > 3) fail(fmt::format("range expected 1 to 3 arguments, got {}", p.size()));
  for (const Value& v : p) {
    if (!v.is_int() && !v.is_bool()) {
      v.require_defined();
      fail(fmt::format("'{}' object cannot be interpreted as an integer", v.type_name()));
    }
  }
  const std::int64_t start = p.size() == 1 ? 0 : p[0].to_int();
  const std::int64_t stop = p.size() == 1 ? p[0].to_int() : p[1].to_int();
  const std::int64_t step = p.size() == 3 ? p[2].to_int() : 1;
  if (step == 0) fail("range() arg 3 must not be zero");
  // Length in unsigned arithmetic: start/stop may be anywhere in the 64-bit range.
  std::uint64_t length = 0;
  if (step > 0 && start < stop) {
    length = (static_cast<std::uint64_t>(stop) - static_cast<std::uint64_t>(start) - 1) / static_cast<std::uint64_t>(step) + 1;
  } else if (step < 0 && start > stop) {
    length = (static_cast<std::uint64_t>(start) - static_cast<std::uint64_t>(stop) - 1) /
                 (0 - static_cast<std::uint64_t>(step)) + 1;
  }
  const auto max_range = static_cast<std::uint64_t>(std::max<std::int64_t>(0, rt.limits().max_range));
  if (length > max_range)
    fail(fmt::format("range too big: the sandbox blocks ranges longer than {} (range limit)", max_range));
  std::vector<Value> items;
  items.reserve(length);
  std::int64_t value = start;
  for (std::uint64_t i = 0; i < length; ++i, value += (i < length ? step : 0)) items.push_back(Value::integer(value));
  return rt.make_list(std::move(items));
}

// dict(mapping_or_pairs, **kwargs), as namespace() and dict() take them.
std::shared_ptr<Dict> dict_from_args(Interpreter& rt, CallArgs& args, std::string_view function) {
  auto dict = std::make_shared<Dict>();
  if (args.positional.size() > 1) fail(fmt::format("{}() expected at most 1 positional argument", function));
  if (!args.positional.empty()) {
    const Value& source = args.positional[0];
    if (source.is_dict()) {
      for (const auto& [key, value] : source.dict_data().items()) dict->set(key, value, &rt.meter());
    } else {
      for (const Value& pair : rt.iterate(source)) {
        if (!pair.is_list() || pair.items().size() != 2) fail(fmt::format("{}(): sequence elements must be pairs", function));
        dict->set(pair.items()[0], pair.items()[1], &rt.meter());
      }
    }
  }
  for (const auto& [key, value] : args.keyword) dict->set(Value::string(key), value, &rt.meter());
  rt.check_items(dict->size());
  return dict;
}

Value g_dict(Interpreter& rt, CallArgs& args) { return Value::dict(dict_from_args(rt, args, "dict")); }

Value g_namespace(Interpreter& rt, CallArgs& args) {
  auto dict = dict_from_args(rt, args, "namespace");
  dict->is_namespace = true;
  return Value::dict(std::move(dict));
}

Value g_raise_exception(Interpreter& rt, CallArgs& args) {
  Arguments a("raise_exception", args, {"message"});
  rt.raise(a.get(0) ? rt.str(*a.get(0)) : std::string());
}

Value g_strftime_now(Interpreter& rt, CallArgs& args) {
  Arguments a("strftime_now", args, {"format"});
  const std::string format = a.string(0, "");
  if (format.empty()) return Value::string("");
  if (format.size() > 4096) fail("strftime_now(): format too long");
  const std::tm now = rt.now();
  // strftime returns 0 both for "too small" and for an empty result: grow a few times, then
  // accept the empty result.
  for (std::size_t size = 256 + format.size() * 4; size <= (1u << 20); size *= 4) {
    std::string out(size, '\0');
    const std::size_t written = std::strftime(out.data(), out.size(), format.c_str(), &now);
    if (written > 0) {
      out.resize(written);
      return rt.make_string(std::move(out));
    }
  }
  return Value::string("");
}

}  // namespace

std::vector<std::pair<std::string, Value>> make_globals() {
  auto fn = [](const char* name, GlobalFunction f) {
    return std::pair<std::string, Value>(name, Value::callable(std::make_shared<BuiltinFunction>(name, f)));
  };
  return {fn("range", g_range), fn("dict", g_dict), fn("namespace", g_namespace),
          fn("raise_exception", g_raise_exception), fn("strftime_now", g_strftime_now)};
}

}  // namespace slm::jinja
