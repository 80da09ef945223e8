#include "src/text/jinja/lexer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>

#include "slm/error.h"
#include "src/text/jinja/unicode.h"

namespace slm::jinja {

namespace {

std::string normalize_newlines(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_tag_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class Lexer {
 public:
  Lexer(std::string_view source, const LexerOptions& options)
      : options_(options), src_(normalize_newlines(source, options.keep_trailing_newline)) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      const std::size_t tag = find_tag(pos_);
      if (tag == std::string::npos) {
        emit_text(pos_, src_.size());
        pos_ = src_.size();
        break;
      }
      const char kind = src_[tag + 1];
      std::size_t inner = tag + 2;
      char modifier = 0;
      if (inner < src_.size() && (src_[inner] == '-' || (src_[inner] == '+' && kind != '{'))) {
        modifier = src_[inner];
        ++inner;
      }
      std::string_view text(src_.data() + pos_, tag - pos_);
      text = strip_before_tag(text, modifier, /*is_variable=*/kind == '{');
      if (!text.empty()) emit_text(pos_, pos_ + text.size());

      if (kind == '#') {
        lex_comment(tag, inner);
      } else if (kind == '%' && try_raw_block(tag, inner)) {
        // handled
      } else if (kind == '{') {
        push(TokenKind::variable_begin, "{{", tag);
        pos_ = inner;
        lex_tag_body(tag, /*is_block=*/false);
      } else {
        push(TokenKind::block_begin, "{%", tag);
        pos_ = inner;
        lex_tag_body(tag, /*is_block=*/true);
      }
    }
    Token eof;
    eof.kind = TokenKind::end_of_input;
    locate(src_.size(), eof);
    tokens_.push_back(std::move(eof));
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void error_at(std::size_t offset, const std::string& what) const {
    Token t;
    locate(offset, t);
    throw Error(ErrorKind::template_syntax, fmt::format("template line {}, column {}", t.line, t.column), what);
  }

  void locate(std::size_t offset, Token& t) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const std::size_t line_index = static_cast<std::size_t>(it - line_starts_.begin()) - 1;
    t.line = static_cast<int>(line_index + 1);
    t.column = static_cast<int>(offset - line_starts_[line_index] + 1);
  }

  void push(TokenKind kind, std::string text, std::size_t offset) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    locate(offset, t);
    tokens_.push_back(std::move(t));
  }

  void emit_text(std::size_t begin, std::size_t end) {
    if (begin >= end) return;
    push(TokenKind::text, src_.substr(begin, end - begin), begin);
  }

