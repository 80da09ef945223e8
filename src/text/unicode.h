// UTF-8 helpers for the tokenizers: code point decoding with validation, encoding, repair of
// ill-formed input, and the unfinished tail of a byte stream (for the streaming detokenizer).
//
// "Well-formed" follows Unicode (Table 3-7): no overlong forms, no surrogates, nothing past
// U+10FFFF. Everything here takes untrusted bytes and never reads past the view it is given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace slm::text {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;

// Length of the sequence that a lead byte announces, as llama.cpp's tokenizers count it:
// 1 for ASCII and for bytes that cannot lead (continuation bytes, 0xF8..0xFF), else 2, 3 or 4.
// The caller clips it to the bytes that remain.
size_t utf8_lead_length(uint8_t lead) noexcept;

// Decodes the well-formed code point starting at s[pos]: returns its length in bytes (1..4) and
// stores it in `cp`, or returns 0 when the bytes there are ill-formed or cut off.
size_t utf8_decode(std::string_view s, size_t pos, char32_t& cp) noexcept;

// Appends the UTF-8 form of `cp` (a scalar value; anything else appends U+FFFD).
void utf8_append(std::string& out, char32_t cp);

bool utf8_is_valid(std::string_view s) noexcept;

// A well-formed copy of `s`: every byte that is not part of a well-formed sequence becomes U+FFFD
// (as llama.cpp does before regex pre-tokenization). Returns `s` unchanged when already valid.
std::string utf8_sanitize(std::string_view s);

// Number of bytes (0..3) at the end of `s` that start a well-formed sequence which has not
// finished yet: a streaming decoder holds these back until the next bytes arrive.
size_t utf8_incomplete_tail(std::string_view s) noexcept;

}  // namespace slm::text
