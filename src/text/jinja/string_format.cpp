#include "src/text/jinja/string_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <optional>

#include "src/text/jinja/interpreter.h"
#include "src/text/jinja/python_repr.h"
#include "src/text/jinja/unicode.h"

namespace slm::jinja {

namespace {

struct Spec {
  char fill = ' ';
  char align = 0;     // '<' '>' '^' '=' or 0 for the type's default
  char sign = '-';    // '-' '+' ' '
  bool alternate = false;
  bool zero = false;
  std::size_t width = 0;
  char grouping = 0;  // ',' '_' or 0
  std::optional<std::size_t> precision;
  char type = 0;
};

std::size_t parse_count(Interpreter& rt, const std::string& s, std::size_t& i) {
  std::size_t n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    n = n * 10 + static_cast<std::size_t>(s[i++] - '0');
    if (n > rt.limits().max_string_bytes) rt.check_string_size(n);  // fails before anything is padded
  }
  return n;
}

std::string pad(Interpreter& rt, std::string body, std::size_t width, char align, char fill, std::size_t sign_prefix = 0) {
  const std::size_t length = unicode::length(body);
  if (length >= width) return body;
  const std::size_t missing = width - length;
  rt.check_string_size(body.size() + missing);
  switch (align) {
    case '<': return body + std::string(missing, fill);
    case '^': return std::string(missing / 2, fill) + body + std::string(missing - missing / 2, fill);
    case '=': return body.substr(0, sign_prefix) + std::string(missing, fill) + body.substr(sign_prefix);
    default: return std::string(missing, fill) + body;
  }
}

std::string group_digits(const std::string& digits, char separator, std::size_t every) {
  if (!separator) return digits;
  std::string out;
  const std::size_t n = digits.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % every == 0) out += separator;
    out += digits[i];
  }
  return out;
}

std::string to_base(std::uint64_t value, int base, bool upper) {
  if (value == 0) return "0";
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  while (value) {
    out.insert(out.begin(), digits[value % static_cast<std::uint64_t>(base)]);
    value /= static_cast<std::uint64_t>(base);
  }
  return out;
}

std::uint64_t magnitude(std::int64_t v) {
  return v < 0 ? static_cast<std::uint64_t>(-(v + 1)) + 1 : static_cast<std::uint64_t>(v);
}

// Float precision beyond this is refused: printing 10^8 digits of a double would take seconds.
constexpr std::size_t kMaxFloatPrecision = 1000;

std::string c_format(Interpreter& rt, const std::string& spec, double value) {
  const int needed = std::snprintf(nullptr, 0, spec.c_str(), value);
  if (needed < 0) fail("invalid float format");
  rt.check_string_size(static_cast<std::size_t>(needed));
  std::string out(static_cast<std::size_t>(needed) + 1, '\0');
  std::snprintf(out.data(), out.size(), spec.c_str(), value);
  out.pop_back();
  return out;
}

// Integers in the format mini-language (types b c d o x X n, or none).
std::string format_integer(Interpreter& rt, std::int64_t v, const Spec& spec) {
  std::string digits;
  std::string prefix;
  switch (spec.type) {
    case 'b': digits = to_base(magnitude(v), 2, false); prefix = "0b"; break;
    case 'o': digits = to_base(magnitude(v), 8, false); prefix = "0o"; break;
    case 'x': digits = to_base(magnitude(v), 16, false); prefix = "0x"; break;
    case 'X': digits = to_base(magnitude(v), 16, true); prefix = "0X"; break;
    case 'c': {
      if (v < 0 || v > 0x10FFFF) fail("%c arg not in range(0x110000)");
      std::string ch;
      unicode::append_utf8(ch, static_cast<char32_t>(v));
      return pad(rt, ch, spec.width, spec.align ? spec.align : '<', spec.fill);
    }
    default: digits = to_base(magnitude(v), 10, false); break;
  }
  digits = group_digits(digits, spec.grouping, (spec.type == 'd' || spec.type == 0 || spec.type == 'n') ? 3 : 4);
  std::string sign = v < 0 ? "-" : spec.sign == '+' ? "+" : spec.sign == ' ' ? " " : "";
  std::string head = sign + (spec.alternate ? prefix : "");
  char align = spec.align ? spec.align : '>';
  char fill = spec.fill;
  if (spec.zero && !spec.align) {
    align = '=';
    fill = '0';
  }
  return pad(rt, head + digits, spec.width, align, fill, head.size());
}

