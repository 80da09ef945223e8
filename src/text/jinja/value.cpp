#include "src/text/jinja/value.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace slm::jinja {

namespace {

// Nesting a comparison may descend before it gives up: a self-containing list (l.append(l)) must
// end in an error, not a stack overflow.
constexpr int kMaxCompareDepth = 256;

bool float_as_int(double d, std::int64_t& out) {
  if (!std::isfinite(d) || std::trunc(d) != d) return false;
  if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;
  out = static_cast<std::int64_t>(d);
  return true;
}

bool numbers_equal(const Value& a, const Value& b) {
  if (!a.is_float() && !b.is_float()) return a.to_int() == b.to_int();
  if (a.is_float() && b.is_float()) return a.as_float() == b.as_float();
  const double d = a.is_float() ? a.as_float() : b.as_float();
  const std::int64_t i = a.is_float() ? b.to_int() : a.to_int();
  std::int64_t as_int;
  return float_as_int(d, as_int) && as_int == i;
}

bool numbers_less(const Value& a, const Value& b) {
  if (!a.is_float() && !b.is_float()) return a.to_int() < b.to_int();
  return a.to_double() < b.to_double();
}

void charge(WorkMeter* meter, std::uint64_t amount) {
  if (meter) meter->add(amount);
}

bool equal_at(const Value& a, const Value& b, int depth, WorkMeter* meter) {
  if (depth > kMaxCompareDepth) fail("comparison nested too deeply (a value that contains itself?)");
  charge(meter, sizeof(Value));
  if (a.is_number() && b.is_number()) return numbers_equal(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::undefined:
    case Value::Kind::none:
      return true;
    case Value::Kind::string:
      charge(meter, std::min(a.as_string().size(), b.as_string().size()));
      return a.as_string() == b.as_string();
    case Value::Kind::list: {
      if (a.list_ptr() == b.list_ptr()) return true;
      if (a.is_tuple() != b.is_tuple()) return false;
      const auto& x = a.items();
      const auto& y = b.items();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!equal_at(x[i], y[i], depth + 1, meter)) return false;
      return true;
    }
    case Value::Kind::dict: {
      if (a.dict_ptr() == b.dict_ptr()) return true;
      if (a.is_namespace() || b.is_namespace()) return false;
      const Dict& x = a.dict_data();
      const Dict& y = b.dict_data();
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x.items()) {
        const Value* other = y.find(key, meter);
        if (!other || !equal_at(value, *other, depth + 1, meter)) return false;
      }
      return true;
    }
    default:
      return a.same_as(b);
  }
}

bool less_at(const Value& a, const Value& b, int depth, WorkMeter* meter) {
  if (depth > kMaxCompareDepth) fail("comparison nested too deeply (a value that contains itself?)");
  charge(meter, sizeof(Value));
  if (a.is_number() && b.is_number()) return numbers_less(a, b);
  if (a.is_string() && b.is_string()) {
    charge(meter, std::min(a.as_string().size(), b.as_string().size()));
    return a.as_string() < b.as_string();
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (equal_at(x[i], y[i], depth + 1, meter)) continue;
      return less_at(x[i], y[i], depth + 1, meter);
    }
    return x.size() < y.size();
  }
  a.require_defined();
  b.require_defined();
  fail("'<' not supported between instances of '" + std::string(a.type_name()) + "' and '" +
       std::string(b.type_name()) + "'");
}

}  // namespace

void fail(std::string message) { throw RuntimeFailure(std::move(message)); }

void WorkMeter::exceeded() const {
  fail("work limit (" + std::to_string(limit_) + " bytes copied, compared, hashed or scanned) exceeded");
}

Value Value::undefined(std::string reason) {
  Value v;
  v.data_ = Undefined{std::make_shared<const std::string>(std::move(reason))};
  return v;
}

Value Value::string(std::string s) { return make(std::make_shared<const std::string>(std::move(s))); }

Value Value::list(std::vector<Value> items) {
  auto data = std::make_shared<ListData>();
  data->items = std::move(items);
  return make(std::move(data));
}

Value Value::tuple(std::vector<Value> items) {
  auto data = std::make_shared<ListData>();
  data->items = std::move(items);
  data->is_tuple = true;
  return make(std::move(data));
}

const std::string& Value::undefined_reason() const {
  static const std::string kUnnamed = "value is undefined";
  const auto& reason = std::get<Undefined>(data_).reason;
  return reason ? *reason : kUnnamed;
}

double Value::to_double() const {
  if (is_float()) return as_float();
  return static_cast<double>(to_int());
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::undefined:
    case Kind::none:
      return false;
    case Kind::boolean:
      return as_bool();
    case Kind::integer:
      return as_int() != 0;
    case Kind::floating:
      return as_float() != 0.0;
    case Kind::string:
      return !as_string().empty();
    case Kind::list:
      return !items().empty();
    case Kind::dict:
      return dict_data().is_namespace || !dict_data().empty();
    case Kind::callable:
    case Kind::loop:
      return true;
  }
  return false;
}

