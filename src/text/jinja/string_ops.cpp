#include "src/text/jinja/string_ops.h"

#include <algorithm>
#include <fmt/format.h>

#include "src/text/jinja/unicode.h"
#include "src/text/jinja/value.h"

namespace slm::jinja::strings {

namespace {

struct CodePoint {
  char32_t cp;
  std::size_t pos, len;
  bool valid;
};

std::vector<CodePoint> code_points(std::string_view s) {
  std::vector<CodePoint> out;
  out.reserve(s.size());
  for (std::size_t pos = 0, len = 0; pos < s.size(); pos += len) {
    const char32_t cp = unicode::decode(s, pos, len);
    out.push_back({cp, pos, len, !(len == 1 && cp >= 0x80)});
  }
  return out;
}

bool is_ws(const CodePoint& c) { return c.valid && unicode::is_space(c.cp); }

void check_size(std::size_t size, std::size_t max_bytes) {
  if (size > max_bytes) fail(fmt::format("string size limit ({} bytes) exceeded", max_bytes));
}

// Python's slice-style clamping of [start, end) over n code points.
void clamp_range(std::size_t n, std::optional<std::int64_t> start, std::optional<std::int64_t> end, std::size_t& from,
                 std::size_t& to) {
  const auto len = static_cast<std::int64_t>(n);
  auto fix = [len](std::int64_t i) {
    if (i < 0) i += len;
    return static_cast<std::size_t>(std::clamp<std::int64_t>(i, 0, len));
  };
  from = start ? fix(*start) : 0;
  to = end ? fix(*end) : n;
}

}  // namespace

std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right) {
  const auto cps = code_points(s);
  std::vector<char32_t> strip_set;
  if (chars) {
    for (const auto& c : code_points(*chars)) strip_set.push_back(c.cp);
  }
  auto strippable = [&](const CodePoint& c) {
    if (!chars) return is_ws(c);
    return std::find(strip_set.begin(), strip_set.end(), c.cp) != strip_set.end();
  };
  std::size_t begin = 0, end = cps.size();
  if (left)
    while (begin < end && strippable(cps[begin])) ++begin;
  if (right)
    while (end > begin && strippable(cps[end - 1])) --end;
  if (begin == end) return {};
  const std::size_t from = cps[begin].pos;
  const std::size_t to = cps[end - 1].pos + cps[end - 1].len;
  return std::string(s.substr(from, to - from));
}

std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, std::int64_t maxsplit) {
  std::vector<std::string> parts;
  if (sep) {
    if (sep->empty()) fail("empty separator");
    std::size_t start = 0;
    while (maxsplit < 0 || static_cast<std::int64_t>(parts.size()) < maxsplit) {
      const std::size_t at = s.find(*sep, start);
      if (at == std::string_view::npos) break;
      parts.emplace_back(s.substr(start, at - start));
      start = at + sep->size();
    }
    parts.emplace_back(s.substr(start));
    return parts;
  }
  const auto cps = code_points(s);
  std::size_t i = 0;
  while (i < cps.size()) {
    while (i < cps.size() && is_ws(cps[i])) ++i;
    if (i == cps.size()) break;
    if (maxsplit >= 0 && static_cast<std::int64_t>(parts.size()) == maxsplit) {
      // The remainder, with its trailing whitespace kept, as Python does.
      parts.emplace_back(s.substr(cps[i].pos));
      return parts;
    }
    const std::size_t begin = i;
    while (i < cps.size() && !is_ws(cps[i])) ++i;
    const std::size_t end_byte = i < cps.size() ? cps[i].pos : s.size();
    parts.emplace_back(s.substr(cps[begin].pos, end_byte - cps[begin].pos));
  }
  return parts;
}

