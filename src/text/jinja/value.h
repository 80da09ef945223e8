// Runtime values of the template interpreter, with Python's semantics: lists, dicts and
// namespaces are shared by reference (so `ns.x = ...` and `list.append` are seen by every holder),
// strings are immutable and shared, and Undefined remembers why it is undefined so that using it
// later can say so, as Jinja2's default Undefined does.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace slm::jinja {

class Interpreter;
class Value;
class Dict;

// A failure while evaluating (a type error, a missing variable used, a limit): the interpreter
// turns it into slm::Error(template_runtime, "template line N", message).
class RuntimeFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(std::string message);

// Bulk work (bytes copied, compared, hashed or scanned) counted against a budget, so that an
// operation whose cost grows with the size of its operands (comparing two big lists, `x in
// big_list`, hashing a long tuple) cannot make a render slow while costing one step.
class WorkMeter {
 public:
  explicit WorkMeter(std::uint64_t limit = std::numeric_limits<std::uint64_t>::max()) : limit_(limit) {}
  void add(std::uint64_t amount) {
    used_ += amount;
    if (used_ > limit_) exceeded();
  }
  std::uint64_t used() const { return used_; }

 private:
  [[noreturn]] void exceeded() const;
  std::uint64_t used_ = 0;
  std::uint64_t limit_;
};

struct ListData {
  std::vector<Value> items;
  bool is_tuple = false;              // prints as (a, b); not mutable
  const char* view_name = nullptr;    // "dict_items" etc.: d.items() prints as dict_items([...])
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// Anything that can be called from a template: globals, filters-as-values, macros, bound methods.
class Callable {
 public:
  virtual ~Callable() = default;
  virtual Value call(Interpreter& rt, CallArgs& args) const = 0;
  virtual std::string repr() const = 0;  // Python's repr, e.g. "<Macro 'm'>"
};

// The `loop` variable of a for loop.
struct LoopState {
  std::shared_ptr<const std::vector<Value>> items;  // the (filtered) sequence being iterated
  std::size_t index0 = 0;
  std::shared_ptr<std::vector<Value>> last_changed;  // loop.changed() memory
};

struct Undefined {
  std::shared_ptr<const std::string> reason;  // "'x' is undefined", "'dict object' has no attribute 'y'"
};
struct None {};

class Value {
 public:
  enum class Kind : std::uint8_t { undefined, none, boolean, integer, floating, string, list, dict, callable, loop };

  Value() : data_(Undefined{}) {}
  static Value undefined(std::string reason);
  static Value none() { return make(None{}); }
  static Value boolean(bool b) { return make(b); }
  static Value integer(std::int64_t i) { return make(i); }
  static Value floating(double d) { return make(d); }
  static Value string(std::string s);
  static Value string(std::shared_ptr<const std::string> s) { return make(std::move(s)); }
  static Value list(std::vector<Value> items);
  static Value tuple(std::vector<Value> items);
  static Value dict(std::shared_ptr<Dict> d) { return make(std::move(d)); }
  static Value new_dict() { return make(std::make_shared<Dict>()); }
  static Value callable(std::shared_ptr<const Callable> c) { return make(std::move(c)); }
  static Value loop(std::shared_ptr<LoopState> l) { return make(std::move(l)); }

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_undefined() const { return kind() == Kind::undefined; }
  bool is_none() const { return kind() == Kind::none; }
  bool is_bool() const { return kind() == Kind::boolean; }
  bool is_int() const { return kind() == Kind::integer; }
  bool is_float() const { return kind() == Kind::floating; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }  // Python: bool is an int
  bool is_string() const { return kind() == Kind::string; }
  bool is_list() const { return kind() == Kind::list; }  // lists and tuples
  bool is_tuple() const;
  bool is_dict() const { return kind() == Kind::dict; }  // dicts and namespaces
  bool is_namespace() const;
  bool is_callable() const { return kind() == Kind::callable; }
  bool is_loop() const { return kind() == Kind::loop; }

