// A model file's tensor table, whatever the format it came from: the rows `slm inspect` prints,
// their totals (parameters and bytes, overall and per type), as text or as JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slm::cli {

struct TensorRow {
  std::string name;
  std::string type;             // "Q4_K", "BF16", ...
  std::vector<uint64_t> shape;  // as the file writes it (GGUF: ne0 first; safetensors: outermost first)
  uint64_t offset = 0;          // of the data, relative to the file's data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
};

struct TypeTotal {
  std::string type;
  uint64_t tensors = 0, elements = 0, bytes = 0;
};

struct TensorTotals {
  uint64_t tensors = 0, elements = 0, bytes = 0;
  std::vector<TypeTotal> by_type;  // largest byte count first
};

TensorTotals total_tensors(std::span<const TensorRow> rows);

// s with control characters, quotes and backslashes escaped (\n, \", \x1b), so names and strings
// from a file cannot drive the terminal. Other bytes (UTF-8 text) pass through.
std::string escape_controls(std::string_view s);
// "64 x 512"
std::string shape_text(const std::vector<uint64_t>& shape);
// "1.50 MiB", "812 B"
std::string human_bytes(uint64_t bytes);

// The table (one line per tensor, when list_tensors) followed by the totals.
void print_tensor_table(std::FILE* out, std::span<const TensorRow> rows, bool list_tensors);
// {"tensors": [{name, type, shape, offset, bytes, elements}...] (when list_tensors),
//  "totals": {tensors, parameters, bytes, by_type: [{type, tensors, parameters, bytes}...]}}
nlohmann::ordered_json tensor_table_json(std::span<const TensorRow> rows, bool list_tensors);

}  // namespace slm::cli
