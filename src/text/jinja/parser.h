// Tokens -> statement tree, following Jinja2's grammar and operator precedence (lowest first):
// `x if c else y`, or, and, not, comparisons (chained as in Python, with in / not in), + -, ~,
// * / // %, **, unary - +, then postfix . [] () and the filter `|` and test `is` operators.
#pragma once

#include <cstddef>
#include <vector>

#include "src/text/jinja/ast.h"
#include "src/text/jinja/lexer.h"

namespace slm::jinja {

struct ParserOptions {
  std::size_t max_nesting = 100;  // nested blocks plus nested expressions (parentheses, not, unary -)
};

// Throws slm::Error(template_syntax, "template line N, column M", what).
Body parse_tokens(const std::vector<Token>& tokens, const ParserOptions& options = {});

}  // namespace slm::jinja
