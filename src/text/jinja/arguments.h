// Binding a call's arguments to a builtin's parameters the way Python does: positional ones in
// order, then keywords by name; too many, unknown or repeated arguments fail with the
// function's name.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "src/text/jinja/value.h"

namespace slm::jinja {

class Arguments {
 public:
  static constexpr std::size_t kMaxParams = 8;

  Arguments(std::string_view function, const CallArgs& args, std::initializer_list<std::string_view> params);

  bool has(std::size_t i) const { return bound_[i] != nullptr; }
  const Value* get(std::size_t i) const { return bound_[i]; }
  const Value& value_or(std::size_t i, const Value& fallback) const { return bound_[i] ? *bound_[i] : fallback; }
  Value value(std::size_t i) const { return bound_[i] ? *bound_[i] : Value(); }

  // Typed access with Python's checks; the fallback is used when the argument is absent or None.
  std::int64_t integer(std::size_t i, std::int64_t fallback) const;
  bool boolean(std::size_t i, bool fallback) const;  // truthiness, as Jinja's filters use it
  std::string string(std::size_t i, std::string fallback) const;

  [[noreturn]] void fail_type(std::size_t i, std::string_view expected) const;

 private:
  std::string_view function_;
  std::array<std::string_view, kMaxParams> names_{};
  std::array<const Value*, kMaxParams> bound_{};
};

}  // namespace slm::jinja
