#include "examples/slm/tensor_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace slm::cli {

TensorTotals total_tensors(std::span<const TensorRow> rows) {
  TensorTotals t;
  std::map<std::string, TypeTotal> per_type;
  for (const TensorRow& r : rows) {
    ++t.tensors;
    t.elements += r.n_elements;
    t.bytes += r.n_bytes;
    TypeTotal& p = per_type[r.type];
    p.type = r.type;
    ++p.tensors;
    p.elements += r.n_elements;
    p.bytes += r.n_bytes;
  }
  for (auto& [name, total] : per_type) t.by_type.push_back(total);
  std::stable_sort(t.by_type.begin(), t.by_type.end(),
                   [](const TypeTotal& a, const TypeTotal& b) { return a.bytes > b.bytes; });
  return t;
}

std::string escape_controls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
        else out.push_back(ch);
    }
  }
  return out;
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += fmt::format("{}{}", i ? " x " : "", shape[i]);
  return s;
}

std::string human_bytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024.0;
  size_t u = 0;
  while (v >= 1024.0 && u + 1 < std::size(units)) {
    v /= 1024.0;
    ++u;
  }
  return fmt::format("{:.2f} {}", v, units[u]);
}

void print_tensor_table(std::FILE* out, std::span<const TensorRow> rows, bool list_tensors) {
  if (list_tensors && !rows.empty()) {
    size_t name_w = 4, type_w = 4, shape_w = 5;
    std::vector<std::string> shapes;
    shapes.reserve(rows.size());
    std::vector<std::string> names;
    names.reserve(rows.size());
    for (const TensorRow& r : rows) {
      shapes.push_back(shape_text(r.shape));
      names.push_back(escape_controls(r.name));
      name_w = std::max(name_w, names.back().size());
      type_w = std::max(type_w, r.type.size());
      shape_w = std::max(shape_w, shapes.back().size());
    }
    fmt::print(out, "tensors:\n  {:<{}}  {:<{}}  {:<{}}  {:>12}  {:>12}\n", "name", name_w, "type", type_w,
               "shape", shape_w, "offset", "bytes");
    for (size_t i = 0; i < rows.size(); ++i) {
      const TensorRow& r = rows[i];
      fmt::print(out, "  {:<{}}  {:<{}}  {:<{}}  {:>12}  {:>12}\n", names[i], name_w, r.type, type_w,
                 shapes[i], shape_w, r.offset, r.n_bytes);
    }
  }
  const TensorTotals t = total_tensors(rows);
  if (list_tensors && !rows.empty()) fmt::print(out, "\n");
  fmt::print(out, "totals: {} tensors, {} parameters, {} bytes ({})\n", t.tensors, t.elements, t.bytes,
             human_bytes(t.bytes));
  for (const TypeTotal& p : t.by_type)
    fmt::print(out, "  {:<8} {:>6} tensors  {:>14} parameters  {:>14} bytes ({})\n", p.type, p.tensors,
               p.elements, p.bytes, human_bytes(p.bytes));
}

nlohmann::ordered_json tensor_table_json(std::span<const TensorRow> rows, bool list_tensors) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (list_tensors) {
    auto& list = j["tensors"] = nlohmann::ordered_json::array();
    for (const TensorRow& r : rows)
      list.push_back({{"name", r.name},
                      {"type", r.type},
                      {"shape", r.shape},
                      {"offset", r.offset},
                      {"bytes", r.n_bytes},
                      {"elements", r.n_elements}});
  }
  const TensorTotals t = total_tensors(rows);
  auto by_type = nlohmann::ordered_json::array();
  for (const TypeTotal& p : t.by_type)
    by_type.push_back(
        {{"type", p.type}, {"tensors", p.tensors}, {"parameters", p.elements}, {"bytes", p.bytes}});
  j["totals"] = {
      {"tensors", t.tensors}, {"parameters", t.elements}, {"bytes", t.bytes}, {"by_type", by_type}};
  return j;
}

}  // namespace slm::cli
