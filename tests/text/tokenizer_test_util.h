// Helpers shared by the tokenizer tests: loading the vocabularies of ../shared once, and printing
// texts and ids readably in failure messages.
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "src/text/tokenizer.h"
#include "tests/support/printable.h"
#include "tests/support/shared_data.h"

namespace slm::test {

// A tokenizer for a file or folder under ../shared ("tokenizer/ggml-vocab-gpt-2.gguf",
// "models/tiny-qwen3/tiny-qwen3-hf"), loaded once per test run; nullopt (with a skip message) when
// ../shared lacks it.
inline std::optional<Tokenizer> shared_tokenizer(const std::string& rel) {
  static std::map<std::string, Tokenizer> cache;
  if (auto it = cache.find(rel); it != cache.end()) return it->second;
  auto path = SLM_REQUIRE_SHARED(rel);
  if (!path) return std::nullopt;
  Tokenizer tok = std::filesystem::is_directory(*path) ? Tokenizer::from_hf(*path)
                                                       : Tokenizer::from_gguf(gguf::GgufFile::open(*path));
  cache.emplace(rel, tok);
  return tok;
}

// The vocabularies every round-trip style test runs over: the three llama.cpp test vocabularies,
// stories260K (a 512-token SentencePiece), and both Hugging Face flavours.
inline const std::vector<std::string>& all_test_vocabularies() {
  static const std::vector<std::string> v = {
      "tokenizer/ggml-vocab-llama-spm.gguf",    "tokenizer/ggml-vocab-phi-3.gguf",
      "tokenizer/ggml-vocab-gpt-2.gguf",        "models/stories260K/stories260K-f32.gguf",
      "models/tiny-qwen3/tiny-qwen3-q8_0.gguf", "models/stories260K/stories260K-hf",
      "models/tiny-qwen3/tiny-qwen3-hf"};
  return v;
}

// Control bytes as escapes (tests/support/printable.h).
inline std::string escape_text(const std::string& s) { return escaped(s); }

inline std::string ids_text(const std::vector<int32_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + std::to_string(ids[i]);
  return out + "]";
}

}  // namespace slm::test

#include <random>

namespace slm::test {

// Seeded random texts mixing words, whitespace runs, digits, punctuation, emoji, CJK, combining
// marks and other scripts (all well-formed UTF-8).
class TextGenerator {
 public:
  explicit TextGenerator(uint32_t seed) : rng_(seed) {}

  std::string next() {
    static const std::vector<std::string> words = {
        "the",   "The",   "cat",    "Lily",      "park",       "HELLO",  "world",
        "don't", "it's",  "we'll",  "they're",   "I've",       "O'Neil", "naïve",
        "café",  "Äpfel", "straße", "привет",    "Ελληνικά",   "مرحبا",  "שלום",
        "สวัสดี",  "नमस्ते",  "កាន់តែ",  "camelCase", "snake_case", "x",      "ABC"};
    static const std::vector<std::string> spaces = {
        " ",    " ",    "  ",       "   ",          "\t",         "\n",    "\n\n",
        "\r\n", " \n ", "\xC2\xA0", "\xE3\x80\x80", "          ", "\n\n\n"};
    static const std::vector<std::string> punct = {
        ".", ",", ";", ":", "!", "?", "(", ")", "[", "]", "{", "}", "\"",  "'", "-", "_", "/", "\\", "@",
        "#", "$", "%", "&", "*", "+", "=", "<", ">", "|", "~", "`", "...", "—", "«", "»", "¿", "!!!"};
    static const std::vector<std::string> emoji = {
        "🦙", "🚀", "😀", "😶‍🌫️", "👍🏽", "👨‍👩‍👧‍👦", "✅", "❤️", "🇫🇷"};
    static const std::vector<std::string> cjk = {"日本語", "のテキスト", "中文字符", "我想在apple工作",
                                                 "한국어", "カタカナ",   "天～",     "𠀀"};
    static const std::vector<std::string> marks = {
        "e\xCC\x81",   "a\xCC\x88", "n\xCC\x83", "o\xCC\x82\xCC\xA3", "\xE0\xA4\x95\xE0\xA5\x8D\xE0\xA4\xB7",
        "\xEF\xAC\x81"};
    std::uniform_int_distribution<int> parts_dist(1, 12);
    const int parts = parts_dist(rng_);
    std::string text;
    for (int i = 0; i < parts; ++i) {
      const double k = unit();
      if (k < 0.30)
        text += pick(words);
      else if (k < 0.42)
        text += pick(spaces);
      else if (k < 0.54)
        text += number();
      else if (k < 0.68)
        text += pick(punct);
      else if (k < 0.76)
        text += pick(emoji);
      else if (k < 0.86)
        text += pick(cjk);
      else
        text += pick(marks);
      const double sep = unit();
      if (sep < 0.55)
        text += ' ';
      else if (sep < 0.65)
        text += pick(spaces);
    }
    if (unit() < 0.2) text.insert(0, " ");
    return text;
  }

 private:
  double unit() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }
  const std::string& pick(const std::vector<std::string>& list) {
    return list[std::uniform_int_distribution<size_t>(0, list.size() - 1)(rng_)];
  }
  std::string number() {
    std::string s;
    const int n = std::uniform_int_distribution<int>(1, 12)(rng_);
    for (int i = 0; i < n; ++i)
      s.push_back(static_cast<char>('0' + std::uniform_int_distribution<int>(0, 9)(rng_)));
    return s;
  }
  std::mt19937 rng_;
};

}  // namespace slm::test
