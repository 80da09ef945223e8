#include "src/text/jinja/interpreter.h"

#include <chrono>
#include <fmt/format.h>
#include <new>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "slm/error.h"
#include "src/text/jinja/builtins.h"
#include "src/text/jinja/operators.h"
#include "src/text/jinja/python_repr.h"
#include "src/text/jinja/unicode.h"

namespace slm::jinja {

// Variables of one scope. Lookups walk parent links. Names come from the template text, so most
// scopes hold a few and a linear search is cheapest; a scope that grows past kIndexAfter (the root
// holding a large context) gets a hash index.
struct Scope {
  static constexpr std::size_t kIndexAfter = 16;

  std::shared_ptr<Scope> parent;

  const Value* find(std::string_view name) const {
    if (!index_.empty()) {
      auto it = index_.find(std::string(name));
      return it == index_.end() ? nullptr : &vars_[it->second].second;
    }
    for (const auto& [key, value] : vars_)
      if (key == name) return &value;
    return nullptr;
  }

  void set(std::string_view name, Value value) {
    if (Value* existing = const_cast<Value*>(find(name))) {
      *existing = std::move(value);
      return;
    }
    vars_.emplace_back(std::string(name), std::move(value));
    if (!index_.empty()) {
      index_.emplace(vars_.back().first, vars_.size() - 1);
    } else if (vars_.size() > kIndexAfter) {
      for (std::size_t i = 0; i < vars_.size(); ++i) index_.emplace(vars_[i].first, i);
    }
  }

  void clear() {
    vars_.clear();
    index_.clear();
  }

 private:
  std::vector<std::pair<std::string, Value>> vars_;
  std::unordered_map<std::string, std::size_t> index_;
};

namespace {

std::shared_ptr<Scope> child_of(const std::shared_ptr<Scope>& parent) {
  auto scope = std::make_shared<Scope>();
  scope->parent = parent;
  return scope;
}

// Makes `scope` the innermost scope for as long as it lives.
class ScopeSwap {
 public:
  ScopeSwap(std::shared_ptr<Scope>& slot, std::shared_ptr<Scope> scope) : slot_(slot), saved_(std::move(slot)) {
    slot_ = std::move(scope);
  }
  ~ScopeSwap() { slot_ = std::move(saved_); }
  ScopeSwap(const ScopeSwap&) = delete;
  ScopeSwap& operator=(const ScopeSwap&) = delete;

 private:
  std::shared_ptr<Scope>& slot_;
  std::shared_ptr<Scope> saved_;
};

std::string type_repr(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::none: return "None";
    case Value::Kind::list: return v.is_tuple() ? "tuple object" : "list object";
    case Value::Kind::dict: return v.is_namespace() ? "Namespace object" : "dict object";
    case Value::Kind::string: return "str object";
    default: return std::string(v.type_name()) + " object";
  }
}

Value no_attribute(const Value& object, std::string_view name) {
  return Value::undefined(fmt::format("'{}' has no attribute '{}'", type_repr(object), name));
}

}  // namespace

class Interpreter::DepthGuard {
 public:
  explicit DepthGuard(Interpreter& rt) : rt_(rt) {
    if (++rt_.depth_ > rt_.options_.limits.max_depth) {
      --rt_.depth_;
      rt_.fail_limit("nesting depth", rt_.options_.limits.max_depth);
    }
  }
  ~DepthGuard() { --rt_.depth_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;

 private:
  Interpreter& rt_;
};

// Sends output to a private buffer for as long as it lives ({% set %} blocks, macro bodies).
class Interpreter::OutputCapture {
 public:
  explicit OutputCapture(Interpreter& rt) : rt_(rt), saved_(rt.out_) { rt_.out_ = &buffer_; }
  ~OutputCapture() { rt_.out_ = saved_; }
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;
  std::string take() { return std::move(buffer_); }

