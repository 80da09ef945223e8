#include "src/text/jinja/json_value.h"

#include <fmt/format.h>

#include "slm/error.h"

namespace slm::jinja {

namespace {

constexpr int kMaxDepth = 256;

Value convert(const nlohmann::ordered_json& json, const RenderLimits& limits, int depth) {
  if (depth > kMaxDepth)
    throw Error(ErrorKind::template_runtime, "context", fmt::format("JSON nested deeper than {} levels", kMaxDepth));
  switch (json.type()) {
    case nlohmann::json::value_t::null:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value::boolean(json.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value::integer(json.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto u = json.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) return Value::floating(static_cast<double>(u));
      return Value::integer(static_cast<std::int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value::floating(json.get<double>());
    case nlohmann::json::value_t::string:
      return Value::string(json.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      if (json.size() > limits.max_items)
        throw Error(ErrorKind::template_runtime, "context", fmt::format("array of {} items exceeds the list/dict size limit", json.size()));
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(convert(item, limits, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      if (json.size() > limits.max_items)
        throw Error(ErrorKind::template_runtime, "context", fmt::format("object of {} keys exceeds the list/dict size limit", json.size()));
      auto dict = std::make_shared<Dict>();
      for (const auto& [key, value] : json.items()) dict->set(Value::string(key), convert(value, limits, depth + 1));
      return Value::dict(std::move(dict));
    }
    case nlohmann::json::value_t::binary:
    case nlohmann::json::value_t::discarded:
      break;
  }
  throw Error(ErrorKind::template_runtime, "context", "unsupported JSON value (binary or discarded)");
}

}  // namespace

Value value_from_json(const nlohmann::ordered_json& json, const RenderLimits& limits) {
  return convert(json, limits, 0);
}

}  // namespace slm::jinja
