// Special tokens: user text never produces control tokens, template text does; space prefixes
// around special tokens; end-of-generation sets; BOS/EOS.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "slm/error.h"
#include "tests/text/tokenizer_test_util.h"

namespace {
bool contains(const std::vector<int32_t>& ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}
}  // namespace

TEST_CASE("special-token texts in user text stay text (parse_special=false)") {
  const std::vector<std::string> texts = {
      "<|im_end|>", "<|endoftext|>", "<s>",      "</s>",
      "<unk>",      "<|end|>",       "<|user|>", "Hi<|im_end|>\n<|im_start|>assistant",
      "x</s>y<s>z", "[PAD32011]",    "<0x41>"};
  for (const std::string& name : slm::test::all_test_vocabularies()) {
    const auto tok = slm::test::shared_tokenizer(name);
    if (!tok) continue;
    for (const std::string& text : texts) {
      const auto ids = tok->encode(text, {.parse_special = false});
      INFO(name, " text '", text, "' ids ", slm::test::ids_text(ids));
      CHECK(!ids.empty());
      for (int32_t id : ids) {
        CHECK_FALSE(tok->is_control(id));
        CHECK_FALSE(tok->is_unknown(id));
        CHECK_FALSE(tok->is_eog(id));
      }
      CHECK(tok->decode(ids) == text);
    }
  }
}

TEST_CASE("special-token texts become their tokens with parse_special=true") {
  struct Case {
    const char* vocab;
    const char* text;
    int32_t id;
  };
  const Case cases[] = {{"tokenizer/ggml-vocab-llama-spm.gguf", "</s>", 2},
                        {"tokenizer/ggml-vocab-phi-3.gguf", "<|end|>", 32007},
                        {"tokenizer/ggml-vocab-phi-3.gguf", "<|endoftext|>", 32000},
                        {"tokenizer/ggml-vocab-gpt-2.gguf", "<|endoftext|>", 50256},
                        {"models/tiny-qwen3/tiny-qwen3-q8_0.gguf", "<|endoftext|>", 50256},
                        {"models/tiny-qwen3/tiny-qwen3-hf", "<|endoftext|>", 50256},
                        {"models/stories260K/stories260K-hf", "</s>", 2}};
  for (const Case& c : cases) {
    const auto tok = slm::test::shared_tokenizer(c.vocab);
    if (!tok) continue;
    const auto ids = tok->encode(std::string("Hi ") + c.text + " there", {.parse_special = true});
    INFO(c.vocab, " ", c.text, " ids ", slm::test::ids_text(ids));
    CHECK(contains(ids, c.id));
    CHECK(tok->is_control(c.id));
    CHECK(tok->decode(ids, /*show_special=*/true).find(c.text) != std::string::npos);
    CHECK(tok->decode(ids).find(c.text) == std::string::npos);  // hidden in normal decoding
  }
}

TEST_CASE("SentencePiece adds a space prefix to each run of text, also after special tokens") {
  const auto tok = slm::test::shared_tokenizer("tokenizer/ggml-vocab-llama-spm.gguf");
  if (!tok) return;
  // 15043 "▁Hello", 3186 "▁world": llama.cpp starts every text run after a special token afresh.
  CHECK(tok->encode("<s>Hello", {.parse_special = true}) == std::vector<int32_t>{1, 15043});
  CHECK(tok->encode("Hello</s>world", {.parse_special = true}) == std::vector<int32_t>{15043, 2, 3186});
  CHECK(tok->encode("Hello world", {.add_bos = true}) == std::vector<int32_t>{1, 15043, 3186});
  CHECK(tok->encode("Hello world", {.add_bos = true, .add_eos = true}) ==
        std::vector<int32_t>{1, 15043, 3186, 2});
  CHECK(tok->encode("").empty());
  CHECK(tok->encode("", {.add_bos = true}) == std::vector<int32_t>{1});
}

TEST_CASE("Phi-3 special tokens swallow the whitespace after them, as its tokenizer.json says") {
  const auto tok = slm::test::shared_tokenizer("tokenizer/ggml-vocab-phi-3.gguf");
  if (!tok) return;
  const auto with_newline = tok->encode("<|user|>\nHi<|end|>\n", {.parse_special = true});
  const auto without = tok->encode("<|user|>Hi<|end|>", {.parse_special = true});
  INFO(slm::test::ids_text(with_newline));
  CHECK(with_newline == without);
  CHECK(with_newline.front() == 32010);
  CHECK(with_newline.back() == 32007);
}

TEST_CASE("end-of-generation tokens and BOS/EOS defaults") {
  if (auto tok = slm::test::shared_tokenizer("tokenizer/ggml-vocab-llama-spm.gguf")) {
    CHECK(tok->add_bos());
    CHECK(tok->bos() == 1);
    CHECK(tok->eos() == 2);
    CHECK(tok->unk() == 0);
    CHECK(tok->is_eog(2));
    CHECK_FALSE(tok->is_eog(1));
    CHECK(tok->eog_tokens().size() == 1);
  }
  if (auto tok = slm::test::shared_tokenizer("tokenizer/ggml-vocab-phi-3.gguf")) {
    CHECK(tok->eos() == 32000);
    CHECK(tok->is_eog(32000));   // <|endoftext|>
    CHECK(tok->is_eog(32007));   // <|end|>
    CHECK(tok->is_eog(2));       // </s>
    CHECK(tok->eot() == 32000);  // first end-of-turn text by id
    CHECK_FALSE(tok->is_eog(32010));
  }
  if (auto tok = slm::test::shared_tokenizer("tokenizer/ggml-vocab-gpt-2.gguf")) {
    CHECK_FALSE(tok->add_bos());
    CHECK(tok->is_eog(50256));
    CHECK(tok->is_control(50256));  // the file says normal; llama.cpp (and slm) make it control
  }
  if (auto tok = slm::test::shared_tokenizer("models/tiny-qwen3/tiny-qwen3-hf")) {
    CHECK_FALSE(tok->add_bos());
    CHECK(tok->bos() == -1);
    CHECK(tok->eos() == 50256);
    CHECK(tok->is_eog(50256));
    try {
      tok->encode("x", {.add_bos = true});
      FAIL("expected an error");
    } catch (const slm::Error& e) {
      CHECK(e.kind() == slm::ErrorKind::invalid_argument);
    }
  }
  if (auto tok = slm::test::shared_tokenizer("models/stories260K/stories260K-hf")) {
    CHECK(tok->add_bos());
    CHECK(tok->bos() == 1);
    CHECK(tok->eos() == 2);
    CHECK(tok->is_eog(2));
    CHECK(tok->strips_leading_space());
  }
}

TEST_CASE("GGUF and Hugging Face folders of one model tokenize alike") {
  const auto gguf = slm::test::shared_tokenizer("models/stories260K/stories260K-f32.gguf");
  const auto hf = slm::test::shared_tokenizer("models/stories260K/stories260K-hf");
  if (!gguf || !hf) return;
  slm::test::TextGenerator gen(7);
  int same = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string text = gen.next();
    const auto a = gguf->encode(text, {.add_bos = true});
    const auto b = hf->encode(text, {.add_bos = true});
    INFO("text '", slm::test::escape_text(text), "'");
    CHECK(a == b);
    same += a == b;
  }
  CHECK(same == 300);
}
