// decode(encode(text)) == text on every vocabulary, and the streaming decoder.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "slm/error.h"
#include "src/text/stream_decoder.h"
#include "src/text/unicode.h"
#include "src/text/unicode_normalize.h"
#include "src/text/vocab.h"
#include "tests/text/tokenizer_test_util.h"

using slm::test::escape_text;

namespace {

const std::vector<std::string> kFixedTexts = {
    "",
    " ",
    "  ",
    "\n",
    "\t\n",
    "Hello world",
    " Hello world",
    "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～",
    "    Hello\n    Hello",
    "3333333",
    "нещо на Български",
    "🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅",
    "def fibonacci(n):\n    return",
    "  leading spaces\tand\ttabs\n\nnew lines",
    "trailing spaces   ",
    "Ünïcödé: 日本語のテキスト, emojis 🙂 and numbers 1234567890",
    "<|im_end|> <|endoftext|> <s> </s> <unk> <0x41>",
    "a\r\nb",
    "x\xC2\xA0y\xE3\x80\x80z",
    "'s 't 're 've 'm 'll 'd 'S 'LL"};

bool normalizes_nfc(const slm::Tokenizer& tok) {
  for (const auto& step : tok.vocab().normalizers)
    if (step.kind == slm::text::NormalizerStep::Kind::nfc) return true;
  return false;
}

}  // namespace

TEST_CASE("decode(encode(text)) gives the text back on every vocabulary") {
  for (const std::string& name : slm::test::all_test_vocabularies()) {
    const auto tok = slm::test::shared_tokenizer(name);
    if (!tok) continue;
    const bool nfc = normalizes_nfc(*tok);
    slm::test::TextGenerator gen(1234);
    std::vector<std::string> texts = kFixedTexts;
    for (int i = 0; i < 400; ++i) texts.push_back(gen.next());
    int checked = 0;
    for (const std::string& text : texts) {
      // A vocabulary that normalizes to NFC gives back the NFC form (the "é" of "e" + U+0301).
      const std::string expected =
          nfc ? slm::text::unicode_normalize(text, slm::text::NormalForm::nfc) : text;
      for (bool bos : {false, true}) {
        if (bos && tok->bos() < 0) continue;
        const auto ids = tok->encode(text, {.add_bos = bos});
        INFO(name, " text '", escape_text(text), "' bos=", bos, " ids ", slm::test::ids_text(ids));
        CHECK(tok->decode(ids) == expected);
        ++checked;
      }
    }
    MESSAGE(name << ": " << checked << " round trips");
  }
}

TEST_CASE("byte-preserving vocabularies round-trip ill-formed UTF-8 too") {
  // SentencePiece falls back to <0xXX> tokens and byte-level BPE can write any byte; a vocabulary
  // with an NFC normalizer cannot (Hugging Face repairs such input first). (A cut-off sequence
  // right before a space is the exception for SentencePiece: the space, written U+2581, joins the
  // cut-off bytes in one byte-fallback symbol and decodes as U+2581, in llama.cpp and HF alike.)
  const std::vector<std::string> texts = {"\xFF",
                                          "ab\xFE\xFF"
                                          "cd",
                                          "cut \xE2\x96", "\xC0\x80 overlong", "tail \xF0\x9F\xA6"};
  for (const char* name : {"tokenizer/ggml-vocab-llama-spm.gguf", "tokenizer/ggml-vocab-gpt-2.gguf",
                           "models/tiny-qwen3/tiny-qwen3-q8_0.gguf", "models/stories260K/stories260K-hf"}) {
    const auto tok = slm::test::shared_tokenizer(name);
    if (!tok) continue;
    for (const std::string& text : texts) {
      INFO(name, " text '", escape_text(text), "'");
      CHECK(tok->decode(tok->encode(text)) == text);
    }
  }
}

