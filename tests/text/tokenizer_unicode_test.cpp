// UTF-8 helpers, GPT-2's byte alphabet and the regex pre-tokenizer.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "slm/error.h"
#include "src/text/pretokenize.h"
#include "src/text/unicode.h"
#include "src/text/unicode_bytes.h"
#include "src/text/unicode_normalize.h"

using namespace slm::text;

TEST_CASE("utf8_decode accepts well-formed sequences and rejects the rest") {
  char32_t cp = 0;
  CHECK(utf8_decode("A", 0, cp) == 1);
  CHECK(cp == U'A');
  CHECK(utf8_decode("\xC3\xA9", 0, cp) == 2);
  CHECK(cp == U'é');
  CHECK(utf8_decode("\xE2\x96\x81", 0, cp) == 3);
  CHECK(cp == 0x2581);
  CHECK(utf8_decode("\xF0\x9F\xA6\x99", 0, cp) == 4);
  CHECK(cp == 0x1F999);
  CHECK(utf8_decode("\xC0\x80", 0, cp) == 0);          // overlong NUL
  CHECK(utf8_decode("\xE0\x80\xAF", 0, cp) == 0);      // overlong '/'
  CHECK(utf8_decode("\xED\xA0\x80", 0, cp) == 0);      // surrogate U+D800
  CHECK(utf8_decode("\xF4\x90\x80\x80", 0, cp) == 0);  // past U+10FFFF
  CHECK(utf8_decode("\xE2\x96", 0, cp) == 0);          // cut off
  CHECK(utf8_decode("\x80", 0, cp) == 0);              // lone continuation byte
  CHECK(utf8_decode("abc", 3, cp) == 0);               // past the end
}