 private:
  Interpreter& rt_;
  std::string* saved_;
  std::string buffer_;
};

// A macro (or the body of a {% call %} block, named "caller") as a callable value. It keeps a
// weak link to the scope it was defined in: lookups from its body see that scope's variables
// (as in Jinja2), and no reference cycle arises when the macro is stored in that same scope.
class MacroCallable final : public Callable {
 public:
  MacroCallable(const MacroStmt* def, std::weak_ptr<Scope> closure) : def_(def), closure_(std::move(closure)) {}

  Value call(Interpreter& rt, CallArgs& args) const override {
    if (++rt.call_depth_ > rt.options_.limits.max_call_depth) {
      --rt.call_depth_;
      rt.fail_limit("macro call depth", rt.options_.limits.max_call_depth);
    }
    struct CallDepth {
      Interpreter& rt;
      ~CallDepth() { --rt.call_depth_; }
    } call_depth{rt};

    std::shared_ptr<Scope> parent = closure_.lock();
    auto scope = child_of(parent ? parent : rt.root_);
    const auto& params = def_->params;
    std::vector<bool> bound(params.size(), false);
    std::vector<Value> varargs;
    for (std::size_t i = 0; i < args.positional.size(); ++i) {
      if (i < params.size()) {
        scope->set(params[i].name, args.positional[i]);
        bound[i] = true;
      } else {
        varargs.push_back(args.positional[i]);
      }
    }
    auto kwargs = std::make_shared<Dict>();
    Value caller;
    bool has_caller = false;
    for (auto& [key, value] : args.keyword) {
      if (key == "caller") {
        caller = value;
        has_caller = true;
        continue;
      }
      std::size_t i = 0;
      while (i < params.size() && params[i].name != key) ++i;
      if (i == params.size()) {
        kwargs->set(Value::string(key), value);
        continue;
      }
      if (bound[i]) fail(fmt::format("macro '{}' got multiple values for argument '{}'", def_->name, key));
      scope->set(key, value);
      bound[i] = true;
    }

    ScopeSwap swap(rt.scope_, scope);
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (bound[i]) continue;
      if (params[i].default_value) {
        scope->set(params[i].name, rt.eval(*params[i].default_value));
      } else {
        scope->set(params[i].name,
                   Value::undefined(fmt::format("parameter '{}' was not provided", params[i].name)));
      }
    }
    scope->set("varargs", Value::tuple(std::move(varargs)));
    scope->set("kwargs", Value::dict(std::move(kwargs)));
    if (has_caller) scope->set("caller", caller);

    std::string text;
    {
      Interpreter::OutputCapture capture(rt);
      rt.exec_body(def_->body);
      text = capture.take();
    }
    return rt.make_string(std::move(text));
  }

  std::string repr() const override { return fmt::format("<Macro '{}'>", def_->name); }

 private:
  const MacroStmt* def_;  // owned by the Template, which outlives every render
  std::weak_ptr<Scope> closure_;
};

// ---- construction, entry -------------------------------------------------------------------

Interpreter::Interpreter(const RenderOptions& options) : options_(options), meter_(options.limits.max_work_bytes) {
  globals_ = std::make_shared<Scope>();
  for (auto& [name, value] : make_globals()) globals_->set(name, std::move(value));
}

Interpreter::~Interpreter() {
  // Break any cycle a template built (l.append(l), ns.self = ns) so that it is freed.
  for (Value& v : mutated_) {
    if (v.is_list()) v.list_ptr()->items.clear();
    else if (v.is_dict()) v.dict_ptr()->clear();
  }
}

std::string Interpreter::render(const Body& body, const Value& context) {
  root_ = child_of(globals_);
  if (context.is_dict())
    for (const auto& [key, value] : context.dict_data().items())
      if (key.is_string()) root_->set(key.as_string(), value);
  scope_ = root_;
  std::string output;
  out_ = &output;
  try {
    exec_body(body);
  } catch (const RuntimeFailure& failure) {
    throw Error(ErrorKind::template_runtime, fmt::format("template line {}", line_), failure.what());
  } catch (const std::bad_alloc&) {
    throw Error(ErrorKind::template_runtime, fmt::format("template line {}", line_), "out of memory");
  } catch (const std::length_error&) {
    throw Error(ErrorKind::template_runtime, fmt::format("template line {}", line_), "value too large");
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    // Not expected: every failure a template can cause is a RuntimeFailure. Still an slm::Error.
    throw Error(ErrorKind::internal, fmt::format("template line {}", line_), e.what());
  }
  out_ = nullptr;
  return output;
}