  bool as_bool() const { return std::get<bool>(data_); }
  std::int64_t as_int() const { return std::get<std::int64_t>(data_); }
  double as_float() const { return std::get<double>(data_); }
  const std::string& as_string() const { return *std::get<std::shared_ptr<const std::string>>(data_); }
  const std::shared_ptr<const std::string>& string_ptr() const { return std::get<std::shared_ptr<const std::string>>(data_); }
  const ListData& list_data() const { return *std::get<std::shared_ptr<ListData>>(data_); }
  const std::vector<Value>& items() const;
  const std::shared_ptr<ListData>& list_ptr() const { return std::get<std::shared_ptr<ListData>>(data_); }
  const Dict& dict_data() const { return *std::get<std::shared_ptr<Dict>>(data_); }
  const std::shared_ptr<Dict>& dict_ptr() const { return std::get<std::shared_ptr<Dict>>(data_); }
  const Callable& callable_ref() const { return *std::get<std::shared_ptr<const Callable>>(data_); }
  const std::shared_ptr<LoopState>& loop_ptr() const { return std::get<std::shared_ptr<LoopState>>(data_); }
  const std::string& undefined_reason() const;

  // Numeric value of an int, bool or float (callers check is_number()).
  double to_double() const;
  // Integer value of an int or bool.
  std::int64_t to_int() const { return is_bool() ? (as_bool() ? 1 : 0) : as_int(); }

  bool truthy() const;  // Python's bool(); Undefined is false
  // Same object (Python's `is`): identity for containers, equality of value for scalars.
  bool same_as(const Value& other) const;

  // Python's type name, as error messages say it: 'str', 'int', 'list', 'dict', ...
  std::string_view type_name() const;

  // Fails with the Undefined's reason when this is Undefined ("'x' is undefined").
  void require_defined() const;

 private:
  using Data = std::variant<Undefined, None, bool, std::int64_t, double, std::shared_ptr<const std::string>,
                            std::shared_ptr<ListData>, std::shared_ptr<Dict>, std::shared_ptr<const Callable>,
                            std::shared_ptr<LoopState>>;
  template <typename T>
  static Value make(T&& v) {
    Value result;
    result.data_.emplace<std::decay_t<T>>(std::forward<T>(v));
    return result;
  }
  Data data_;
};

// Insertion-ordered mapping with Python key equality (1 == 1.0 == True), indexed by a canonical
// key so that lookups stay O(1) however large a hostile template makes it.
class Dict {
 public:
  bool is_namespace = false;  // a namespace(): attribute assignment allowed, prints as <Namespace {...}>

  const Value* find(const Value& key, WorkMeter* meter = nullptr) const;
  const Value* find(std::string_view key, WorkMeter* meter = nullptr) const;
  void set(Value key, Value value, WorkMeter* meter = nullptr);  // fails for unhashable keys (lists, dicts)
  bool erase(const Value& key, WorkMeter* meter = nullptr);
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const std::vector<std::pair<Value, Value>>& items() const { return items_; }
  void clear();

 private:
  std::vector<std::pair<Value, Value>> items_;
  std::unordered_map<std::string, std::size_t> index_;  // canonical key -> position in items_
};

inline bool Value::is_tuple() const { return is_list() && list_data().is_tuple; }
inline bool Value::is_namespace() const { return is_dict() && dict_data().is_namespace; }
inline const std::vector<Value>& Value::items() const { return list_data().items; }

// Python's ==. Containers compare element by element (depth-limited); the meter, when given,
// is charged for every element and byte compared.
bool equal(const Value& a, const Value& b, WorkMeter* meter = nullptr);

// Python's <, for numbers, strings (code point order) and sequences; fails for other pairs.
bool less(const Value& a, const Value& b, WorkMeter* meter = nullptr);

// Canonical dictionary key ("s<text>", "n<int>", ...) or fails when the value is unhashable.
std::string hash_key(const Value& key, WorkMeter* meter = nullptr);

}  // namespace slm::jinja
