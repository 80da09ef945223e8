#include "src/text/unicode.h"

namespace slm::text {

size_t utf8_lead_length(uint8_t lead) noexcept {
  if (lead < 0xC0) return 1;  // ASCII, or a continuation byte that cannot lead
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF8) return 4;
  return 1;
}

// Bounds of the second byte for each lead byte (Unicode Table 3-7); later bytes are 0x80..0xBF.
static bool second_byte_ok(uint8_t lead, uint8_t b) noexcept {
  switch (lead) {
    case 0xE0:
      return b >= 0xA0 && b <= 0xBF;  // no overlong 3-byte forms
    case 0xED:
      return b >= 0x80 && b <= 0x9F;  // no surrogates
    case 0xF0:
      return b >= 0x90 && b <= 0xBF;  // no overlong 4-byte forms
    case 0xF4:
      return b >= 0x80 && b <= 0x8F;  // nothing past U+10FFFF
    default:
      return b >= 0x80 && b <= 0xBF;
  }
}

// Expected sequence length for a valid lead byte, 0 for a byte that never leads.
static size_t valid_lead_length(uint8_t lead) noexcept {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

size_t utf8_decode(std::string_view s, size_t pos, char32_t& cp) noexcept {
  if (pos >= s.size()) return 0;
  const auto lead = static_cast<uint8_t>(s[pos]);
  const size_t n = valid_lead_length(lead);
  if (n == 0 || n > s.size() - pos) return 0;
  if (n == 1) {
    cp = lead;
    return 1;
  }
  if (!second_byte_ok(lead, static_cast<uint8_t>(s[pos + 1]))) return 0;
  char32_t value = lead & (0x7F >> n);
  for (size_t i = 1; i < n; ++i) {
    const auto b = static_cast<uint8_t>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return 0;
    value = (value << 6) | (b & 0x3F);
  }
  cp = value;
  return n;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementCharacter;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool utf8_is_valid(std::string_view s) noexcept {
  char32_t cp = 0;
  for (size_t pos = 0; pos < s.size();) {
    const size_t n = utf8_decode(s, pos, cp);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

std::string utf8_sanitize(std::string_view s) {
  if (utf8_is_valid(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  char32_t cp = 0;
  for (size_t pos = 0; pos < s.size();) {
    const size_t n = utf8_decode(s, pos, cp);
    if (n == 0) {
      utf8_append(out, kReplacementCharacter);
      pos += 1;
    } else {
      out.append(s.substr(pos, n));
      pos += n;
    }
  }
  return out;
}

size_t utf8_incomplete_tail(std::string_view s) noexcept {
  // A sequence is at most 4 bytes, so an unfinished one starts within the last 3 bytes.
  const size_t look = s.size() < 3 ? s.size() : 3;
  for (size_t back = 1; back <= look; ++back) {
    const size_t start = s.size() - back;
    const auto lead = static_cast<uint8_t>(s[start]);
    if ((lead & 0xC0) == 0x80) continue;  // a continuation byte: the lead is further back
    const size_t n = valid_lead_length(lead);
    if (n <= back) return 0;  // ASCII, an invalid lead, or a sequence that is already complete
    // The bytes present must be a valid prefix of that sequence.
    if (back >= 2 && !second_byte_ok(lead, static_cast<uint8_t>(s[start + 1]))) return 0;
    for (size_t i = 2; i < back; ++i)
      if ((static_cast<uint8_t>(s[start + i]) & 0xC0) != 0x80) return 0;
    return back;
  }
  return 0;
}

}  // namespace slm::text
