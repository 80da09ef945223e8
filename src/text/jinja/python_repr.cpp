#include "src/text/jinja/python_repr.h"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

#include "src/text/jinja/unicode.h"

namespace slm::jinja {

namespace {

constexpr int kMaxReprDepth = 256;

class ReprWriter {
 public:
  explicit ReprWriter(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  void append(std::string_view s) {
    if (s.size() > max_bytes_ - out_.size())
      fail(fmt::format("string size limit ({} bytes) exceeded while printing a value", max_bytes_));
    out_ += s;
  }

  void write(const Value& v, bool quote_strings, int depth) {
    if (depth > kMaxReprDepth) fail("value nested too deeply to print (a value that contains itself?)");
    switch (v.kind()) {
      case Value::Kind::undefined:
        if (quote_strings) append("Undefined");
        return;
      case Value::Kind::none:
        append("None");
        return;
      case Value::Kind::boolean:
        append(v.as_bool() ? "True" : "False");
        return;
      case Value::Kind::integer:
        append(std::to_string(v.as_int()));
        return;
      case Value::Kind::floating:
        append(float_repr(v.as_float()));
        return;
      case Value::Kind::string:
        if (quote_strings) {
          if (v.as_string().size() > max_bytes_ - out_.size()) append(v.as_string());  // fails
          append(string_repr(v.as_string()));
        } else {
          append(v.as_string());
        }
        return;
      case Value::Kind::list: {
        const bool tuple = v.is_tuple();
        const char* view = v.list_data().view_name;
        if (view) {
          append(view);
          append("(");
        }
        append(tuple ? "(" : "[");
        const auto& items = v.items();
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (i) append(", ");
          write(items[i], true, depth + 1);
        }
        if (tuple && items.size() == 1) append(",");
        append(tuple ? ")" : "]");
        if (view) append(")");
        return;
      }
      case Value::Kind::dict: {
        if (v.is_namespace()) append("<Namespace ");
        append("{");
        bool first = true;
        for (const auto& [key, value] : v.dict_data().items()) {
          if (!first) append(", ");
          first = false;
          write(key, true, depth + 1);
          append(": ");
          write(value, true, depth + 1);
        }
        append("}");
        if (v.is_namespace()) append(">");
        return;
      }
      case Value::Kind::callable:
        append(v.callable_ref().repr());
        return;
      case Value::Kind::loop: {
        const LoopState& loop = *v.loop_ptr();
        append(fmt::format("<LoopContext {}/{}>", loop.index0 + 1, loop.items ? loop.items->size() : 0));
        return;
      }
    }
  }

  std::string take() { return std::move(out_); }

 private:
  std::size_t max_bytes_;
  std::string out_;
};

}  // namespace

std::string to_str(const Value& v, std::size_t max_bytes) {
  if (v.is_string()) {
    if (v.as_string().size() > max_bytes)
      fail(fmt::format("string size limit ({} bytes) exceeded", max_bytes));
    return v.as_string();
  }
  ReprWriter writer(max_bytes);
  writer.write(v, false, 0);
  return writer.take();
}

std::string to_repr(const Value& v, std::size_t max_bytes) {
  ReprWriter writer(max_bytes);
  writer.write(v, true, 0);
  return writer.take();
}

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  // Shortest round-trip digits, then Python's layout: fixed notation for decimal exponents in
  // [-4, 16), scientific otherwise; fixed always shows a fractional part.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(end - buf));
  const bool negative = !sci.empty() && sci[0] == '-';
  if (negative) sci.remove_prefix(1);
  const std::size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos))
    if (c != '.') digits += c;
  int exponent = 0;
  std::from_chars(sci.data() + e_pos + 1 + (sci[e_pos + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exponent);

  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0.";
      out.append(static_cast<std::size_t>(-exponent - 1), '0');
      out += digits;
    } else {
      const std::size_t int_digits = static_cast<std::size_t>(exponent) + 1;
      if (digits.size() <= int_digits) {
        out += digits;
        out.append(int_digits - digits.size(), '0');
        out += ".0";
      } else {
        out += digits.substr(0, int_digits);
        out += '.';
        out += digits.substr(int_digits);
      }
    }
    return out;
  }
  out += digits[0];
  if (digits.size() > 1) {
    out += '.';
    out += digits.substr(1);
  }
  out += fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', exponent < 0 ? -exponent : exponent);
  return out;
}

std::string string_repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out;
  out.reserve(s.size() + 2);
  out += quote;
  for (std::size_t pos = 0, len = 0; pos < s.size(); pos += len) {
    const char32_t cp = unicode::decode(s, pos, len);
    if (len == 1 && static_cast<unsigned char>(s[pos]) >= 0x80) {
      out += s[pos];  // invalid byte: carried through
      continue;
    }
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!unicode::is_printable(cp)) {
      if (cp < 0x100)
        out += fmt::format("\\x{:02x}", static_cast<unsigned>(cp));
      else if (cp < 0x10000)
        out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
      else
        out += fmt::format("\\U{:08x}", static_cast<unsigned>(cp));
    } else {
      out.append(s.substr(pos, len));
    }
  }
  out += quote;
  return out;
}

}  // namespace slm::jinja