// ---- limits --------------------------------------------------------------------------------

void Interpreter::fail_limit(const char* what, std::uint64_t limit) {
  fail(fmt::format("{} limit ({}) exceeded", what, limit));
}

void Interpreter::step() {
  if (++steps_ > options_.limits.max_steps) fail_limit("evaluation step", options_.limits.max_steps);
}

void Interpreter::check_string_size(std::size_t bytes) {
  if (bytes > options_.limits.max_string_bytes) fail_limit("string size (bytes)", options_.limits.max_string_bytes);
}

void Interpreter::check_items(std::size_t count) {
  if (count > options_.limits.max_items) fail_limit("list/dict size (items)", options_.limits.max_items);
}

Value Interpreter::make_string(std::string s) {
  check_string_size(s.size());
  charge_work(s.size());
  return Value::string(std::move(s));
}

Value Interpreter::make_list(std::vector<Value> items) {
  check_items(items.size());
  charge_work(items.size() * sizeof(Value));
  return Value::list(std::move(items));
}

Value Interpreter::make_tuple(std::vector<Value> items) {
  check_items(items.size());
  charge_work(items.size() * sizeof(Value));
  return Value::tuple(std::move(items));
}

void Interpreter::note_mutation(const Value& container) {
  const void* identity = container.is_list() ? static_cast<const void*>(container.list_ptr().get())
                         : container.is_dict() ? static_cast<const void*>(container.dict_ptr().get())
                                               : nullptr;
  if (identity && mutated_seen_.insert(identity).second) mutated_.push_back(container);
}

void Interpreter::write(std::string_view text) {
  if (text.size() > options_.limits.max_output_bytes - out_->size())
    fail_limit("output size (bytes)", options_.limits.max_output_bytes);
  charge_work(text.size());
  out_->append(text);
}

std::tm Interpreter::now() const {
  if (options_.clock) return options_.clock();
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm local{};
  localtime_r(&t, &local);
  return local;
}

void Interpreter::raise(const std::string& message) {
  throw Error(ErrorKind::template_raise, fmt::format("template line {}", line_), message);
}

// ---- values --------------------------------------------------------------------------------

std::vector<Value> Interpreter::iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::list:
      charge_work(v.items().size() * sizeof(Value));
      return v.items();
    case Value::Kind::dict: {
      if (v.is_namespace()) break;
      charge_work(v.dict_data().size() * sizeof(Value));
      std::vector<Value> keys;
      keys.reserve(v.dict_data().size());
      for (const auto& [key, value] : v.dict_data().items()) keys.push_back(key);
      return keys;
    }
    case Value::Kind::string: {
      const std::string& s = v.as_string();
      std::vector<Value> chars;
      for (std::size_t pos = 0, len = 0; pos < s.size(); pos += len) {
        unicode::decode(s, pos, len);
        check_items(chars.size() + 1);
        chars.push_back(Value::string(s.substr(pos, len)));
      }
      charge_work(chars.size() * sizeof(Value));
      return chars;
    }
    case Value::Kind::undefined:
      return {};
    default:
      break;
  }
  fail(fmt::format("'{}' object is not iterable", v.type_name()));
}

std::string Interpreter::str(const Value& v) {
  std::string s = to_str(v, options_.limits.max_string_bytes);
  charge_work(s.size());
  return s;
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.is_callable()) return callee.callable_ref().call(*this, args);
  callee.require_defined();
  fail(fmt::format("'{}' object is not callable", callee.type_name()));
}

