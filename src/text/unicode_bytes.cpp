#include "src/text/unicode_bytes.h"

#include <array>

#include "src/text/unicode.h"

namespace slm::text {

static bool stands_for_itself(unsigned b) noexcept {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

namespace {
struct ByteAlphabet {
  std::array<char32_t, 256> to_cp{};
  std::array<uint8_t, 68> from_shifted{};  // byte for U+0100 + k
  ByteAlphabet() {
    unsigned next = 0;
    for (unsigned b = 0; b < 256; ++b) {
      if (stands_for_itself(b)) {
        to_cp[b] = char32_t(b);
      } else {
        to_cp[b] = char32_t(0x100 + next);
        from_shifted[next++] = static_cast<uint8_t>(b);
      }
    }
  }
};
const ByteAlphabet& alphabet() {
  static const ByteAlphabet a;
  return a;
}
}  // namespace

char32_t byte_to_unicode(uint8_t byte) noexcept { return alphabet().to_cp[byte]; }

int unicode_to_byte(char32_t cp) noexcept {
  if (cp < 0x100) return stands_for_itself(cp) ? int(cp) : -1;
  if (cp < 0x100 + 68) return alphabet().from_shifted[cp - 0x100];
  return -1;
}

std::string byte_level_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) utf8_append(out, byte_to_unicode(static_cast<uint8_t>(c)));
  return out;
}

bool byte_level_decode(std::string_view text, std::string& out) {
  bool all_mapped = true;
  char32_t cp = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t n = utf8_decode(text, pos, cp);
    if (n == 0) {
      out.push_back(text[pos]);
      all_mapped = false;
      pos += 1;
      continue;
    }
    const int b = unicode_to_byte(cp);
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
    } else {
      out.append(text.substr(pos, n));
      all_mapped = false;
    }
    pos += n;
  }
  return all_mapped;
}

}  // namespace slm::text