std::string format_float(Interpreter& rt, double v, const Spec& spec) {
  char type = spec.type;
  std::string body;
  if (type == 0 && !spec.precision) {
    body = float_repr(v);
    if (v >= 0 && spec.sign == '+') body = "+" + body;
    if (v >= 0 && spec.sign == ' ') body = " " + body;
  } else {
    double shown = v;
    std::string suffix;
    if (type == '%') {
      shown = v * 100.0;
      type = 'f';
      suffix = "%";
    }
    if (type == 0) type = 'g';
    if (type == 'n') type = 'g';
    std::string c_spec = "%";
    if (spec.sign == '+') c_spec += '+';
    if (spec.sign == ' ') c_spec += ' ';
    if (spec.alternate) c_spec += '#';
    if (spec.precision.value_or(6) > kMaxFloatPrecision) fail("float precision too large");
    c_spec += fmt::format(".{}", spec.precision.value_or(6));
    c_spec += type;
    body = c_format(rt, c_spec, shown) + suffix;
    if (spec.grouping) {
      const std::size_t start = (body[0] == '-' || body[0] == '+' || body[0] == ' ') ? 1 : 0;
      std::size_t end = start;
      while (end < body.size() && body[end] >= '0' && body[end] <= '9') ++end;
      body = body.substr(0, start) + group_digits(body.substr(start, end - start), spec.grouping, 3) + body.substr(end);
    }
  }
  char align = spec.align ? spec.align : '>';
  char fill = spec.fill;
  if (spec.zero && !spec.align) {
    align = '=';
    fill = '0';
  }
  const std::size_t sign_prefix = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
  return pad(rt, body, spec.width, align, fill, sign_prefix);
}

Spec parse_spec(Interpreter& rt, const std::string& s) {
  Spec spec;
  std::size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (s.size() >= 2 && is_align(s[1])) {
    spec.fill = s[0];
    spec.align = s[1];
    i = 2;
  } else if (!s.empty() && is_align(s[0])) {
    spec.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) spec.sign = s[i++];
  if (i < s.size() && s[i] == '#') {
    spec.alternate = true;
    ++i;
  }
  if (i < s.size() && s[i] == '0') {
    spec.zero = true;
    ++i;
  }
  spec.width = parse_count(rt, s, i);
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) spec.grouping = s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || s[i] < '0' || s[i] > '9') fail("format specifier missing precision");
    spec.precision = parse_count(rt, s, i);
  }
  if (i < s.size()) spec.type = s[i++];
  if (i != s.size()) fail(fmt::format("invalid format specifier '{}'", s));
  return spec;
}

std::string format_value(Interpreter& rt, const Value& v, const std::string& spec_text) {
  if (spec_text.empty()) return rt.str(v);
  const Spec spec = parse_spec(rt, spec_text);
  if (v.is_string() || v.is_undefined()) {
    if (spec.type != 0 && spec.type != 's')
      fail(fmt::format("unknown format code '{}' for object of type 'str'", spec.type));
    std::string s = v.is_string() ? v.as_string() : std::string();
    if (spec.precision) s.resize(unicode::byte_offset(s, *spec.precision));
    return pad(rt, s, spec.width, spec.align ? spec.align : '<', spec.fill);
  }
  if (v.is_int() || v.is_bool()) {
    if (spec.type == 'e' || spec.type == 'E' || spec.type == 'f' || spec.type == 'F' || spec.type == 'g' ||
        spec.type == 'G' || spec.type == '%')
      return format_float(rt, v.to_double(), spec);
    if (spec.type != 0 && std::string_view("bcdoxXn").find(spec.type) == std::string_view::npos)
      fail(fmt::format("unknown format code '{}' for object of type 'int'", spec.type));
    if (v.is_bool() && spec.type == 0) return pad(rt, rt.str(v), spec.width, spec.align ? spec.align : '<', spec.fill);
    return format_integer(rt, v.to_int(), spec);
  }
  if (v.is_float()) {
    if (spec.type != 0 && std::string_view("eEfFgGn%").find(spec.type) == std::string_view::npos)
      fail(fmt::format("unknown format code '{}' for object of type 'float'", spec.type));
    return format_float(rt, v.as_float(), spec);
  }
  fail(fmt::format("unsupported format string passed to {}.__format__", v.type_name()));
}

}  // namespace