Value Interpreter::apply_filter(std::string_view name, const Value& operand, CallArgs& args) {
  FilterFunction filter = find_filter(name);
  if (!filter) fail(fmt::format("no filter named '{}'", name));
  step();
  return filter(*this, operand, args);
}

bool Interpreter::apply_test(std::string_view name, const Value& operand, CallArgs& args) {
  TestFunction test = find_test(name);
  if (!test) fail(fmt::format("no test named '{}'", name));
  step();
  return test(*this, operand, args);
}

Value Interpreter::attribute(const Value& object, std::string_view name) {
  switch (object.kind()) {
    case Value::Kind::undefined:
      fail(object.undefined_reason());
    case Value::Kind::dict: {
      if (!object.is_namespace() && has_method(object, name)) return bind_method(object, name);
      if (const Value* v = object.dict_data().find(name, &meter_)) return *v;
      return no_attribute(object, name);
    }
    case Value::Kind::loop: {
      const LoopState& loop = *object.loop_ptr();
      const std::size_t length = loop.items->size();
      const auto index0 = static_cast<std::int64_t>(loop.index0);
      const auto n = static_cast<std::int64_t>(length);
      if (name == "index") return Value::integer(index0 + 1);
      if (name == "index0") return Value::integer(index0);
      if (name == "revindex") return Value::integer(n - index0);
      if (name == "revindex0") return Value::integer(n - index0 - 1);
      if (name == "first") return Value::boolean(index0 == 0);
      if (name == "last") return Value::boolean(index0 + 1 == n);
      if (name == "length") return Value::integer(n);
      // Jinja2 counts depth through recursive loops only, which slm does not have: always 1.
      if (name == "depth") return Value::integer(1);
      if (name == "depth0") return Value::integer(0);
      if (name == "previtem")
        return index0 > 0 ? (*loop.items)[loop.index0 - 1] : Value::undefined("there is no previous item");
      if (name == "nextitem")
        return index0 + 1 < n ? (*loop.items)[loop.index0 + 1] : Value::undefined("there is no next item");
      if (has_method(object, name)) return bind_method(object, name);
      return no_attribute(object, name);
    }
    case Value::Kind::list:
    case Value::Kind::string:
      if (has_method(object, name)) return bind_method(object, name);
      return no_attribute(object, name);
    default:
      return no_attribute(object, name);
  }
}

Value Interpreter::item(const Value& object, const Value& key) {
  switch (object.kind()) {
    case Value::Kind::undefined:
      fail(object.undefined_reason());
    case Value::Kind::dict:
      if (!object.is_namespace()) {
        if (const Value* v = object.dict_data().find(key, &meter_)) return *v;
      }
      break;
    case Value::Kind::list:
    case Value::Kind::string:
      if (key.is_int() || key.is_bool()) {
        std::int64_t index = key.to_int();
        if (object.is_list()) {
          const auto n = static_cast<std::int64_t>(object.items().size());
          if (index < 0) index += n;
          if (index >= 0 && index < n) return object.items()[static_cast<std::size_t>(index)];
        } else {
          const std::string& s = object.as_string();
          if (unicode::is_ascii(s)) {
            const auto n = static_cast<std::int64_t>(s.size());
            if (index < 0) index += n;
            if (index >= 0 && index < n) return Value::string(s.substr(static_cast<std::size_t>(index), 1));
          } else {
            // Walk to the code point (from the end for negative indexes), charging the walk.
            const auto n = static_cast<std::int64_t>(unicode::length(s));
            charge_work(s.size());
            if (index < 0) index += n;
            if (index >= 0 && index < n) {
              std::size_t pos = 0, len = 0;
              for (std::int64_t i = 0;; ++i) {
                unicode::decode(s, pos, len);
                if (i == index) return Value::string(s.substr(pos, len));
                pos += len;
              }
            }
          }
        }
        return Value::undefined(fmt::format("'{}' has no element {}", type_repr(object), index));
      }
      break;
    default:
      break;
  }
  // Jinja's getitem falls back to getattr for string keys (dict methods, namespace attributes).
  if (key.is_string()) return attribute(object, key.as_string());
  return Value::undefined(fmt::format("'{}' has no item {}", type_repr(object), to_repr(key, 256)));
}