std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, std::int64_t maxsplit) {
  std::vector<std::string> parts;
  if (sep) {
    if (sep->empty()) fail("empty separator");
    std::size_t end = s.size();
    while (maxsplit < 0 || static_cast<std::int64_t>(parts.size()) < maxsplit) {
      if (end < sep->size()) break;
      const std::size_t at = s.rfind(*sep, end - sep->size());
      if (at == std::string_view::npos) break;
      parts.emplace_back(s.substr(at + sep->size(), end - at - sep->size()));
      end = at;
    }
    parts.emplace_back(s.substr(0, end));
    std::reverse(parts.begin(), parts.end());
    return parts;
  }
  const auto cps = code_points(s);
  std::size_t i = cps.size();
  while (i > 0) {
    while (i > 0 && is_ws(cps[i - 1])) --i;
    if (i == 0) break;
    if (maxsplit >= 0 && static_cast<std::int64_t>(parts.size()) == maxsplit) {
      parts.emplace_back(s.substr(0, cps[i - 1].pos + cps[i - 1].len));
      std::reverse(parts.begin(), parts.end());
      return parts;
    }
    const std::size_t end = i;
    while (i > 0 && !is_ws(cps[i - 1])) --i;
    const std::size_t end_byte = cps[end - 1].pos + cps[end - 1].len;
    parts.emplace_back(s.substr(cps[i].pos, end_byte - cps[i].pos));
  }
  std::reverse(parts.begin(), parts.end());
  return parts;
}

std::vector<std::string> splitlines(std::string_view s, bool keepends) {
  std::vector<std::string> lines;
  const auto cps = code_points(s);
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < cps.size(); ++i) {
    if (!cps[i].valid || !unicode::is_line_break(cps[i].cp)) continue;
    const std::size_t break_begin = cps[i].pos;
    std::size_t break_end = cps[i].pos + cps[i].len;
    if (cps[i].cp == '\r' && i + 1 < cps.size() && cps[i + 1].cp == '\n') {
      ++i;
      break_end = cps[i].pos + cps[i].len;
    }
    const std::size_t content_end = keepends ? break_end : break_begin;
    lines.emplace_back(s.substr(line_start, content_end - line_start));
    line_start = break_end;
  }
  if (line_start < s.size()) lines.emplace_back(s.substr(line_start));
  return lines;
}

std::string replace(std::string_view s, std::string_view old_text, std::string_view new_text, std::int64_t count,
                    std::size_t max_bytes) {
  std::string out;
  if (old_text.empty()) {
    // Python inserts new_text before every code point and at the end (up to count times).
    const auto cps = code_points(s);
    const std::size_t inserts = cps.size() + 1;
    const std::size_t done = count < 0 ? inserts : std::min<std::size_t>(inserts, static_cast<std::size_t>(count));
    if (new_text.size() != 0 && done > (max_bytes - std::min(max_bytes, s.size())) / new_text.size())
      check_size(max_bytes + 1, max_bytes);
    out.reserve(s.size() + done * new_text.size());
    std::size_t inserted = 0;
    for (const auto& c : cps) {
      if (inserted < done) {
        out += new_text;
        ++inserted;
      }
      out.append(s.substr(c.pos, c.len));
    }
    if (inserted < done) out += new_text;
    return out;
  }
  std::size_t start = 0;
  std::int64_t replaced = 0;
  for (;;) {
    if (count >= 0 && replaced >= count) break;
    const std::size_t at = s.find(old_text, start);
    if (at == std::string_view::npos) break;
    out.append(s.substr(start, at - start));
    out.append(new_text);
    check_size(out.size(), max_bytes);
    start = at + old_text.size();
    ++replaced;
  }
  out.append(s.substr(start));
  check_size(out.size(), max_bytes);
  return out;
}

std::string capitalize(std::string_view s) {
  std::string out;
  bool first = true;
  for (const auto& c : code_points(s)) {
    if (!c.valid) {
      out.append(s.substr(c.pos, c.len));
    } else {
      unicode::append_utf8(out, first ? unicode::to_upper(c.cp) : unicode::to_lower(c.cp));
    }
    first = false;
  }
  return out;
}

std::string title_case(std::string_view s) {
  std::string out;
  bool previous_cased = false;
  for (const auto& c : code_points(s)) {
    if (!c.valid) {
      out.append(s.substr(c.pos, c.len));
      previous_cased = false;
      continue;
    }
    const bool cased = unicode::is_upper(c.cp) || unicode::is_lower(c.cp);
    unicode::append_utf8(out, cased ? (previous_cased ? unicode::to_lower(c.cp) : unicode::to_upper(c.cp)) : c.cp);
    previous_cased = cased;
  }
  return out;
}

