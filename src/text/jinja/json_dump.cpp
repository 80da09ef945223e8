#include "src/text/jinja/json_dump.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "src/text/jinja/python_repr.h"
#include "src/text/jinja/unicode.h"

namespace slm::jinja {

namespace {

constexpr int kMaxJsonDepth = 256;

class JsonWriter {
 public:
  JsonWriter(const JsonDumpOptions& options, std::size_t max_bytes)
      : options_(options),
        max_bytes_(max_bytes),
        item_separator_(options.item_separator ? *options.item_separator : (options.indent ? "," : ", ")) {}

  void write(const Value& v, int depth) {
    if (depth > kMaxJsonDepth) fail("value nested too deeply for tojson (a value that contains itself?)");
    switch (v.kind()) {
      case Value::Kind::none:
        append("null");
        return;
      case Value::Kind::boolean:
        append(v.as_bool() ? "true" : "false");
        return;
      case Value::Kind::integer:
        append(std::to_string(v.as_int()));
        return;
      case Value::Kind::floating:
        append(json_float(v.as_float()));
        return;
      case Value::Kind::string:
        write_string(v.as_string());
        return;
      case Value::Kind::list: {
        const auto& items = v.items();
        if (items.empty()) {
          append("[]");
          return;
        }
        append("[");
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (i) append(item_separator_);
          newline(depth + 1);
          write(items[i], depth + 1);
        }
        newline(depth);
        append("]");
        return;
      }
      case Value::Kind::dict: {
        if (v.is_namespace()) break;
        const auto& items = v.dict_data().items();
        if (items.empty()) {
          append("{}");
          return;
        }
        std::vector<const std::pair<Value, Value>*> order;
        order.reserve(items.size());
        for (const auto& item : items) order.push_back(&item);
        if (options_.sort_keys)
          std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return less(a->first, b->first); });
        append("{");
        bool first = true;
        for (const auto* item : order) {
          if (!first) append(item_separator_);
          first = false;
          newline(depth + 1);
          write_string(key_text(item->first));
          append(options_.key_separator);
          write(item->second, depth + 1);
        }
        newline(depth);
        append("}");
        return;
      }
      default:
        break;
    }
    v.require_defined();
    fail("Object of type " + std::string(v.type_name()) + " is not JSON serializable");
  }

  std::string take() { return std::move(out_); }

 private:
  void append(std::string_view s) {
    if (s.size() > max_bytes_ - out_.size())
      fail(fmt::format("string size limit ({} bytes) exceeded in tojson", max_bytes_));
    out_ += s;
  }

  void newline(int depth) {
    if (!options_.indent) return;
    append("\n");
    for (int i = 0; i < depth; ++i) append(*options_.indent);
  }

  static std::string json_float(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    return float_repr(d);
  }

  // Python's json turns non-string keys into strings: True -> "true", None -> "null", 1.5 -> "1.5".
  static std::string key_text(const Value& key) {
    switch (key.kind()) {
      case Value::Kind::string: return key.as_string();
      case Value::Kind::boolean: return key.as_bool() ? "true" : "false";
      case Value::Kind::none: return "null";
      case Value::Kind::integer: return std::to_string(key.as_int());
      case Value::Kind::floating: return json_float(key.as_float());
      default:
        fail("keys must be str, int, float, bool or None, not " + std::string(key.type_name()));
    }
  }

  void write_string(std::string_view s) {
    if (s.size() > max_bytes_ - out_.size()) append(s);  // fails with the size message
    std::string escaped;
    escaped.reserve(s.size() + 2);
    escaped += '"';
    for (std::size_t pos = 0, len = 0; pos < s.size(); pos += len) {
      const char32_t cp = unicode::decode(s, pos, len);
      switch (cp) {
        case '"': escaped += "\\\""; continue;
        case '\\': escaped += "\\\\"; continue;
        case '\n': escaped += "\\n"; continue;
        case '\r': escaped += "\\r"; continue;
        case '\t': escaped += "\\t"; continue;
        case '\b': escaped += "\\b"; continue;
        case '\f': escaped += "\\f"; continue;
        default: break;
      }
      if (cp < 0x20) {
        escaped += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
      } else if (options_.ensure_ascii && cp >= 0x80 && len > 1) {
        if (cp >= 0x10000) {
          const char32_t v = cp - 0x10000;
          escaped += fmt::format("\\u{:04x}\\u{:04x}", static_cast<unsigned>(0xD800 + (v >> 10)),
                                 static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
        } else {
          escaped += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
        }
      } else {
        escaped.append(s.substr(pos, len));
      }
    }
    escaped += '"';
    append(escaped);
  }

  const JsonDumpOptions& options_;
  std::size_t max_bytes_;
  std::string item_separator_;
  std::string out_;
};

}  // namespace

std::string json_dumps(const Value& v, const JsonDumpOptions& options, std::size_t max_bytes) {
  JsonWriter writer(options, max_bytes);
  writer.write(v, 0);
  return writer.take();
}

}  // namespace slm::jinja
