// GPT-2's byte-level alphabet: every byte 0..255 stands for one printable code point, so that
// byte-level BPE vocabularies can be stored as text. Printable Latin-1 bytes ('!'..'~', '¡'..'¬',
// '®'..'ÿ') stand for themselves; the other 68 bytes map, in order, to U+0100..U+0143.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace slm::text {

char32_t byte_to_unicode(uint8_t byte) noexcept;

// The byte a code point of the alphabet stands for, or -1 when it is not in the alphabet.
int unicode_to_byte(char32_t cp) noexcept;

// Maps each byte of `bytes` to its code point, as UTF-8 text (what the vocabulary stores).
std::string byte_level_encode(std::string_view bytes);

// Inverse of byte_level_encode. Code points outside the alphabet (and ill-formed UTF-8) are kept
// as they are, so no text is lost; returns false when that happened.
bool byte_level_decode(std::string_view text, std::string& out);

}  // namespace slm::text