Value Interpreter::lookup(const std::string& name) const {
  for (const Scope* s = scope_.get(); s; s = s->parent.get())
    if (const Value* v = s->find(name)) return *v;
  return Value::undefined(fmt::format("'{}' is undefined", name));
}

// ---- expressions ---------------------------------------------------------------------------

CallArgs Interpreter::eval_args(const ArgList& list) {
  CallArgs args;
  args.positional.reserve(list.positional.size());
  for (const auto& e : list.positional) args.positional.push_back(eval(*e));
  for (const auto& [key, e] : list.keyword) args.keyword.emplace_back(key, eval(*e));
  if (list.star) {
    Value extra = eval(*list.star);
    if (!extra.is_list()) fail("argument after * must be a list or tuple");
    check_items(args.positional.size() + extra.items().size());
    for (const Value& v : extra.items()) args.positional.push_back(v);
  }
  if (list.double_star) {
    Value extra = eval(*list.double_star);
    if (!extra.is_dict() || extra.is_namespace()) fail("argument after ** must be a mapping");
    for (const auto& [key, value] : extra.dict_data().items()) {
      if (!key.is_string()) fail("keywords must be strings");
      for (const auto& [existing, v] : args.keyword)
        if (existing == key.as_string()) fail(fmt::format("got multiple values for keyword argument '{}'", existing));
      args.keyword.emplace_back(key.as_string(), value);
    }
  }
  return args;
}

Value Interpreter::eval_call(const CallExpr& e, const Value* caller) {
  Value callee = eval(*e.callee);
  CallArgs args = eval_args(e.args);
  if (caller) args.keyword.emplace_back("caller", *caller);
  line_ = e.line;
  return call(callee, args);
}

namespace {

// Python's slice.indices(): clamps start/stop into the sequence for the given step.
std::vector<std::size_t> slice_positions(std::int64_t length, const Value& start_v, const Value& stop_v,
                                         const Value& step_v) {
  auto as_index = [](const Value& v, const char* which) -> std::optional<std::int64_t> {
    if (v.is_none()) return std::nullopt;
    if (v.is_int() || v.is_bool()) return v.to_int();
    v.require_defined();
    fail(fmt::format("slice {} must be an integer or None, not {}", which, v.type_name()));
  };
  const std::int64_t step = as_index(step_v, "step").value_or(1);
  if (step == 0) fail("slice step cannot be zero");
  auto clamp = [&](std::optional<std::int64_t> given, std::int64_t fallback) {
    if (!given) return fallback;
    std::int64_t i = *given;
    if (i < 0) {
      i = i < -length ? -1 : i + length;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= length) {
      i = step < 0 ? length - 1 : length;
    }
    return i;
  };
  const std::int64_t start = clamp(as_index(start_v, "start"), step < 0 ? length - 1 : 0);
  const std::int64_t stop = clamp(as_index(stop_v, "stop"), step < 0 ? -1 : length);
  std::vector<std::size_t> positions;
  if (step > 0) {
    for (std::int64_t i = start; i < stop; i += step) {
      positions.push_back(static_cast<std::size_t>(i));
      if (step > length) break;
    }
  } else {
    for (std::int64_t i = start; i > stop; i += step) {
      positions.push_back(static_cast<std::size_t>(i));
      if (-step > length) break;
    }
  }
  return positions;
}

}  // namespace