TEST_CASE("utf8_sanitize replaces each bad byte with U+FFFD and keeps good text") {
  CHECK(utf8_sanitize("plain") == "plain");
  CHECK(utf8_sanitize("a\xFF"
                      "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(utf8_sanitize("\xE2\x96") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(utf8_is_valid(utf8_sanitize("\xC0\x80\xED\xA0\x80 ok \xF0\x9F")));
}

TEST_CASE("utf8_incomplete_tail holds back only a valid unfinished sequence") {
  CHECK(utf8_incomplete_tail("") == 0);
  CHECK(utf8_incomplete_tail("abc") == 0);
  CHECK(utf8_incomplete_tail("a\xF0") == 1);
  CHECK(utf8_incomplete_tail("a\xF0\x9F") == 2);
  CHECK(utf8_incomplete_tail("a\xF0\x9F\xA6") == 3);
  CHECK(utf8_incomplete_tail("a\xF0\x9F\xA6\x99") == 0);  // complete emoji
  CHECK(utf8_incomplete_tail("\xE2\x96") == 2);
  CHECK(utf8_incomplete_tail("\xC3") == 1);
  CHECK(utf8_incomplete_tail("\xFF") == 0);      // can never start a character
  CHECK(utf8_incomplete_tail("\xE0\x80") == 0);  // overlong prefix: never completes
  CHECK(utf8_incomplete_tail("\x80\x80\x80") == 0);
}

TEST_CASE("GPT-2 byte alphabet is a bijection of 256 printable code points") {
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t cp = byte_to_unicode(static_cast<uint8_t>(b));
    CHECK(unicode_to_byte(cp) == b);
    seen.insert(cp);
  }
  CHECK(seen.size() == 256);
  CHECK(byte_to_unicode(' ') == 0x120);   // 'Ġ'
  CHECK(byte_to_unicode('\n') == 0x10A);  // 'Ċ'
  CHECK(byte_to_unicode('A') == U'A');
  CHECK(unicode_to_byte(0x2581) == -1);
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string back;
  CHECK(byte_level_decode(byte_level_encode(all), back));
  CHECK(back == all);
}

TEST_CASE("unicode_normalize composes and decomposes") {
  CHECK(unicode_normalize("e\xCC\x81", NormalForm::nfc) == "\xC3\xA9");
  CHECK(unicode_normalize("\xC3\xA9", NormalForm::nfd) == "e\xCC\x81");
  CHECK(unicode_normalize("\xEF\xAC\x81", NormalForm::nfkc) == "fi");  // U+FB01 ligature
  CHECK(unicode_normalize("\xEF\xAC\x81", NormalForm::nfc) == "\xEF\xAC\x81");
  CHECK(unicode_normalize("ascii only", NormalForm::nfc) == "ascii only");
}

namespace {
std::vector<std::string> split(const PreTokenizer& pre, std::string_view text) {
  std::vector<std::string_view> views;
  pre.split(text, views);
  return {views.begin(), views.end()};
}
}  // namespace

TEST_CASE("the gpt-2 pre-tokenizer splits words, numbers, punctuation and whitespace runs") {
  const PreTokenizer pre(pre_tokenizer_preset("gpt-2", "test").rules, "test");
  CHECK(split(pre, "Hello world's  end!!\n") ==
        std::vector<std::string>{"Hello", " world", "'s", " ", " end", "!!", "\n"});
  CHECK(split(pre, "  Hello") == std::vector<std::string>{" ", " Hello"});
  CHECK(split(pre, "abc123 4") == std::vector<std::string>{"abc", "123", " 4"});
  CHECK(split(pre, "").empty());
}

TEST_CASE("llama3 and qwen2 pre-tokenizers group digits differently") {
  const PreTokenizer llama3(pre_tokenizer_preset("llama-bpe", "test").rules, "test");
  const PreTokenizer qwen2(pre_tokenizer_preset("qwen2", "test").rules, "test");
  CHECK(split(llama3, "1234567") == std::vector<std::string>{"123", "456", "7"});
  CHECK(split(qwen2, "1234") == std::vector<std::string>{"1", "2", "3", "4"});
  CHECK(split(qwen2, "I'M here") == std::vector<std::string>{"I", "'M", " here"});
  CHECK(pre_tokenizer_preset("llama3", "test").ignore_merges);
  CHECK(pre_tokenizer_preset("llama3", "test").add_bos_default);
  CHECK_FALSE(pre_tokenizer_preset("qwen2", "test").add_bos_default);
}

TEST_CASE("pre-tokenizer keeps every byte, including ill-formed UTF-8") {
  const PreTokenizer pre(pre_tokenizer_preset("qwen2", "test").rules, "test");
  const std::string text = "ab\xFF\xFE cd \xE2\x96 \xF0\x9F\xA6\x99!";
  std::string joined;
  for (const auto& piece : split(pre, text)) {
    CHECK_FALSE(piece.empty());
    joined += piece;
  }
  CHECK(joined == text);
}

TEST_CASE("long whitespace runs do not exhaust the regex engine") {
  const PreTokenizer pre(pre_tokenizer_preset("llama3", "test").rules, "test");
  const std::string spaces(200000, ' ');
  const auto pieces = split(pre, spaces + "x");
  REQUIRE(!pieces.empty());
  size_t total = 0;
  for (const auto& p : pieces) total += p.size();
  CHECK(total == spaces.size() + 1);
}

TEST_CASE("unknown pre-tokenizers and bad regexes are reported") {
  try {
    pre_tokenizer_preset("no-such-pre", "f.gguf: key tokenizer.ggml.pre");
    FAIL("expected an error");
  } catch (const slm::Error& e) {
    CHECK(e.kind() == slm::ErrorKind::unsupported);
    CHECK(e.where() == "f.gguf: key tokenizer.ggml.pre");
    CHECK(std::string(e.what()).find("no-such-pre") != std::string::npos);
  }
  CHECK_THROWS_AS(PreTokenizer({{"(unclosed", false}}, "tokenizer.json"), slm::Error);
}
