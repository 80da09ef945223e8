// Parsing JSON that comes from a file a user handed us (safetensors headers, shard indexes,
// config.json): nlohmann's parser plus the checks it does not make.
//
// nlohmann accepts duplicate object keys (the last one silently wins) and any nesting depth (a
// header of a million '[' costs gigabytes of nodes). Both are rejected here, before the document
// is built, so what the caller gets is exactly what the file says, once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace slm {

struct UntrustedJsonOptions {
  std::string file;             // names the file in errors: "<file>: offset N", "<file>: <field_word> a.b"
  uint64_t base_offset = 0;     // byte offset of the text within the file (safetensors: 8)
  std::string field_word = "field";  // "header field" for safetensors headers
  size_t max_depth = 64;        // arrays and objects nested deeper than this are rejected
};

// Parses `text` as one JSON value, keeping object members in file order. Throws
// slm::Error(format): malformed JSON at "<file>: offset N" (N = base_offset + byte position),
// nesting deeper than max_depth, or a key repeated within one object at "<file>: <field_word> a.b"
// (the dotted path of the repeated key; array elements appear as [i]).
nlohmann::ordered_json parse_untrusted_json(std::string_view text, const UntrustedJsonOptions& options);

// "null", "boolean", "number", "string", "array", "object": for "expected X, got Y" messages.
std::string_view json_type_name(const nlohmann::ordered_json& value) noexcept;

}  // namespace slm
