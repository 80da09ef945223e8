// Pre-tokenization: cutting text into the pieces that BPE merges never cross.
//
// A pre-tokenizer is a list of regex splits applied in order; each one refines the pieces of the
// one before. A split keeps every byte: matches become pieces, and so does any text between two
// matches ("isolated", as Hugging Face calls it), unless the split drops its matches ("removed").
// Patterns use PCRE2 syntax with Unicode properties (\p{L}, \p{N}, ...), compiled once with JIT.
// Matching sees only the piece being split, so lookarounds stop at piece edges, as in llama.cpp
// and Hugging Face.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace slm::text {

struct SplitRule {
  std::string pattern;
  bool remove_matches = false;  // false: matches are kept as pieces ("isolated")
};

// What tokenizer.ggml.pre names: the splits llama.cpp applies and the vocabulary defaults that go
// with them.
struct PreTokenizerPreset {
  std::vector<SplitRule> rules;
  bool ignore_merges = false;    // a piece that is a whole token is emitted without merging
  bool add_bos_default = false;  // what add_bos is when tokenizer.ggml.add_bos_token is absent
};

// The preset for a tokenizer.ggml.pre value (missing key: "default"). Throws
// slm::Error(unsupported) naming `where` and the value when slm does not know it.
PreTokenizerPreset pre_tokenizer_preset(std::string_view name, const std::string& where);

// The regex of GPT-2's byte-level pre-tokenizer (also Hugging Face's ByteLevel with use_regex).
const std::string& gpt2_split_pattern();

class PreTokenizer {
 public:
  PreTokenizer() = default;  // no rules: the whole text is one piece
  // Compiles every rule. Throws slm::Error(tokenizer) naming `where` for a pattern PCRE2 rejects.
  PreTokenizer(const std::vector<SplitRule>& rules, const std::string& where);

  // Appends the pieces of `text` (views into it, in order, none empty) to `out`. Bytes that are
  // not well-formed UTF-8 match nothing, so they end up in pieces of their own (never lost).
  // Throws slm::Error(out_of_range) if a pattern exceeds PCRE2's match limits.
  void split(std::string_view text, std::vector<std::string_view>& out) const;

  bool empty() const noexcept { return rules_.empty(); }

 private:
  struct Compiled;
  std::vector<std::shared_ptr<const Compiled>> rules_;
};

}  // namespace slm::text