bool Value::same_as(const Value& other) const {
  if (kind() != other.kind()) return false;
  switch (kind()) {
    case Kind::undefined:
    case Kind::none:
      return true;
    case Kind::boolean:
      return as_bool() == other.as_bool();
    case Kind::integer:
      return as_int() == other.as_int();
    case Kind::floating:
      return as_float() == other.as_float();
    case Kind::string:
      return string_ptr() == other.string_ptr() || as_string() == other.as_string();
    case Kind::list:
      return list_ptr() == other.list_ptr();
    case Kind::dict:
      return dict_ptr() == other.dict_ptr();
    case Kind::callable:
      return &callable_ref() == &other.callable_ref();
    case Kind::loop:
      return loop_ptr() == other.loop_ptr();
  }
  return false;
}

std::string_view Value::type_name() const {
  switch (kind()) {
    case Kind::undefined: return "Undefined";
    case Kind::none: return "NoneType";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::floating: return "float";
    case Kind::string: return "str";
    case Kind::list: return is_tuple() ? "tuple" : "list";
    case Kind::dict: return is_namespace() ? "Namespace" : "dict";
    case Kind::callable: return "function";
    case Kind::loop: return "LoopContext";
  }
  return "object";
}

void Value::require_defined() const {
  if (is_undefined()) fail(undefined_reason());
}

bool equal(const Value& a, const Value& b, WorkMeter* meter) { return equal_at(a, b, 0, meter); }

bool less(const Value& a, const Value& b, WorkMeter* meter) { return less_at(a, b, 0, meter); }

namespace {

// Built by appending: GCC 12 warns falsely (-Wrestrict) on "x" + std::string temporaries.
std::string prefixed(char tag, std::string_view body) {
  std::string out;
  out.reserve(body.size() + 1);
  out += tag;
  out += body;
  return out;
}

}  // namespace

std::string hash_key(const Value& key, WorkMeter* meter) {
  charge(meter, sizeof(Value));
  switch (key.kind()) {
    case Value::Kind::none:
      return "z";
    case Value::Kind::boolean:
    case Value::Kind::integer:
      return prefixed('n', std::to_string(key.to_int()));
    case Value::Kind::floating: {
      std::int64_t i;
      if (float_as_int(key.as_float(), i)) return prefixed('n', std::to_string(i));
      double d = key.as_float();
      char bits[sizeof(double)];
      std::memcpy(bits, &d, sizeof d);
      return prefixed('f', std::string_view(bits, sizeof bits));
    }
    case Value::Kind::string:
      charge(meter, key.as_string().size());
      return prefixed('s', key.as_string());
    case Value::Kind::list:
      if (key.is_tuple()) {
        std::string out = "t";
        for (const Value& item : key.items()) {
          std::string part = hash_key(item, meter);
          out += std::to_string(part.size());
          out += ':';
          out += part;
        }
        return out;
      }
      break;
    default:
      break;
  }
  key.require_defined();
  fail("unhashable type: '" + std::string(key.type_name()) + "'");
}

const Value* Dict::find(const Value& key, WorkMeter* meter) const {
  if (key.is_string()) return find(std::string_view(key.as_string()), meter);
  if (!key.is_number() && !key.is_none() && !key.is_tuple()) return nullptr;
  auto it = index_.find(hash_key(key, meter));
  return it == index_.end() ? nullptr : &items_[it->second].second;
}

const Value* Dict::find(std::string_view key, WorkMeter* meter) const {
  charge(meter, key.size() + sizeof(Value));
  // Small dicts (a chat message) are searched directly: cheaper than building the canonical key.
  if (items_.size() <= 8) {
    for (const auto& [k, v] : items_)
      if (k.is_string() && k.as_string() == key) return &v;
    return nullptr;
  }
  std::string canonical;
  canonical.reserve(key.size() + 1);
  canonical += 's';
  canonical += key;
  auto it = index_.find(canonical);
  return it == index_.end() ? nullptr : &items_[it->second].second;
}

void Dict::set(Value key, Value value, WorkMeter* meter) {
  std::string canonical = hash_key(key, meter);
  auto [it, inserted] = index_.try_emplace(std::move(canonical), items_.size());
  if (!inserted) {
    items_[it->second].second = std::move(value);
    return;
  }
  items_.emplace_back(std::move(key), std::move(value));
}

bool Dict::erase(const Value& key, WorkMeter* meter) {
  auto it = index_.find(hash_key(key, meter));
  if (it == index_.end()) return false;
  // Keeping insertion order costs a pass over the entries after the erased one.
  charge(meter, index_.size() * 2 * sizeof(Value));
  const std::size_t position = it->second;
  items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(position));
  index_.erase(it);
  for (auto& [k, pos] : index_)
    if (pos > position) --pos;
  return true;
}

void Dict::clear() {
  items_.clear();
  index_.clear();
}

}  // namespace slm::jinja