std::string percent_format(Interpreter& rt, const std::string& format, const Value& args) {
  std::vector<Value> values;
  const bool mapping = args.is_dict() && !args.is_namespace();
  if (args.is_tuple()) values = args.items();
  else values.push_back(args);
  std::size_t next = 0;
  bool used_mapping = false;
  std::string out;
  for (std::size_t i = 0; i < format.size();) {
    const char c = format[i];
    if (c != '%') {
      out += c;
      ++i;
      continue;
    }
    const std::size_t start = i++;
    if (i >= format.size()) fail("incomplete format");
    std::optional<Value> keyed;
    if (format[i] == '(') {
      if (!mapping) fail("format requires a mapping");
      const std::size_t close = format.find(')', i);
      if (close == std::string::npos) fail("incomplete format key");
      const Value* found = args.dict_data().find(std::string_view(format).substr(i + 1, close - i - 1));
      if (!found) fail(fmt::format("format key '{}' not found", format.substr(i + 1, close - i - 1)));
      keyed = *found;
      used_mapping = true;
      i = close + 1;
    }
    Spec spec;
    bool left = false;
    while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string_view::npos) {
      switch (format[i++]) {
        case '-': left = true; break;
        case '+': spec.sign = '+'; break;
        case ' ': if (spec.sign != '+') spec.sign = ' '; break;
        case '#': spec.alternate = true; break;
        case '0': spec.zero = true; break;
      }
    }
    auto next_value = [&]() -> const Value& {
      if (keyed) return *keyed;
      if (next >= values.size()) fail("not enough arguments for format string");
      return values[next++];
    };
    if (i < format.size() && format[i] == '*') {
      ++i;
      const Value& w = next_value();
      if (!w.is_int()) fail("* wants int");
      spec.width = static_cast<std::size_t>(std::max<std::int64_t>(0, w.as_int()));
      rt.check_string_size(spec.width);
    } else {
      spec.width = parse_count(rt, format, i);
    }
    if (i < format.size() && format[i] == '.') {
      ++i;
      spec.precision = parse_count(rt, format, i);
    }
    while (i < format.size() && (format[i] == 'h' || format[i] == 'l' || format[i] == 'L')) ++i;
    if (i >= format.size()) fail("incomplete format");
    const char conversion = format[i++];
    if (conversion == '%') {
      out += '%';
      continue;
    }
    const Value& v = next_value();
    spec.align = left ? '<' : '>';
    if (spec.zero && !left) {
      spec.align = 0;  // zero padding after the sign
    } else {
      spec.zero = false;
    }
    std::string piece;
    switch (conversion) {
      case 's':
      case 'r':
      case 'a': {
        std::string s = conversion == 's' ? rt.str(v) : to_repr(v, rt.limits().max_string_bytes);
        if (spec.precision) s.resize(unicode::byte_offset(s, *spec.precision));
        piece = pad(rt, s, spec.width, left ? '<' : '>', ' ');
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'o':
      case 'x':
      case 'X': {
        std::int64_t n;
        if (v.is_int() || v.is_bool()) {
          n = v.to_int();
        } else if (v.is_float() && (conversion == 'd' || conversion == 'i' || conversion == 'u')) {
          if (!std::isfinite(v.as_float()) || std::fabs(v.as_float()) >= 9.2e18) fail("cannot convert float to integer");
          n = static_cast<std::int64_t>(v.as_float());
        } else {
          v.require_defined();
          fail(fmt::format("%{} format: a number is required, not {}", conversion, v.type_name()));
        }
        spec.type = (conversion == 'o' || conversion == 'x' || conversion == 'X') ? conversion : 'd';
        std::string digits = format_integer(rt, n, Spec{' ', '>', spec.sign, spec.alternate, false, 0, 0, {}, spec.type});
        if (spec.precision) {
          const std::size_t sign_len = (!digits.empty() && (digits[0] == '-' || digits[0] == '+' || digits[0] == ' ')) ? 1 : 0;
          const std::size_t prefix_len = sign_len + (spec.alternate && spec.type != 'd' ? 2 : 0);
          const std::size_t count = digits.size() - prefix_len;
          rt.check_string_size(*spec.precision);
          if (count < *spec.precision) digits.insert(prefix_len, *spec.precision - count, '0');
        }
        const std::size_t sign_len = (!digits.empty() && (digits[0] == '-' || digits[0] == '+' || digits[0] == ' ')) ? 1 : 0;
        piece = spec.zero ? pad(rt, digits, spec.width, '=', '0', sign_len + (spec.alternate && spec.type != 'd' ? 2 : 0))
                          : pad(rt, digits, spec.width, left ? '<' : '>', ' ');
        break;
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G': {
        if (!v.is_number()) {
          v.require_defined();
          fail(fmt::format("must be real number, not {}", v.type_name()));
        }
        if (spec.precision.value_or(6) > kMaxFloatPrecision) fail("float precision too large");
        std::string c_spec = "%";
        if (left) c_spec += '-';
        if (spec.sign == '+') c_spec += '+';
        if (spec.sign == ' ') c_spec += ' ';
        if (spec.alternate) c_spec += '#';
        if (spec.zero) c_spec += '0';
        c_spec += fmt::format("{}.{}{}", spec.width, spec.precision.value_or(6), conversion);
        piece = c_format(rt, c_spec, v.to_double());
        break;
      }
      case 'c': {
        std::string ch;
        if (v.is_string() && unicode::length(v.as_string()) == 1) {
          ch = v.as_string();
        } else if (v.is_int()) {
          if (v.as_int() < 0 || v.as_int() > 0x10FFFF) fail("%c arg not in range(0x110000)");
          unicode::append_utf8(ch, static_cast<char32_t>(v.as_int()));
        } else {
          fail("%c requires int or char");
        }
        piece = pad(rt, ch, spec.width, left ? '<' : '>', ' ');
        break;
      }
      default:
        fail(fmt::format("unsupported format character '{}' at index {}", conversion, i - 1));
    }
    (void)start;
    rt.check_string_size(out.size() + piece.size());
    out += piece;
  }
  // Python skips this check for arguments that support item access (dicts, lists).
  const bool subscriptable = mapping || (args.is_list() && !args.is_tuple() && !args.list_data().view_name);
  if (!used_mapping && !subscriptable && next < values.size()) fail("not all arguments converted during string formatting");
  return out;
}

