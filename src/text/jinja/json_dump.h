// The `tojson` filter as Hugging Face defines it for chat templates: Python's json.dumps with
// ensure_ascii=False by default, keys in insertion order, separators ", " and ": " (or "," and
// ": " when indenting), floats as Python's repr, and no HTML escaping.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "src/text/jinja/value.h"

namespace slm::jinja {

struct JsonDumpOptions {
  bool ensure_ascii = false;             // escape every non-ASCII code point as \uXXXX
  std::optional<std::string> indent;     // nullopt: one line; otherwise the text of one level
  std::optional<std::string> item_separator;  // default ", " (one line) or "," (indented)
  std::string key_separator = ": ";
  bool sort_keys = false;
};

// Fails (RuntimeFailure) for values JSON cannot hold (Undefined, macros), for nesting deeper
// than 256 levels, and instead of producing more than max_bytes.
std::string json_dumps(const Value& v, const JsonDumpOptions& options, std::size_t max_bytes);

}  // namespace slm::jinja
