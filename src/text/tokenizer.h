// slm::Tokenizer: text to token ids and back, for every vocabulary slm reads.
//
//   auto tok = Tokenizer::from_gguf(file);             // or Tokenizer::from_hf("model-folder")
//   auto ids = tok.encode("Hello", {.add_bos = tok.add_bos()});
//   std::string text = tok.decode(ids);
//
// Special tokens. With parse_special=false (the default, for user text) the texts of control
// tokens ("<|im_end|>", "<s>", ...) are ordinary text and never become control tokens; with
// parse_special=true (template output) they are matched first, longest first, and the text
// between them is tokenized normally. User-defined tokens are matched in both cases, as llama.cpp
// and Hugging Face do.
//
// Decoding. Control and unknown tokens decode to nothing unless show_special; byte tokens <0xXX>
// to their byte; SentencePiece's U+2581 to a space; byte-level tokens through GPT-2's alphabet.
// When the vocabulary adds a space in front of the text (SentencePiece), decode() drops one space
// at the very start of its output. Output is the raw bytes the tokens stand for: a sequence cut in
// the middle of a UTF-8 character decodes to a partial character (see StreamDecoder).
//
// A Tokenizer is immutable, cheap to copy (the tables are shared) and safe to use from many
// threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slm {

namespace gguf {
class GgufFile;
}
namespace text {
struct Vocab;
}

// A span of bytes of a text.
struct TextRange {
  size_t offset = 0;
  size_t length = 0;
};

struct EncodeOptions {
  bool add_bos = false;        // put the BOS token first (throws when the vocabulary has none)
  bool add_eos = false;        // put the EOS token last (idem)
  bool parse_special = false;  // match the texts of control tokens in the input
};

class Tokenizer {
 public:
  // tokenizer.ggml.* of a GGUF file (a model or a vocabulary-only file). Throws slm::Error:
  // tokenizer (missing or inconsistent keys, "<file>: key ..."), unsupported (tokenizer model or
  // pre-tokenizer slm does not implement).
  static Tokenizer from_gguf(const gguf::GgufFile& file);
  // A Hugging Face folder: tokenizer.json, plus tokenizer_config.json and generation_config.json
  // when present. Throws slm::Error: io, format (malformed JSON), tokenizer, unsupported.
  static Tokenizer from_hf(const std::filesystem::path& folder);
  // A vocabulary built in memory (it is validated and completed first).
  static Tokenizer from_vocab(text::Vocab vocab);

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // With parse_special, `plain` names parts of the input that are user text inside a rendered
  // template: a control token's text that overlaps one of them stays plain text (tokenized with its
  // surroundings, as parse_special=false would), so a user cannot inject "<|im_end|>".
  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options,
                              std::span<const TextRange> plain) const;

  // Throws slm::Error(out_of_range) for an id outside the vocabulary.
  std::string decode(std::span<const int32_t> ids, bool show_special = false) const;

  // The bytes one token stands for, as decode() writes it in the middle of a text (no space is
  // dropped). Control and unknown tokens give "" unless show_special. View into the tokenizer.
  std::string_view token_piece(int32_t id, bool show_special = false) const;

  // The token's text as the vocabulary stores it ("▁Hello", "Ġworld", "<0x0A>", "<|im_end|>").
  std::string_view token_text(int32_t id) const;
  // The id of a token with exactly this vocabulary text, or -1.
  int32_t find_token(std::string_view text) const noexcept;

  int32_t n_vocab() const noexcept;
  int32_t bos() const noexcept;  // -1 when absent (likewise below)
  int32_t eos() const noexcept;
  int32_t eot() const noexcept;
  int32_t unk() const noexcept;
  int32_t pad() const noexcept;
  bool add_bos() const noexcept;  // the model expects BOS in front of a prompt
  bool add_eos() const noexcept;

  bool is_eog(int32_t id) const noexcept;  // ends generation: EOS, EOT, <|im_end|>, ...
  std::span<const int32_t> eog_tokens() const noexcept;
  bool is_control(int32_t id) const noexcept;
  bool is_byte(int32_t id) const noexcept;
  bool is_user_defined(int32_t id) const noexcept;
  bool is_unknown(int32_t id) const noexcept;

  // Whether decode() drops a space at the start of its output (for StreamDecoder).
  bool strips_leading_space() const noexcept;

  std::string_view model_name() const noexcept;  // "llama", "gpt2", "hf-bpe"
  std::string_view pre_name() const noexcept;    // tokenizer.ggml.pre, or "tokenizer.json"
  const text::Vocab& vocab() const noexcept;

 private:
  struct Impl;
  explicit Tokenizer(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace slm
