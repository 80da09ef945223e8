// Python's str() and repr() of template values, which is what `{{ value }}` prints in Jinja2:
// True/False/None, lists as ['a', 1], dicts as {'k': 'v'}, tuples as (1,), floats as the shortest
// repr that round-trips (1.0, 1e+16, 1.5e-05).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "src/text/jinja/value.h"

namespace slm::jinja {

// Every function here fails (RuntimeFailure) instead of producing more than max_bytes, so that
// printing a huge or self-containing structure stays bounded.
std::string to_str(const Value& v, std::size_t max_bytes);
std::string to_repr(const Value& v, std::size_t max_bytes);

std::string float_repr(double d);
std::string string_repr(std::string_view s);

}  // namespace slm::jinja
