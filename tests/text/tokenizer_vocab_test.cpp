// Vocabularies built in memory (GGUF metadata written by GgufWriter): the SentencePiece and BPE
// merge orders, and the validation of every tokenizer.ggml.* key.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "slm/error.h"
#include "src/text/tokenizer.h"
#include "src/text/unicode_bytes.h"

using slm::gguf::GgufFile;
using slm::gguf::GgufWriter;

namespace {

// A small SentencePiece vocabulary: <unk> <s> </s>, the 256 byte tokens, then `pieces` with their
// scores.
GgufWriter spm_writer(const std::vector<std::pair<std::string, float>>& pieces,
                      bool add_space_prefix = false) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0, 0, 0};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.push_back(buf);
    scores.push_back(0);
    types.push_back(6);
  }
  for (const auto& [text, score] : pieces) {
    tokens.push_back(text);
    scores.push_back(score);
    types.push_back(1);
  }
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_array_string("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
  w.set_array_f32("tokenizer.ggml.scores", scores);
  w.set_array_i32("tokenizer.ggml.token_type", types);
  w.set_bool("tokenizer.ggml.add_space_prefix", add_space_prefix);
  return w;
}

// A small byte-level BPE vocabulary: the 256 characters of GPT-2's alphabet, `extra` tokens, the
// merges given, and <|endoftext|>.
GgufWriter bpe_writer(const std::vector<std::string>& extra, const std::vector<std::string>& merges,
                      const char* pre = "gpt-2") {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b)
    tokens.push_back(slm::text::byte_level_encode(std::string(1, static_cast<char>(b))));
  tokens.insert(tokens.end(), extra.begin(), extra.end());
  tokens.push_back("<|endoftext|>");
  std::vector<int32_t> types(tokens.size(), 1);
  types.back() = 3;
  GgufWriter w;
  w.set_string("general.architecture", "gpt2");
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", pre);
  w.set_array_string("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
  w.set_array_i32("tokenizer.ggml.token_type", types);
  w.set_array_string("tokenizer.ggml.merges", std::span<const std::string>(merges));
  w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tokens.size() - 1));
  return w;
}

slm::Tokenizer load(const GgufWriter& w, std::vector<uint8_t>& storage) {
  storage = w.write_memory();
  return slm::Tokenizer::from_gguf(GgufFile::from_memory(storage, "test.gguf"));
}