TEST_CASE("SentencePiece decoding drops only the space the encoder added") {
  const auto tok = slm::test::shared_tokenizer("tokenizer/ggml-vocab-llama-spm.gguf");
  if (!tok) return;
  const std::vector<int32_t> hello_world = {15043, 3186};  // "▁Hello", "▁world"
  CHECK(tok->decode(hello_world) == "Hello world");
  CHECK(tok->token_piece(15043) == " Hello");                               // pieces keep their space
  CHECK(tok->decode(std::vector<int32_t>{1, 15043}) == "Hello");            // BOS decodes to nothing
  CHECK(tok->decode(std::vector<int32_t>{1, 15043}, true) == "<s> Hello");  // shown, like HF
  CHECK(tok->token_piece(13) == "\n");                                      // <0x0A>
  CHECK(tok->token_text(13) == "<0x0A>");
  CHECK(tok->is_byte(13));
  CHECK_THROWS_AS(tok->decode(std::vector<int32_t>{32000}), slm::Error);
  CHECK_THROWS_AS(tok->token_piece(-1), slm::Error);
}

TEST_CASE("StreamDecoder emits whole characters and adds up to decode()") {
  for (const std::string& name : slm::test::all_test_vocabularies()) {
    const auto tok = slm::test::shared_tokenizer(name);
    if (!tok) continue;
    slm::test::TextGenerator gen(99);
    std::vector<std::string> texts = {
        "🦙🚀 日本語のテキスト 😶‍🌫️ 한국어 👨‍👩‍👧‍👦", " leading",
        "\xE2\x96\x81 sp"};
    for (int i = 0; i < 200; ++i) texts.push_back(gen.next());
    size_t held_back = 0;
    for (const std::string& text : texts) {
      const auto ids = tok->encode(text, {.add_bos = tok->bos() >= 0});
      for (bool show_special : {false, true}) {
        slm::StreamDecoder stream(*tok, {.show_special = show_special});
        std::string joined;
        for (int32_t id : ids) {
          const std::string piece = stream.push(id);
          INFO(name, " text '", escape_text(text), "' piece '", escape_text(piece), "'");
          CHECK(slm::text::utf8_is_valid(piece));
          held_back += stream.pending() > 0;
          joined += piece;
        }
        joined += stream.flush();
        INFO(name, " text '", escape_text(text), "'");
        CHECK(joined == tok->decode(ids, show_special));
      }
    }
    // Vocabularies that spell CJK and emoji with byte tokens must have exercised the hold-back.
    if (name.find("stories260K") != std::string::npos || name.find("gpt-2") != std::string::npos)
      CHECK(held_back > 0);
  }
}

TEST_CASE("StreamDecoder continuing a text keeps the first space; flush resets") {
  const auto tok = slm::test::shared_tokenizer("tokenizer/ggml-vocab-llama-spm.gguf");
  if (!tok) return;
  slm::StreamDecoder fresh(*tok);
  CHECK(fresh.push(15043) == "Hello");
  CHECK(fresh.push(3186) == " world");
  CHECK(fresh.flush().empty());
  CHECK(fresh.push(15043) == "Hello");  // a new text after flush()

  slm::StreamDecoder continuing(*tok, {.at_text_start = false});
  CHECK(continuing.push(15043) == " Hello");

  // "🦙" is four byte tokens in this vocabulary: nothing comes out until the last one.
  const auto ids = tok->encode("🦙");
  REQUIRE(ids.size() >= 4);
  slm::StreamDecoder llama(*tok);
  std::string out;
  for (size_t i = 0; i + 1 < ids.size(); ++i) out += llama.push(ids[i]);
  CHECK(out.find("\xF0") == std::string::npos);
  out += llama.push(ids.back());
  CHECK(out.find("🦙") != std::string::npos);
  CHECK(llama.pending() == 0);

  // A stream cut inside a character gives the partial bytes at flush(), as decode() does.
  slm::StreamDecoder cut(*tok);
  std::string partial;
  for (size_t i = 0; i + 1 < ids.size(); ++i) partial += cut.push(ids[i]);
  partial += cut.flush();
  CHECK(partial == tok->decode(std::span<const int32_t>(ids.data(), ids.size() - 1)));
}
