// slm inspect MODEL [--json] [--no-tensors]: a GGUF file's header facts, metadata (long arrays
// and strings abbreviated) and tensor table with totals, as text or as one JSON object.
// A file the reader rejects ends in its slm::Error (printed by main, exit status 1).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "examples/slm/command.h"
#include "examples/slm/model_arg.h"
#include "examples/slm/tensor_table.h"
#include "formats/gguf.h"

namespace slm::cli {
namespace {

using ordered_json = nlohmann::ordered_json;

constexpr size_t kShownItems = 8;          // array elements shown before "... N more"
constexpr size_t kShownStringBytes = 80;   // string bytes shown before the cut
constexpr size_t kMaxKeyColumn = 48;

struct InspectArgs {
  std::string model;
  bool json = false;
  bool no_tensors = false;
};

// At most n bytes of s, not splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, size_t n) {
  if (s.size() <= n) return s;
  size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

std::string string_text(std::string_view s) {
  const std::string_view shown = utf8_prefix(s, kShownStringBytes);
  std::string out = fmt::format("\"{}\"", escape_controls(shown));
  if (shown.size() < s.size()) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

template <class X>
std::string scalar_text(const X& x) {
  if constexpr (std::is_same_v<X, bool>) return x ? "true" : "false";
  else if constexpr (std::is_same_v<X, std::string_view>) return string_text(x);
  else return fmt::format("{}", x);
}

std::string array_text(const gguf::Array& a);

std::string value_text(const gguf::Value& v) {
  if (const gguf::Array* a = v.array()) return array_text(*a);
  return std::visit(
      [](const auto& x) -> std::string {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::shared_ptr<const gguf::Array>>) return "";
        else return scalar_text(x);
      },
      v.data);
}

std::string array_text(const gguf::Array& a) {
  return std::visit(
      [](const auto& items) {
        std::string out = "[";
        const size_t shown = std::min(items.size(), kShownItems);
        for (size_t i = 0; i < shown; ++i) {
          if (i) out += ", ";
          using X = std::decay_t<decltype(items[i])>;
          if constexpr (std::is_same_v<X, gguf::Value>) out += value_text(items[i]);
          else out += scalar_text(static_cast<X>(items[i]));
        }
        if (items.size() > shown) out += fmt::format(", ... {} more", items.size() - shown);
        return out + "]";
      },
      a.items);
}

// "u32", "string", "[string; 32000]", "[array; 2]"
std::string type_text(const gguf::Value& v) {
  if (const gguf::Array* a = v.array())
    return fmt::format("[{}; {}]", gguf::value_type_name(a->elem_type), a->size());
  return std::string(gguf::value_type_name(v.type));
}

template <class X>
ordered_json scalar_json(const X& x) {
  if constexpr (std::is_same_v<X, std::string_view>) {
    return std::string(utf8_prefix(x, kShownStringBytes));
  } else if constexpr (std::is_same_v<X, float>) {
    // JSON numbers are doubles: go through the shortest decimal of the float, so 1e-5f prints as
    // 1e-05 rather than 9.999999747378752e-06.
    if (!std::isfinite(x)) return nullptr;
    return std::strtod(fmt::format("{}", x).c_str(), nullptr);
  } else {
    return x;
  }
}

ordered_json value_json(const gguf::Value& v);

ordered_json array_json(const gguf::Array& a) {
  ordered_json j = {
      {"type", "array"}, {"element_type", gguf::value_type_name(a.elem_type)}, {"length", a.size()}};
  ordered_json items = ordered_json::array();
  std::visit(
      [&](const auto& list) {
        const size_t shown = std::min(list.size(), kShownItems);
        for (size_t i = 0; i < shown; ++i) {
          using X = std::decay_t<decltype(list[i])>;
          if constexpr (std::is_same_v<X, gguf::Value>) items.push_back(value_json(list[i]));
          else items.push_back(scalar_json(static_cast<X>(list[i])));
        }
      },
      a.items);
  j["items"] = std::move(items);
  j["truncated"] = a.size() > kShownItems;
  return j;
}

// {"type": "u32", "value": 4}; strings cut to kShownStringBytes say so with "length" and
// "truncated"; arrays: {"type": "array", "element_type", "length", "items" (the first few), "truncated"}.
ordered_json value_json(const gguf::Value& v) {
  if (const gguf::Array* a = v.array()) return array_json(*a);
  ordered_json j = {{"type", gguf::value_type_name(v.type)}};
  std::visit(
      [&](const auto& x) {
        using X = std::decay_t<decltype(x)>;
        if constexpr (!std::is_same_v<X, std::shared_ptr<const gguf::Array>>) j["value"] = scalar_json(x);
        if constexpr (std::is_same_v<X, std::string_view>) {
          if (x.size() > kShownStringBytes) {
            j["length"] = x.size();
            j["truncated"] = true;
          }
        }
      },
      v.data);
  return j;
}

std::vector<TensorRow> tensor_rows(const gguf::GgufFile& f) {
  std::vector<TensorRow> rows;
  rows.reserve(f.tensors().size());
  for (const gguf::TensorInfo& t : f.tensors())
    rows.push_back(TensorRow{std::string(t.name), std::string(dtype_name(t.type)), t.shape, t.offset,
                             t.n_elements, t.n_bytes});
  return rows;
}

void print_text(const gguf::GgufFile& f, const InspectArgs& args) {
  fmt::print("file:         {}\n", f.name());
  fmt::print("format:       GGUF v{} (little-endian)\n", f.version());
  fmt::print("size:         {} bytes ({})\n", f.file_size(), human_bytes(f.file_size()));
  fmt::print("alignment:    {}\n", f.alignment());
  fmt::print("data offset:  {}\n", f.data_offset());
  fmt::print("metadata:     {} keys\n", f.metadata().size());
  fmt::print("tensors:      {}\n", f.tensors().size());

  size_t key_w = 0, type_w = 0;
  for (const gguf::KeyValue& kv : f.metadata()) {
    key_w = std::max(key_w, std::min(kv.key.size(), kMaxKeyColumn));
    type_w = std::max(type_w, type_text(kv.value).size());
  }
  if (!f.metadata().empty()) fmt::print("\nmetadata:\n");
  for (const gguf::KeyValue& kv : f.metadata())
    fmt::print("  {:<{}}  {:<{}}  {}\n", escape_controls(kv.key), key_w, type_text(kv.value), type_w,
               value_text(kv.value));

  fmt::print("\n");
  const auto rows = tensor_rows(f);
  print_tensor_table(stdout, rows, !args.no_tensors);
}

void print_json(const gguf::GgufFile& f, const InspectArgs& args) {
  ordered_json j;
  j["file"] = f.name();
  j["format"] = "gguf";
  j["version"] = f.version();
  j["file_size"] = f.file_size();
  j["alignment"] = f.alignment();
  j["data_offset"] = f.data_offset();
  ordered_json metadata = ordered_json::object();
  for (const gguf::KeyValue& kv : f.metadata()) metadata[std::string(kv.key)] = value_json(kv.value);
  j["metadata"] = std::move(metadata);
  const auto rows = tensor_rows(f);
  const ordered_json table = tensor_table_json(rows, !args.no_tensors);
  for (const auto& [key, value] : table.items()) j[key] = value;
  // Strings from the file need not be UTF-8: replace what is not, rather than fail.
  fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

int run_inspect(const InspectArgs& args) {
  const auto f = gguf::GgufFile::open(resolve_model(args.model));
  if (args.json) print_json(f, args);
  else print_text(f, args);
  return 0;
}

}  // namespace
}  // namespace slm::cli

SLM_COMMAND(inspect) {
  auto* sub = app.add_subcommand("inspect", "Print a GGUF file's header, metadata and tensor table");
  auto args = std::make_shared<slm::cli::InspectArgs>();
  sub->add_option("MODEL", args->model, "a .gguf file (or an Ollama model name)")->required();
  sub->add_flag("--json", args->json, "print one JSON object instead of text");
  sub->add_flag("--no-tensors", args->no_tensors,
                "leave out the per-tensor lines (totals are still printed)");
  return {sub, [args] { return slm::cli::run_inspect(*args); }};
}