std::string jinja_title(std::string_view s) {
  // Jinja splits on runs of [-\s({\[<] and capitalizes each piece: first code point upper, rest lower.
  std::string out;
  bool at_word_start = true;
  for (const auto& c : code_points(s)) {
    const bool separator = c.valid && (unicode::is_space(c.cp) || c.cp == '-' || c.cp == '(' || c.cp == '{' ||
                                       c.cp == '[' || c.cp == '<');
    if (!c.valid) {
      out.append(s.substr(c.pos, c.len));
      at_word_start = false;
      continue;
    }
    if (separator) {
      unicode::append_utf8(out, c.cp);
      at_word_start = true;
      continue;
    }
    unicode::append_utf8(out, at_word_start ? unicode::to_upper(c.cp) : unicode::to_lower(c.cp));
    at_word_start = false;
  }
  return out;
}

std::string swapcase(std::string_view s) {
  std::string out;
  for (const auto& c : code_points(s)) {
    if (!c.valid) {
      out.append(s.substr(c.pos, c.len));
      continue;
    }
    const char32_t lower = unicode::to_lower(c.cp);
    unicode::append_utf8(out, lower != c.cp ? lower : unicode::to_upper(c.cp));
  }
  return out;
}

namespace {

// Code point index of a byte offset that starts a code point.
std::int64_t code_point_index(std::string_view s, std::size_t byte) {
  return static_cast<std::int64_t>(unicode::length(s.substr(0, byte)));
}

}  // namespace

std::int64_t find(std::string_view s, std::string_view sub, std::optional<std::int64_t> start,
                  std::optional<std::int64_t> end, bool reverse) {
  if (!start && !end) {
    // The common case needs no table of code point offsets.
    const std::size_t at = reverse ? s.rfind(sub) : s.find(sub);
    return at == std::string_view::npos ? -1 : code_point_index(s, at);
  }
  const auto bounds = unicode::boundaries(s);
  const std::size_t n = bounds.size() - 1;
  std::size_t from, to;
  clamp_range(n, start, end, from, to);
  if (from > to) return -1;
  const std::string_view window = s.substr(bounds[from], bounds[to] - bounds[from]);
  const std::size_t at = reverse ? window.rfind(sub) : window.find(sub);
  if (at == std::string_view::npos) return -1;
  const std::size_t byte = bounds[from] + at;
  return static_cast<std::int64_t>(std::lower_bound(bounds.begin(), bounds.end(), byte) - bounds.begin());
}

std::int64_t count(std::string_view s, std::string_view sub, std::optional<std::int64_t> start,
                   std::optional<std::int64_t> end) {
  std::string_view window = s;
  std::size_t code_points;
  if (!start && !end) {
    code_points = unicode::length(s);
  } else {
    const auto bounds = unicode::boundaries(s);
    const std::size_t n = bounds.size() - 1;
    std::size_t from, to;
    clamp_range(n, start, end, from, to);
    if (from > to) return 0;
    window = s.substr(bounds[from], bounds[to] - bounds[from]);
    code_points = to - from;
  }
  if (sub.empty()) return static_cast<std::int64_t>(code_points + 1);
  std::int64_t total = 0;
  for (std::size_t at = window.find(sub); at != std::string_view::npos; at = window.find(sub, at + sub.size())) ++total;
  return total;
}

std::string justify(std::string_view s, std::size_t width, char align, std::string_view fill, std::size_t max_bytes) {
  const std::size_t length = unicode::length(s);
  if (width <= length) return std::string(s);
  const std::size_t missing = width - length;
  if (missing > max_bytes / std::max<std::size_t>(1, fill.size())) check_size(max_bytes + 1, max_bytes);
  check_size(s.size() + missing * fill.size(), max_bytes);
  std::size_t left = 0;
  if (align == '>') left = missing;
  else if (align == '^') left = missing / 2 + (missing & width & 1);  // CPython's centering rule
  std::string out;
  out.reserve(s.size() + missing * fill.size());
  for (std::size_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (std::size_t i = left; i < missing; ++i) out += fill;
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace slm::jinja::strings
