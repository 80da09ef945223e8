// Template source -> tokens, with Jinja2's whitespace rules as Hugging Face configures them:
// trim_blocks (the newline after a block or comment tag is dropped), lstrip_blocks (spaces and
// tabs before a block or comment tag on its own line are dropped), `-` on a tag strips all
// whitespace on that side, `+` keeps it, one trailing newline of the source is dropped
// (keep_trailing_newline=False), and \r\n / \r become \n. Raw blocks come out as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slm::jinja {

enum class TokenKind {
  text,            // literal output between tags
  variable_begin,  // {{
  variable_end,    // }}
  block_begin,     // {%
  block_end,       // %}
  name,            // identifier or keyword
  string,          // string literal, escapes already decoded
  integer,
  floating,
  op,              // operator or punctuation: + - * / // % ** ~ == != < <= > >= = . , : | ( ) [ ] { } ;
  end_of_input,
};

struct Token {
  TokenKind kind = TokenKind::end_of_input;
  std::string text;          // text, name, decoded string, operator spelling
  std::int64_t integer = 0;  // kind == integer
  double floating = 0.0;     // kind == floating
  int line = 1;              // 1-based, in the normalized source
  int column = 1;            // 1-based byte column
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws slm::Error(template_syntax, "template line N, column M", what) for an unclosed tag,
// comment, raw block or string, a bad escape, an unbalanced bracket or an unknown character.
std::vector<Token> tokenize(std::string_view source, const LexerOptions& options = {});

}  // namespace slm::jinja
