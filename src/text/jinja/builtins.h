// The builtin vocabulary of the template language, each part defined in its own file:
// filters.cpp (`x | name`), predicates.cpp (`x is name`), methods.cpp (`x.name(...)` on str,
// dict, list and loop), globals.cpp (range, namespace, dict, raise_exception, strftime_now).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/text/jinja/value.h"

namespace slm::jinja {

class Interpreter;

using FilterFunction = Value (*)(Interpreter& rt, const Value& operand, const CallArgs& args);
using TestFunction = bool (*)(Interpreter& rt, const Value& operand, const CallArgs& args);

// nullptr when there is no such filter / test.
FilterFunction find_filter(std::string_view name);
TestFunction find_test(std::string_view name);

// self.name as a bound method, or nullopt-like Undefined when `self` has no such method.
bool has_method(const Value& self, std::string_view name);
Value bind_method(const Value& self, std::string_view name);

// The global functions every template sees.
std::vector<std::pair<std::string, Value>> make_globals();

// Jinja's attribute path for map/sort/groupby(attribute="a.b.0"): getitem per dotted part,
// digits as integer indexes.
Value attribute_path(Interpreter& rt, const Value& v, const std::string& path);

}  // namespace slm::jinja
