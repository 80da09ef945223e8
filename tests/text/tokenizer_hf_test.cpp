// Tokenizers from Hugging Face folders written by the test: the tokenizer.json features slm reads
// (Metaspace, byte fallback, added tokens, post-processor, tokenizer_config / generation_config)
// and the errors for what it does not.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "slm/error.h"
#include "src/text/tokenizer.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;

namespace {

using slm::test::TempDir;

// A Llama-2-style tokenizer.json (Metaspace, byte fallback) with a tiny vocabulary.
std::string metaspace_json(const std::string& model_extra = "",
                           const std::string& merges = R"([["▁", "a"], ["a", "b"]])",
                           const std::string& normalizer = "null") {
  std::string vocab = R"("<unk>": 0, "<s>": 1, "</s>": 2, "▁": 3, "a": 4, "b": 5, "▁a": 6, "ab": 7)";
  for (int b = 0; b < 256; ++b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ", \"<0x%02X>\": %d", b, 8 + b);
    vocab += buf;
  }
  return R"({
  "version": "1.0",
  "added_tokens": [
    {"id": 0, "content": "<unk>", "special": true, "lstrip": false, "rstrip": false, "normalized": false, "single_word": false},
    {"id": 1, "content": "<s>", "special": true, "lstrip": false, "rstrip": false, "normalized": false, "single_word": false},
    {"id": 2, "content": "</s>", "special": true, "lstrip": false, "rstrip": false, "normalized": false, "single_word": false},
    {"id": 264, "content": "<tool>", "special": false, "lstrip": false, "rstrip": true, "normalized": false, "single_word": false}
  ],
  "normalizer": )" +
         normalizer + R"(,
  "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false},
  "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                     "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
  "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false},
  "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null,
            "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true, "ignore_merges": false)" +
         model_extra + R"(,
            "vocab": {)" +
         vocab + R"(},
            "merges": )" +
         merges + R"(}
})";
}

void expect_error(const fs::path& dir, slm::ErrorKind kind, const std::string& where_suffix,
                  const std::string& part) {
  try {
    slm::Tokenizer::from_hf(dir);
    FAIL("expected an error at " << where_suffix);
  } catch (const slm::Error& e) {
    INFO("what: ", e.what());
    CHECK(e.kind() == kind);
    CHECK(e.where().ends_with(where_suffix));
    CHECK(std::string(e.what()).find(part) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("a Metaspace tokenizer.json with byte fallback") {
  TempDir t;
  t.write("tokenizer.json", metaspace_json());
  const auto tok = slm::Tokenizer::from_hf(t.path);
  CHECK(tok.n_vocab() == 265);
  CHECK(tok.add_bos());  // from the TemplateProcessing post-processor
  CHECK(tok.bos() == 1);
  // "▁a▁ab": ("▁","a") has rank 0, so "▁a" forms twice before ("a","b") could; "b" stays alone.
  CHECK(tok.encode("a ab") == std::vector<int32_t>{6, 6, 5});
  // 'c' is not in the vocabulary: its byte token. Text after a special token gets no "▁" (first).
  CHECK(tok.encode("<s>c", {.parse_special = true}) == std::vector<int32_t>{1, 8 + 'c'});
  CHECK(tok.encode("c", {.add_bos = true}) == std::vector<int32_t>{1, 3, 8 + 'c'});
  CHECK(tok.decode(tok.encode("a ab cab", {.add_bos = true})) == "a ab cab");
  // A user-defined added token is matched even in user text, and eats the spaces after it.
  CHECK(tok.encode("a<tool>  b") == std::vector<int32_t>{6, 264, 5});
  CHECK(tok.is_user_defined(264));
  CHECK(tok.is_control(1));
  CHECK(tok.unk() == 0);
  CHECK(tok.is_eog(2));
}

TEST_CASE("tokenizer_config.json and generation_config.json override the special tokens") {
  TempDir t;
  t.write("tokenizer.json", metaspace_json());
  t.write("tokenizer_config.json", R"({"add_bos_token": false, "add_eos_token": true,
      "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": null})");
  t.write("generation_config.json", R"({"bos_token_id": 1, "eos_token_id": [2, 7]})");
  const auto tok = slm::Tokenizer::from_hf(t.path);
  CHECK_FALSE(tok.add_bos());
  CHECK(tok.add_eos());
  CHECK(tok.eos() == 2);
  CHECK(tok.is_eog(7));
  CHECK(tok.pad() == -1);
}

TEST_CASE("unsupported or broken tokenizer.json files are reported with their field") {
  using K = slm::ErrorKind;
  {
    TempDir t;
    expect_error(t.path, K::io, "tokenizer.json", "not found");
  }
  {
    TempDir t;
    std::string json = metaspace_json();
    json.replace(json.find("\"type\": \"BPE\""), 13, "\"type\": \"Unigram\"");
    t.write("tokenizer.json", json);
    expect_error(t.path, K::unsupported, "tokenizer.json: field model.type", "'Unigram'");
  }
  {
    TempDir t;
    t.write("tokenizer.json", metaspace_json("", R"([["▁", "a"], ["a", "zz"]])"));
    expect_error(t.path, K::tokenizer, "tokenizer.json: field model.merges[1]", "not in the vocabulary");
  }
  {
    TempDir t;
    t.write("tokenizer.json", metaspace_json("", R"(["▁ a", "a b c"])"));
    expect_error(t.path, K::tokenizer, "tokenizer.json: field model.merges[1]", "one space");
  }
  {
    TempDir t;
    t.write("tokenizer.json",
            metaspace_json("", R"([])", R"({"type": "Sequence", "normalizers": [{"type": "Lowercase"}]})"));
    expect_error(t.path, K::unsupported, "tokenizer.json: field normalizer.normalizers[0].type",
                 "'Lowercase'");
  }
  {
    TempDir t;
    t.write("tokenizer.json", metaspace_json(R"(, "dropout": 0.1)"));
    expect_error(t.path, K::format, "tokenizer.json: field model.dropout", "");  // a repeated key
  }
  {
    TempDir t;
    std::string json = metaspace_json();
    json.replace(json.find("\"<s>\": 1"), 8, "\"<s>\": -4");
    t.write("tokenizer.json", json);
    expect_error(t.path, K::tokenizer, "tokenizer.json: field model.vocab.<s>", "out of range");
  }
  {
    TempDir t;
    t.write("tokenizer.json", metaspace_json());
    t.write("tokenizer_config.json", R"({"bos_token": "<nope>"})");
    expect_error(t.path, K::tokenizer, "tokenizer_config.json: field bos_token", "'<nope>'");
  }
  {
    TempDir t;
    t.write("tokenizer.json", "{\"model\": [1, 2");
    expect_error(t.path, K::format, "tokenizer.json: offset 15", "");
  }
}
