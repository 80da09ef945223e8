#include "src/text/jinja/arguments.h"

#include <fmt/format.h>

namespace slm::jinja {

Arguments::Arguments(std::string_view function, const CallArgs& args, std::initializer_list<std::string_view> params)
    : function_(function) {
  if (params.size() > kMaxParams) fail("internal: too many parameters for " + std::string(function));
  std::size_t n = 0;
  for (auto name : params) names_[n++] = name;
  if (args.positional.size() > n)
    fail(fmt::format("{}() takes at most {} argument{} ({} given)", function, n, n == 1 ? "" : "s", args.positional.size()));
  for (std::size_t i = 0; i < args.positional.size(); ++i) bound_[i] = &args.positional[i];
  for (const auto& [key, value] : args.keyword) {
    std::size_t i = 0;
    while (i < n && names_[i] != key) ++i;
    if (i == n) fail(fmt::format("{}() got an unexpected keyword argument '{}'", function, key));
    if (bound_[i]) fail(fmt::format("{}() got multiple values for argument '{}'", function, key));
    bound_[i] = &value;
  }
}

void Arguments::fail_type(std::size_t i, std::string_view expected) const {
  fail(fmt::format("{}(): argument '{}' must be {}, not {}", function_, names_[i], expected,
                   bound_[i] ? bound_[i]->type_name() : "missing"));
}

std::int64_t Arguments::integer(std::size_t i, std::int64_t fallback) const {
  const Value* v = bound_[i];
  if (!v || v->is_none()) return fallback;
  if (v->is_int() || v->is_bool()) return v->to_int();
  fail_type(i, "an integer");
}

bool Arguments::boolean(std::size_t i, bool fallback) const {
  const Value* v = bound_[i];
  if (!v) return fallback;
  return v->truthy();
}

std::string Arguments::string(std::size_t i, std::string fallback) const {
  const Value* v = bound_[i];
  if (!v || v->is_none()) return fallback;
  if (v->is_string()) return v->as_string();
  fail_type(i, "a string");
}

}  // namespace slm::jinja