// Loading must fail with this kind, at `where`, with `detail_part` in the message.
void expect_error(const GgufWriter& w, slm::ErrorKind kind, const std::string& where,
                  const std::string& detail_part) {
  std::vector<uint8_t> storage;
  try {
    load(w, storage);
    FAIL("expected an error at " << where);
  } catch (const slm::Error& e) {
    INFO("what: ", e.what());
    CHECK(e.kind() == kind);
    CHECK(e.where() == where);
    CHECK(std::string(e.what()).find(detail_part) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("SentencePiece merges the best-scoring pair first") {
  std::vector<uint8_t> storage;
  {
    auto tok = load(spm_writer({{"a", -5}, {"b", -5}, {"c", -5}, {"ab", -2}, {"bc", -1}}), storage);
    const auto ids = tok.encode("abc");
    REQUIRE(ids.size() == 2);
    CHECK(tok.token_text(ids[0]) == "a");
    CHECK(tok.token_text(ids[1]) == "bc");
  }
  {
    auto tok = load(spm_writer({{"a", -5}, {"b", -5}, {"c", -5}, {"ab", -1}, {"bc", -2}}), storage);
    const auto ids = tok.encode("abc");
    REQUIRE(ids.size() == 2);
    CHECK(tok.token_text(ids[0]) == "ab");
    CHECK(tok.token_text(ids[1]) == "c");
  }
  {
    // Equal scores: the leftmost pair wins; characters without a token fall back to bytes.
    auto tok = load(spm_writer({{"a", -5}, {"aa", -1}}), storage);
    const auto ids = tok.encode("aaaz");
    REQUIRE(ids.size() == 3);
    CHECK(tok.token_text(ids[0]) == "aa");
    CHECK(tok.token_text(ids[1]) == "a");
    CHECK(tok.token_text(ids[2]) == "<0x7A>");
    CHECK(tok.decode(ids) == "aaaz");
  }
  {
    // The space prefix and U+2581.
    auto tok = load(spm_writer({{"\xE2\x96\x81", -3},
                                {"a", -5},
                                {"\xE2\x96\x81"
                                 "a",
                                 -1}},
                               true),
                    storage);
    const auto ids = tok.encode("a a");
    REQUIRE(ids.size() == 2);
    CHECK(ids[0] == ids[1]);
    CHECK(tok.token_text(ids[0]) ==
          "\xE2\x96\x81"
          "a");
    CHECK(tok.decode(ids) == "a a");
  }
}

TEST_CASE("byte-level BPE merges the lowest rank first, leftmost on ties") {
  std::vector<uint8_t> storage;
  {
    auto tok = load(bpe_writer({"ab", "bc"}, {"b c", "a b"}), storage);
    const auto ids = tok.encode("abc");
    REQUIRE(ids.size() == 2);
    CHECK(tok.token_text(ids[0]) == "a");
    CHECK(tok.token_text(ids[1]) == "bc");
  }
  {
    auto tok = load(bpe_writer({"ab", "bc"}, {"a b", "b c"}), storage);
    const auto ids = tok.encode("abc");
    REQUIRE(ids.size() == 2);
    CHECK(tok.token_text(ids[0]) == "ab");
  }
  {
    auto tok = load(bpe_writer({"aa",
                                "\xC4\xA0"
                                "a"},
                               {"a a", "\xC4\xA0 a"}),
                    storage);  // "Ġ a"
    const auto ids = tok.encode("aaa a");
    REQUIRE(ids.size() == 3);
    CHECK(tok.token_text(ids[0]) == "aa");
    CHECK(tok.token_text(ids[1]) == "a");
    CHECK(tok.token_text(ids[2]) ==
          "\xC4\xA0"
          "a");
    CHECK(tok.decode(ids) == "aaa a");
    // Every byte has a token, so any input round-trips.
    const std::string bytes = "\x01\xFF\n\t\x7F";
    CHECK(tok.decode(tok.encode(bytes)) == bytes);
  }
}

TEST_CASE("longer special tokens win over shorter ones they contain") {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", "<|a|>", "<|a|><|b|>", "x"};
  std::vector<int32_t> types = {2, 3, 3, 3, 3, 1};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.push_back(buf);
    types.push_back(6);
  }
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_array_string("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
  w.set_array_i32("tokenizer.ggml.token_type", types);
  w.set_bool("tokenizer.ggml.add_space_prefix", false);
  std::vector<uint8_t> storage;
  const auto tok = load(w, storage);
  CHECK(tok.encode("<|a|><|b|>x<|a|>", {.parse_special = true}) == std::vector<int32_t>{4, 5, 3});
  const auto plain = tok.encode("<|a|>", {.parse_special = false});
  CHECK(plain.size() == 5);  // five byte tokens
  CHECK(tok.decode(plain) == "<|a|>");
}

TEST_CASE("tokenizer.ggml.* keys are validated") {
  using K = slm::ErrorKind;
  const auto base = [] { return spm_writer({{"a", -1}}); };
  const std::string f = "test.gguf: key ";

  {
    GgufWriter w;
    w.set_string("general.architecture", "llama");
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.model", "missing");
  }
  {
    auto w = base();
    w.set_string("tokenizer.ggml.model", "bert");
    expect_error(w, K::unsupported, f + "tokenizer.ggml.model", "'bert'");
  }
  {
    auto w = base();
    w.set_u32("tokenizer.ggml.model", 3);
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.model", "not a string");
  }
  {
    auto w = base();
    w.set_array_f32("tokenizer.ggml.scores", std::vector<float>{0, 1});
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.scores", "2 entries for 260 tokens");
  }
  {
    auto w = base();
    std::vector<std::string> strings(260, "s");
    w.set_array_string("tokenizer.ggml.scores", std::span<const std::string>(strings));
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.scores", "not float32 or int32");
  }
  {
    auto w = base();
    w.set_array_i32("tokenizer.ggml.token_type", std::vector<int32_t>(260, 9));
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.token_type", "type 9");
  }
  {
    auto w = base();
    w.set_array_i32("tokenizer.ggml.token_type", std::vector<int32_t>(3, 1));
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.token_type", "3 entries");
  }
  {
    auto w = base();
    w.set_u32("tokenizer.ggml.bos_token_id", 260);
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.bos_token_id", "outside the vocabulary of 260 tokens");
  }
  {
    auto w = base();
    w.set_i32("tokenizer.ggml.eos_token_id", -1);
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.eos_token_id", "outside the vocabulary");
  }
  {
    auto w = base();
    w.set_string("tokenizer.ggml.padding_token_id", "0");
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.padding_token_id", "not an integer");
  }
  {
    auto w = base();
    w.set_array_string("tokenizer.ggml.tokens", std::vector<std::string>{});
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.tokens", "empty");
  }
  {
    auto w = base();
    w.set_array_f32("tokenizer.ggml.tokens", std::vector<float>(260, 0.0f));
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.tokens", "not an array of strings");
  }
  {
    auto w = spm_writer({{"a", -1}, {"a", -2}});
    std::vector<uint8_t> storage;
    try {
      load(w, storage);
      FAIL("expected an error");
    } catch (const slm::Error& e) {
      CHECK(e.kind() == K::tokenizer);
      CHECK(std::string(e.what()).find("repeats the text of token") != std::string::npos);
    }
  }
  {
    auto w = bpe_writer({"ab"}, {"a b"});
    w.set_string("tokenizer.ggml.pre", "no-such-pre");
    expect_error(w, K::unsupported, f + "tokenizer.ggml.pre", "'no-such-pre'");
  }
  {
    auto w = bpe_writer({"ab"}, {"ab"});
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.merges[0]", "not two tokens");
  }
  {
    auto w = bpe_writer({"ab"}, {"a b", "a zz"});
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.merges[1]", "not in the vocabulary");
  }
  {
    auto w = bpe_writer({"ab"}, {"a b"});
    w.set_bool("tokenizer.ggml.add_bos_token", true);
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.add_bos_token", "bos_token_id is not set");
  }
  {
    GgufWriter w;
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_array_string("tokenizer.ggml.tokens", std::vector<std::string>{"a", "b"});
    expect_error(w, K::tokenizer, f + "tokenizer.ggml.merges", "missing");
  }
}