Value Interpreter::eval_slice(const SliceExpr& e) {
  Value object = eval(*e.object);
  const Value none = Value::none();
  const Value start = e.start ? eval(*e.start) : none;
  const Value stop = e.stop ? eval(*e.stop) : none;
  const Value step_value = e.step ? eval(*e.step) : none;
  line_ = e.line;
  if (object.is_list()) {
    const auto& items = object.items();
    std::vector<Value> out;
    for (std::size_t i : slice_positions(static_cast<std::int64_t>(items.size()), start, stop, step_value))
      out.push_back(items[i]);
    return object.is_tuple() ? make_tuple(std::move(out)) : make_list(std::move(out));
  }
  if (object.is_string()) {
    const std::string& s = object.as_string();
    std::string out;
    if (unicode::is_ascii(s)) {
      for (std::size_t i : slice_positions(static_cast<std::int64_t>(s.size()), start, stop, step_value)) out += s[i];
    } else {
      charge_work(s.size() * sizeof(std::size_t));  // the table of code point offsets
      const auto bounds = unicode::boundaries(s);
      for (std::size_t i : slice_positions(static_cast<std::int64_t>(bounds.size()) - 1, start, stop, step_value))
        out.append(s, bounds[i], bounds[i + 1] - bounds[i]);
    }
    return make_string(std::move(out));
  }
  object.require_defined();
  fail(fmt::format("'{}' object is not subscriptable", object.type_name()));
}

