// Python's operators on template values: arithmetic with Python's int/float rules (floor
// division and modulo round toward negative infinity, / always gives a float), string and list
// concatenation and repetition (size-checked before anything is built), `~`, and `in`.
// 64-bit integers stand in for Python's unbounded ints: an overflow fails instead of wrapping.
#pragma once

#include "src/text/jinja/ast.h"
#include "src/text/jinja/value.h"

namespace slm::jinja {

class Interpreter;

Value unary_operator(Interpreter& rt, UnaryExpr::Op op, const Value& operand);
Value binary_operator(Interpreter& rt, BinaryExpr::Op op, const Value& a, const Value& b);
bool contains(Interpreter& rt, const Value& container, const Value& item);  // `item in container`

}  // namespace slm::jinja