std::string brace_format(Interpreter& rt, const std::string& format, const CallArgs& args) {
  std::string out;
  std::size_t auto_index = 0;
  bool used_auto = false, used_manual = false;
  for (std::size_t i = 0; i < format.size();) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') {
        out += '}';
        i += 2;
        continue;
      }
      fail("single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      i += 2;
      continue;
    }
    const std::size_t close = format.find('}', i + 1);
    if (close == std::string::npos) fail("single '{' encountered in format string");
    const std::string field = format.substr(i + 1, close - i - 1);
    if (field.find('{') != std::string::npos) fail("nested replacement fields in a format spec are not supported");
    i = close + 1;

    std::string spec_text;
    std::string name_part = field;
    char conversion = 0;
    if (const std::size_t colon = name_part.find(':'); colon != std::string::npos) {
      spec_text = name_part.substr(colon + 1);
      name_part = name_part.substr(0, colon);
    }
    if (const std::size_t bang = name_part.find('!'); bang != std::string::npos) {
      if (bang + 2 != name_part.size()) fail("expected ':' after conversion specifier");
      conversion = name_part[bang + 1];
      if (conversion != 's' && conversion != 'r' && conversion != 'a') fail(fmt::format("unknown conversion specifier {}", conversion));
      name_part = name_part.substr(0, bang);
    }
    std::size_t head_end = 0;
    while (head_end < name_part.size() && name_part[head_end] != '.' && name_part[head_end] != '[') ++head_end;
    const std::string head = name_part.substr(0, head_end);
    Value value;
    if (head.empty() || std::all_of(head.begin(), head.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      std::size_t index;
      if (head.empty()) {
        if (used_manual) fail("cannot switch from manual field specification to automatic field numbering");
        used_auto = true;
        index = auto_index++;
      } else {
        if (used_auto) fail("cannot switch from automatic field numbering to manual field specification");
        used_manual = true;
        if (head.size() > 9) fail("format field index too large");
        index = std::stoul(head);
      }
      if (index >= args.positional.size()) fail(fmt::format("Replacement index {} out of range for positional args tuple", index));
      value = args.positional[index];
    } else {
      bool found = false;
      for (const auto& [key, v] : args.keyword) {
        if (key == head) {
          value = v;
          found = true;
          break;
        }
      }
      if (!found) fail(fmt::format("KeyError: '{}'", head));
    }
    // .attr and [key] accessors.
    for (std::size_t p = head_end; p < name_part.size();) {
      if (name_part[p] == '.') {
        std::size_t end = p + 1;
        while (end < name_part.size() && name_part[end] != '.' && name_part[end] != '[') ++end;
        value = rt.attribute(value, name_part.substr(p + 1, end - p - 1));
        p = end;
      } else {
        const std::size_t end = name_part.find(']', p);
        if (end == std::string::npos) fail("missing ']' in format string");
        const std::string key = name_part.substr(p + 1, end - p - 1);
        const bool numeric = !key.empty() && key.size() < 10 &&
                             std::all_of(key.begin(), key.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
        value = rt.item(value, numeric ? Value::integer(std::stoll(key)) : Value::string(key));
        p = end + 1;
      }
    }
    if (conversion == 's') value = Value::string(rt.str(value));
    if (conversion == 'r' || conversion == 'a') value = Value::string(to_repr(value, rt.limits().max_string_bytes));
    std::string piece = format_value(rt, value, spec_text);
    rt.check_string_size(out.size() + piece.size());
    out += piece;
  }
  return out;
}

}  // namespace slm::jinja
