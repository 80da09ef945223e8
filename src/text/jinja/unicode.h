// UTF-8 helpers for the template interpreter: Python's str counts and slices code points, and
// its whitespace and case rules reach beyond ASCII. Invalid bytes are never rejected here: each
// one counts as a single code point and is carried through unchanged, so hostile input cannot
// make a string operation read past its end or lose bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slm::jinja::unicode {

// Decodes the code point at text[pos] and returns it; `length` receives its byte length (1..4).
// An invalid or truncated sequence decodes as the single byte's value with length 1.
char32_t decode(std::string_view text, std::size_t pos, std::size_t& length) noexcept;

void append_utf8(std::string& out, char32_t cp);

bool is_ascii(std::string_view text) noexcept;

// Number of code points (Python's len(str)).
std::size_t length(std::string_view text) noexcept;

// Byte offset of the code point at index `count` (text.size() when count >= length(text)).
std::size_t byte_offset(std::string_view text, std::size_t count) noexcept;

// Byte offset of each code point, plus text.size() at the end: [length(text) + 1].
std::vector<std::size_t> boundaries(std::string_view text);

// Python's str.isspace() per code point (Unicode White_Space, as str.split()/strip() use).
bool is_space(char32_t cp) noexcept;

// Python's str.splitlines() line breaks: \n \r \v \f \x1c \x1d \x1e \x85 U+2028 U+2029.
bool is_line_break(char32_t cp) noexcept;

// Simple (one code point to one code point) case mappings and Unicode categories, from utf8proc.
char32_t to_upper(char32_t cp) noexcept;
char32_t to_lower(char32_t cp) noexcept;
bool is_upper(char32_t cp) noexcept;  // Lu, Lt
bool is_lower(char32_t cp) noexcept;  // Ll
bool is_alpha(char32_t cp) noexcept;  // L*
bool is_digit(char32_t cp) noexcept;  // Nd
// Python's str.isprintable(): not a control, format, surrogate, private-use, unassigned or
// separator code point (the space excepted).
bool is_printable(char32_t cp) noexcept;

std::string upper(std::string_view text);
std::string lower(std::string_view text);

}  // namespace slm::jinja::unicode