Value Interpreter::eval_compare(const CompareExpr& e) {
  Value left = eval(*e.first);
  for (const auto& [op, operand] : e.rest) {
    Value right = eval(*operand);
    line_ = e.line;
    bool result = false;
    switch (op) {
      case CompareExpr::Op::eq: result = equal(left, right, &meter_); break;
      case CompareExpr::Op::ne: result = !equal(left, right, &meter_); break;
      case CompareExpr::Op::lt: result = less(left, right, &meter_); break;
      case CompareExpr::Op::gt: result = less(right, left, &meter_); break;
      case CompareExpr::Op::le: result = less(left, right, &meter_) || equal(left, right, &meter_); break;
      case CompareExpr::Op::ge: result = less(right, left, &meter_) || equal(left, right, &meter_); break;
      case CompareExpr::Op::in: result = contains(*this, right, left); break;
      case CompareExpr::Op::not_in: result = !contains(*this, right, left); break;
    }
    if (!result) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

Value Interpreter::eval_binary(const BinaryExpr& e) {
  Value a = eval(*e.left);
  Value b = eval(*e.right);
  line_ = e.line;
  return binary_operator(*this, e.op, a, b);
}

Value Interpreter::eval(const Expr& e) {
  step();
  DepthGuard guard(*this);
  line_ = e.line;
  switch (e.kind) {
    case Expr::Kind::literal:
      return static_cast<const LiteralExpr&>(e).value;
    case Expr::Kind::name:
      return lookup(static_cast<const NameExpr&>(e).name);
    case Expr::Kind::list:
    case Expr::Kind::tuple: {
      const auto& seq = static_cast<const SequenceExpr&>(e);
      std::vector<Value> items;
      items.reserve(seq.items.size());
      for (const auto& item : seq.items) items.push_back(eval(*item));
      return e.kind == Expr::Kind::list ? make_list(std::move(items)) : make_tuple(std::move(items));
    }
    case Expr::Kind::dict: {
      const auto& d = static_cast<const DictExpr&>(e);
      auto dict = std::make_shared<Dict>();
      for (const auto& [key_expr, value_expr] : d.items) {
        Value key = eval(*key_expr);
        Value value = eval(*value_expr);
        line_ = e.line;
        dict->set(std::move(key), std::move(value), &meter_);
      }
      return Value::dict(std::move(dict));
    }
    case Expr::Kind::attribute: {
      const auto& a = static_cast<const AttributeExpr&>(e);
      Value object = eval(*a.object);
      line_ = e.line;
      return attribute(object, a.name);
    }
    case Expr::Kind::subscript: {
      const auto& s = static_cast<const SubscriptExpr&>(e);
      Value object = eval(*s.object);
      Value key = eval(*s.index);
      line_ = e.line;
      return item(object, key);
    }
    case Expr::Kind::slice:
      return eval_slice(static_cast<const SliceExpr&>(e));
    case Expr::Kind::call:
      return eval_call(static_cast<const CallExpr&>(e), nullptr);
    case Expr::Kind::filter: {
      const auto& f = static_cast<const FilterExpr&>(e);
      Value operand = f.operand ? eval(*f.operand) : Value();
      CallArgs args = eval_args(f.args);
      line_ = e.line;
      return apply_filter(f.name, operand, args);
    }
    case Expr::Kind::test: {
      const auto& t = static_cast<const TestExpr&>(e);
      Value operand = eval(*t.operand);
      CallArgs args = eval_args(t.args);
      line_ = e.line;
      return Value::boolean(apply_test(t.name, operand, args) != t.negated);
    }
    case Expr::Kind::unary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      Value operand = eval(*u.operand);
      line_ = e.line;
      return unary_operator(*this, u.op, operand);
    }
    case Expr::Kind::binary:
      return eval_binary(static_cast<const BinaryExpr&>(e));
    case Expr::Kind::logical: {
      const auto& l = static_cast<const LogicalExpr&>(e);
      Value left = eval(*l.left);
      if (l.is_and ? !left.truthy() : left.truthy()) return left;
      return eval(*l.right);
    }
    case Expr::Kind::compare:
      return eval_compare(static_cast<const CompareExpr&>(e));
    case Expr::Kind::conditional: {
      const auto& c = static_cast<const ConditionalExpr&>(e);
      if (eval(*c.condition).truthy()) return eval(*c.then);
      if (c.otherwise) return eval(*c.otherwise);
      return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
    }
  }
  fail("internal: unknown expression");
}

// ---- statements ----------------------------------------------------------------------------

Interpreter::Flow Interpreter::exec_body(const Body& body) {
  for (const auto& stmt : body) {
    const Flow flow = exec(*stmt);
    if (flow != Flow::normal) return flow;
  }
  return Flow::normal;
}

void Interpreter::assign(const Target& target, Value value) {
  switch (target.kind) {
    case Target::Kind::name:
      scope_->set(target.name, std::move(value));
      return;
    case Target::Kind::tuple: {
      std::vector<Value> parts = iterate(value);
      if (parts.size() > target.items.size())
        fail(fmt::format("too many values to unpack (expected {})", target.items.size()));
      if (parts.size() < target.items.size())
        fail(fmt::format("not enough values to unpack (expected {}, got {})", target.items.size(), parts.size()));
      for (std::size_t i = 0; i < parts.size(); ++i) assign(target.items[i], std::move(parts[i]));
      return;
    }
    case Target::Kind::attribute: {
      Value object = lookup(target.name);
      if (!object.is_namespace()) {
        object.require_defined();
        fail(fmt::format("cannot assign attribute on non-namespace object '{}'", target.name));
      }
      check_items(object.dict_data().size() + 1);
      object.dict_ptr()->set(Value::string(target.attribute), std::move(value), &meter_);
      note_mutation(object);
      return;
    }
  }
}

Value Interpreter::define_macro(const MacroStmt& m) {
  return Value::callable(std::make_shared<MacroCallable>(&m, std::weak_ptr<Scope>(scope_)));
}

std::string Interpreter::capture(const Body& body) {
  OutputCapture capture(*this);
  ScopeSwap swap(scope_, child_of(scope_));
  exec_body(body);
  return capture.take();
}

Value Interpreter::apply_filter_chain(const std::vector<std::unique_ptr<FilterExpr>>& filters, Value value) {
  for (const auto& f : filters) {
    CallArgs args = eval_args(f->args);
    line_ = f->line;
    value = apply_filter(f->name, value, args);
  }
  return value;
}

Interpreter::Flow Interpreter::exec_for(const ForStmt& f) {
  Value iterable = eval(*f.iterable);
  line_ = f.line;
  std::vector<Value> items = iterate(iterable);
  if (f.filter) {
    std::vector<Value> kept;
    for (Value& item : items) {
      ScopeSwap swap(scope_, child_of(scope_));
      assign(f.target, item);
      if (eval(*f.filter).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  auto state = std::make_shared<LoopState>();
  state->items = std::make_shared<const std::vector<Value>>(std::move(items));
  const Value loop_value = Value::loop(state);
  const std::vector<Value>& sequence = *state->items;

  // One scope object serves every iteration, emptied at the start of each: Jinja2 gives each
  // iteration fresh variables, and reusing the storage keeps an iteration cheap.
  ScopeSwap swap(scope_, child_of(scope_));
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    if (++loop_iterations_ > options_.limits.max_loop_iterations)
      fail_limit("loop iteration", options_.limits.max_loop_iterations);
    state->index0 = i;
    scope_->clear();
    line_ = f.line;
    assign(f.target, sequence[i]);
    scope_->set("loop", loop_value);
    if (exec_body(f.body) == Flow::break_loop) break;
  }
  if (sequence.empty()) return exec_body(f.otherwise);
  return Flow::normal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s) {
  step();
  DepthGuard guard(*this);
  line_ = s.line;
  switch (s.kind) {
    case Stmt::Kind::text:
      write(static_cast<const TextStmt&>(s).text);
      return Flow::normal;
    case Stmt::Kind::print: {
      Value v = eval(*static_cast<const PrintStmt&>(s).expr);
      line_ = s.line;
      if (v.is_string()) write(v.as_string());
      else write(str(v));
      return Flow::normal;
    }
    case Stmt::Kind::if_: {
      const auto& i = static_cast<const IfStmt&>(s);
      for (const auto& [condition, body] : i.branches)
        if (eval(*condition).truthy()) return exec_body(body);
      return exec_body(i.otherwise);
    }
    case Stmt::Kind::for_:
      return exec_for(static_cast<const ForStmt&>(s));
    case Stmt::Kind::set: {
      const auto& set = static_cast<const SetStmt&>(s);
      Value v = eval(*set.value);
      line_ = s.line;
      assign(set.target, std::move(v));
      return Flow::normal;
    }
    case Stmt::Kind::set_block: {
      const auto& set = static_cast<const SetBlockStmt&>(s);
      Value v = make_string(capture(set.body));
      v = apply_filter_chain(set.filters, std::move(v));
      line_ = s.line;
      assign(set.target, std::move(v));
      return Flow::normal;
    }
    case Stmt::Kind::macro: {
      const auto& m = static_cast<const MacroStmt&>(s);
      scope_->set(m.name, define_macro(m));
      return Flow::normal;
    }
    case Stmt::Kind::call_block: {
      const auto& c = static_cast<const CallBlockStmt&>(s);
      const Value caller = define_macro(*c.caller);
      Value result = eval_call(*c.call, &caller);
      write(result.is_string() ? result.as_string() : str(result));
      return Flow::normal;
    }
    case Stmt::Kind::filter_block: {
      const auto& f = static_cast<const FilterBlockStmt&>(s);
      Value v = apply_filter_chain(f.filters, make_string(capture(f.body)));
      write(v.is_string() ? v.as_string() : str(v));
      return Flow::normal;
    }
    case Stmt::Kind::with: {
      const auto& w = static_cast<const WithStmt&>(s);
      std::vector<Value> values;
      for (const auto& [target, expr] : w.assignments) values.push_back(eval(*expr));
      ScopeSwap swap(scope_, child_of(scope_));
      for (std::size_t i = 0; i < values.size(); ++i) assign(w.assignments[i].first, std::move(values[i]));
      return exec_body(w.body);
    }
    case Stmt::Kind::break_:
      return Flow::break_loop;
    case Stmt::Kind::continue_:
      return Flow::continue_loop;
    case Stmt::Kind::do_:
      eval(*static_cast<const DoStmt&>(s).expr);
      return Flow::normal;
    case Stmt::Kind::scope:
      return exec_body(static_cast<const ScopeStmt&>(s).body);
  }
  fail("internal: unknown statement");
}

}  // namespace slm::jinja