  std::size_t find_tag(std::size_t from) const {
    for (std::size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  // Whitespace as Python's regex \s sees it; a stray invalid byte is never whitespace.
  static bool space_at(std::string_view s, std::size_t pos, std::size_t& len) {
    const char32_t cp = unicode::decode(s, pos, len);
    if (len == 1 && cp >= 0x80) return false;
    return unicode::is_space(cp);
  }

  // Python's str.rstrip(): trailing Unicode whitespace.
  static std::string_view rstrip_space(std::string_view s) {
    while (!s.empty()) {
      // The last code point starts at most 3 continuation bytes back.
      std::size_t start = s.size() - 1;
      while (start > 0 && s.size() - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      std::size_t len = 0;
      if (!space_at(s, start, len) || start + len != s.size()) break;
      s.remove_suffix(len);
    }
    return s;
  }

  void skip_space_after_tag() {
    while (pos_ < src_.size()) {
      std::size_t len = 0;
      if (!space_at(src_, pos_, len)) break;
      const char32_t cp = static_cast<unsigned char>(src_[pos_]);
      line_starting_ = (cp == '\n');
      pos_ += len;
    }
  }

  // What a tag does to the text before it: `-` strips all whitespace; lstrip_blocks strips the
  // spaces between the start of the line and a block or comment tag (not a {{ }} tag, not `+`).
  std::string_view strip_before_tag(std::string_view text, char modifier, bool is_variable) const {
    if (modifier == '-') return rstrip_space(text);
    if (modifier == '+' || is_variable || !options_.lstrip_blocks) return text;
    const std::size_t newline = text.rfind('\n');
    const std::size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
    if (line_start == 0 && !line_starting_) return text;
    const std::string_view tail = text.substr(line_start);
    if (tail.empty() || rstrip_space(tail).size() != 0) return text;
    return text.substr(0, line_start);
  }

  // After a block or comment tag: `-` strips all following whitespace, `+` keeps it, otherwise
  // trim_blocks drops one newline.
  void after_block_tag(char end_modifier) {
    line_starting_ = false;
    if (end_modifier == '-') {
      skip_space_after_tag();
    } else if (end_modifier != '+' && options_.trim_blocks && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
      line_starting_ = true;
    }
  }

  void lex_comment(std::size_t tag, std::size_t inner) {
    const std::size_t end = src_.find("#}", inner);
    if (end == std::string::npos) error_at(tag, "unclosed comment: missing '#}'");
    char end_modifier = 0;
    if (end > inner && (src_[end - 1] == '-' || src_[end - 1] == '+')) end_modifier = src_[end - 1];
    pos_ = end + 2;
    after_block_tag(end_modifier);
  }

  // Matches `{%[-+]? raw [-+]?%}` at tag: the body up to the matching endraw is literal text.
  bool try_raw_block(std::size_t tag, std::size_t inner) {
    std::size_t p = inner;
    while (p < src_.size() && is_tag_space(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    if (p < src_.size() && is_name_char(src_[p])) return false;
    while (p < src_.size() && is_tag_space(src_[p])) ++p;
    // `{% raw +%}` is no raw block to Jinja2 (the parser then rejects the tag 'raw').
    char begin_end_modifier = 0;
    if (p < src_.size() && src_[p] == '-') begin_end_modifier = src_[p++];
    if (src_.compare(p, 2, "%}") != 0) return false;
    pos_ = p + 2;
    line_starting_ = false;
    if (begin_end_modifier == '-') skip_space_after_tag();

    // Find `{%[-+]? endraw [-+]?%}`.
    for (std::size_t search = pos_;;) {
      const std::size_t open = src_.find("{%", search);
      if (open == std::string::npos) error_at(tag, "unclosed raw block: missing '{% endraw %}'");
      std::size_t q = open + 2;
      char modifier = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) modifier = src_[q++];
      while (q < src_.size() && is_tag_space(src_[q])) ++q;
      if (src_.compare(q, 6, "endraw") != 0 || (q + 6 < src_.size() && is_name_char(src_[q + 6]))) {
        search = open + 2;
        continue;
      }
      q += 6;
      while (q < src_.size() && is_tag_space(src_[q])) ++q;
      char end_modifier = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) end_modifier = src_[q++];
      if (src_.compare(q, 2, "%}") != 0) error_at(q, "expected '%}' after 'endraw'");
      std::string_view body(src_.data() + pos_, open - pos_);
      body = strip_before_tag(body, modifier, false);
      if (!body.empty()) emit_text(pos_, pos_ + body.size());
      pos_ = q + 2;
      after_block_tag(end_modifier);
      return true;
    }
  }

  // Tokens between {{ and }} or {% and %}. An end delimiter only counts where brackets balance,
  // so `{{ {'a': {'b': 1}} }}` lexes as a dict.
  void lex_tag_body(std::size_t tag, bool is_block) {
    std::vector<char> open_brackets;
    for (;;) {
      while (pos_ < src_.size() && is_tag_space(src_[pos_])) ++pos_;
      if (pos_ >= src_.size())
        error_at(tag, is_block ? "unclosed block tag: missing '%}'" : "unclosed variable tag: missing '}}'");
      if (open_brackets.empty() && try_tag_end(is_block)) return;
      const char c = src_[pos_];
      if (is_name_start(c)) {
        const std::size_t start = pos_;
        while (pos_ < src_.size() && is_name_char(src_[pos_])) ++pos_;
        push(TokenKind::name, src_.substr(start, pos_ - start), start);
      } else if (is_digit(c)) {
        lex_number();
      } else if (c == '\'' || c == '"') {
        lex_string();
      } else {
        lex_operator(open_brackets);
      }
    }
  }

  bool try_tag_end(bool is_block) {
    const std::string_view rest(src_.data() + pos_, src_.size() - pos_);
    if (is_block) {
      char modifier = 0;
      std::size_t len = 2;
      if (rest.starts_with("-%}") || rest.starts_with("+%}")) {
        modifier = rest[0];
        len = 3;
      } else if (!rest.starts_with("%}")) {
        return false;
      }
      push(TokenKind::block_end, "%}", pos_);
      pos_ += len;
      after_block_tag(modifier);
      return true;
    }
    if (rest.starts_with("-}}")) {
      push(TokenKind::variable_end, "}}", pos_);
      pos_ += 3;
      line_starting_ = false;
      skip_space_after_tag();
      return true;
    }
    if (rest.starts_with("}}")) {
      push(TokenKind::variable_end, "}}", pos_);
      pos_ += 2;
      line_starting_ = false;
      return true;
    }
    return false;
  }

  void lex_number() {
    const std::size_t start = pos_;
    std::string digits;
    auto read_digits = [&](auto accept) {
      // Digits with single underscores between them (1_000).
      while (pos_ < src_.size()) {
        if (accept(src_[pos_])) {
          digits += src_[pos_++];
        } else if (src_[pos_] == '_' && pos_ + 1 < src_.size() && accept(src_[pos_ + 1]) && !digits.empty()) {
          ++pos_;
        } else {
          break;
        }
      }
    };
    auto is_dec = [](char ch) { return is_digit(ch); };
    if (src_[pos_] == '0' && pos_ + 1 < src_.size() && std::string_view("xXoObB").find(src_[pos_ + 1]) != std::string_view::npos) {
      const char prefix = static_cast<char>(src_[pos_ + 1] | 0x20);
      const int base = prefix == 'x' ? 16 : prefix == 'o' ? 8 : 2;
      pos_ += 2;
      if (pos_ < src_.size() && src_[pos_] == '_') ++pos_;
      read_digits([base](char ch) {
        if (base == 16) return is_digit(ch) || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f');
        return ch >= '0' && ch < '0' + base;
      });
      if (digits.empty()) error_at(start, "invalid integer literal");
      push_integer(digits, base, start);
      return;
    }
    read_digits(is_dec);
    // After a '.', digits are an index (`x.0.1` is x[0][1]), never a fraction, as in Jinja2.
    const bool after_dot = start > 0 && src_[start - 1] == '.';
    bool is_float = false;
    if (!after_dot && pos_ + 1 < src_.size() && src_[pos_] == '.' && is_digit(src_[pos_ + 1])) {
      is_float = true;
      digits += src_[pos_++];
      read_digits(is_dec);
    }
    if (!after_dot && pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      std::size_t p = pos_ + 1;
      if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
      if (p < src_.size() && is_digit(src_[p])) {
        is_float = true;
        digits += 'e';
        if (src_[pos_ + 1] == '-' || src_[pos_ + 1] == '+') digits += src_[pos_ + 1];
        pos_ = p;
        read_digits(is_dec);
      }
    }
    if (!is_float) {
      push_integer(digits, 10, start);
      return;
    }
    Token t;
    t.kind = TokenKind::floating;
    t.text = src_.substr(start, pos_ - start);
    t.floating = std::strtod(digits.c_str(), nullptr);
    locate(start, t);
    tokens_.push_back(std::move(t));
  }

  void push_integer(const std::string& digits, int base, std::size_t start) {
    std::int64_t value = 0;
    for (char ch : digits) {
      const int d = is_digit(ch) ? ch - '0' : (ch | 0x20) - 'a' + 10;
      if (value > (INT64_MAX - d) / base) error_at(start, "integer literal too large (more than 64 bits)");
      value = value * base + d;
    }
    Token t;
    t.kind = TokenKind::integer;
    t.text = src_.substr(start, pos_ - start);
    t.integer = value;
    locate(start, t);
    tokens_.push_back(std::move(t));
  }

  int hex_value(std::size_t at, int count) const {
    int value = 0;
    for (int i = 0; i < count; ++i) {
      if (at + i >= src_.size()) return -1;
      const char ch = src_[at + i];
      int d;
      if (is_digit(ch)) d = ch - '0';
      else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f') d = (ch | 0x20) - 'a' + 10;
      else return -1;
      value = value * 16 + d;
    }
    return value;
  }

  // Python string literal escapes (Jinja decodes literals with unicode-escape).
  void lex_string() {
    const std::size_t start = pos_;
    const char quote = src_[pos_++];
    std::string value;
    for (;;) {
      if (pos_ >= src_.size()) error_at(start, "unterminated string literal");
      const char c = src_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (c != '\\') {
        value += c;
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= src_.size()) error_at(start, "unterminated string literal");
      const char e = src_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case '\n': break;  // line continuation
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case 'a': value += '\a'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'n': value += '\n'; break;
        case 'r': value += '\r'; break;
        case 't': value += '\t'; break;
        case 'v': value += '\v'; break;
        case 'x':
        case 'u':
        case 'U': {
          const int count = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          std::uint32_t cp = 0;
          for (int i = 0; i < count; i += 4) {
            const int part = hex_value(pos_ + i, std::min(4, count - i));
            if (part < 0) error_at(pos_ - 2, fmt::format("invalid \\{} escape in string literal", e));
            cp = (cp << (4 * std::min(4, count - i))) | static_cast<std::uint32_t>(part);
          }
          if (cp > 0x10FFFF) error_at(pos_ - 2, "escape beyond U+10FFFF in string literal");
          pos_ += static_cast<std::size_t>(count);
          unicode::append_utf8(value, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            std::uint32_t cp = static_cast<std::uint32_t>(e - '0');
            for (int i = 0; i < 2 && pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7'; ++i)
              cp = cp * 8 + static_cast<std::uint32_t>(src_[pos_++] - '0');
            unicode::append_utf8(value, cp);
          } else {
            value += '\\';  // unknown escapes stay as written, as in Python
            value += e;
          }
      }
    }
    Token t;
    t.kind = TokenKind::string;
    t.text = std::move(value);
    locate(start, t);
    tokens_.push_back(std::move(t));
  }

  void lex_operator(std::vector<char>& open_brackets) {
    static constexpr std::string_view kTwoChar[] = {"//", "**", "==", "!=", "<=", ">="};
    const std::string_view rest(src_.data() + pos_, src_.size() - pos_);
    for (std::string_view op : kTwoChar) {
      if (rest.starts_with(op)) {
        push(TokenKind::op, std::string(op), pos_);
        pos_ += 2;
        return;
      }
    }
    const char c = src_[pos_];
    static constexpr std::string_view kSingle = "+-*/%~=.,:|()[]{}<>;";
    if (kSingle.find(c) == std::string_view::npos) {
      std::size_t len = 0;
      const char32_t cp = unicode::decode(src_, pos_, len);
      std::string shown;
      unicode::append_utf8(shown, cp);
      error_at(pos_, fmt::format("unexpected character '{}'", shown));
    }
    if (c == '(' || c == '[' || c == '{') {
      open_brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (open_brackets.empty()) error_at(pos_, fmt::format("unexpected '{}'", c));
      if (open_brackets.back() != c)
        error_at(pos_, fmt::format("unexpected '{}', expected '{}'", c, open_brackets.back()));
      open_brackets.pop_back();
    }
    push(TokenKind::op, std::string(1, c), pos_);
    ++pos_;
  }

  LexerOptions options_;
  std::string src_;
  std::vector<std::size_t> line_starts_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  bool line_starting_ = true;  // the previous tag's end left us at the start of a line
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const LexerOptions& options) {
  return Lexer(source, options).run();
}

}  // namespace slm::jinja
