// The vocabulary of a tokenizer and the recipe that turns text into its tokens.
//
// A Vocab is plain data, filled by a loader (GGUF metadata or a Hugging Face tokenizer.json) and
// completed by finalize_vocab(), which validates it and derives the lookup tables. The tokenizers
// (spm.cpp, bpe.cpp) and the Tokenizer front end only read it.
//
// Two models cover the supported vocabularies:
//   - spm_scores: llama.cpp's SentencePiece BPE (tokenizer.ggml.model "llama"): adjacent symbols
//     merge when their concatenation is a token, best score first; leftovers fall back to <0xXX>.
//   - bpe_ranks: BPE with an explicit merge list (tokenizer.ggml.model "gpt2", Hugging Face "BPE"):
//     the pair with the lowest merge rank merges first. Byte-level vocabularies (GPT-2 alphabet) and
//     SentencePiece-style ones (U+2581 for spaces, <0xXX> byte fallback) both use it.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/text/pretokenize.h"

namespace slm::text {

inline constexpr int32_t kNoToken = -1;

// Token attributes, as bit flags: llama.cpp may mark a token control and user-defined at once.
// GGUF token types map 1:1 (1 normal, 2 unknown, 3 control, 4 user_defined, 5 unused, 6 byte).
namespace token_attr {
inline constexpr uint32_t normal = 1u << 0;
inline constexpr uint32_t unknown = 1u << 1;
inline constexpr uint32_t control = 1u << 2;
inline constexpr uint32_t user_defined = 1u << 3;
inline constexpr uint32_t unused = 1u << 4;
inline constexpr uint32_t byte = 1u << 5;
inline constexpr uint32_t lstrip = 1u << 6;  // when matched as special text: eat whitespace to its left
inline constexpr uint32_t rstrip = 1u << 7;  // ... and to its right
}  // namespace token_attr

enum class VocabModel { spm_scores, bpe_ranks };

// One text-normalization step, applied to each run of text between special tokens.
struct NormalizerStep {
  enum class Kind { nfc, nfd, nfkc, nfkd, prepend, replace };
  Kind kind = Kind::nfc;
  std::string a;                    // prepend: the prefix; replace: the string to find
  std::string b;                    // replace: its replacement
  bool only_at_text_start = false;  // prepend: only for the run at offset 0 of the input
  bool unless_prefixed = false;     // prepend: skip when the run already starts with the prefix
};

struct MergeResult {
  int32_t rank = 0;
  int32_t id = kNoToken;  // the merged token
};

// Move-only: token_to_id views the strings of `tokens`, which a copy would not carry over.
struct Vocab {
  Vocab() = default;
  Vocab(Vocab&&) = default;
  Vocab& operator=(Vocab&&) = default;
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  std::string source;  // file or folder name, for error messages
  VocabModel model = VocabModel::spm_scores;
  std::string model_name;  // "llama", "gpt2", "hf-bpe"
  std::string pre_name;    // tokenizer.ggml.pre, or "tokenizer.json"

  // Per token, indexed by id.
  std::vector<std::string> tokens;
  std::vector<float> scores;    // spm_scores: merge priority (higher first)
  std::vector<uint32_t> attrs;  // token_attr bits

  // Merge list of bpe_ranks, keyed by merge_key(left id, right id).
  std::unordered_map<uint64_t, MergeResult> merges;

  // The encoding recipe.
  std::vector<NormalizerStep> normalizers;
  std::vector<SplitRule> split_rules;
  bool byte_level = false;     // pieces are mapped to GPT-2's byte alphabet before BPE
  bool byte_fallback = false;  // bpe_ranks: characters outside the vocabulary become <0xXX> tokens
  bool fuse_unk = false;       // bpe_ranks: consecutive unknown characters become one unk token
  bool ignore_merges = false;  // bpe_ranks: a piece that is itself a token is emitted whole

  // Decoding.
  bool decode_metaspace = false;      // U+2581 in normal tokens reads as a space
  bool decode_strip_leading = false;  // drop one space at the very start (the encoder added it)

  // Special tokens (kNoToken when absent).
  int32_t bos = kNoToken, eos = kNoToken, unk = kNoToken, pad = kNoToken, eot = kNoToken, eom = kNoToken;
  bool add_bos = false, add_eos = false;
  std::vector<int32_t> eog;  // end-of-generation tokens, sorted, unique

  // Derived by finalize_vocab().
  bool finalized = false;
  std::unordered_map<std::string_view, int32_t> token_to_id;  // views into `tokens`
  std::vector<int32_t> special_tokens;     // control / user-defined / unknown ids, longest text first
  std::array<int32_t, 256> byte_tokens{};  // byte -> its <0xXX> token (spm / fallback), or kNoToken

  int32_t n_tokens() const noexcept { return static_cast<int32_t>(tokens.size()); }
  bool has(int32_t id) const noexcept { return id >= 0 && id < n_tokens(); }
  bool is(int32_t id, uint32_t attr) const noexcept { return has(id) && (attrs[id] & attr) != 0; }
  int32_t find(std::string_view text) const noexcept {
    auto it = token_to_id.find(text);
    return it == token_to_id.end() ? kNoToken : it->second;
  }
};

inline uint64_t merge_key(int32_t left, int32_t right) noexcept {
  return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
}

// Completes a loaded vocabulary: checks sizes and ids (slm::Error(tokenizer) naming `where` keys),
// builds token_to_id (duplicate texts are an error), recognizes <0xXX> byte tokens, end-of-
// generation and special tokens the way llama.cpp does, and sorts the special-token list.
// `model_name_hint` is general.name (llama.cpp adjusts a few attributes by model name).
void finalize_vocab(Vocab& v, std::string_view model_name_hint = {});

}  // namespace slm::text

namespace slm::gguf {
class GgufFile;
}

namespace slm::text {

// tokenizer.ggml.* of a GGUF file. Throws slm::Error(tokenizer) for missing or inconsistent keys
// and slm::Error(unsupported) for a tokenizer model or pre-tokenizer slm does not implement.
Vocab load_vocab_gguf(const gguf::GgufFile& file);

// A Hugging Face folder: tokenizer.json (+ tokenizer_config.json, generation_config.json).
Vocab load_vocab_hf(const std::filesystem::path& folder);

}  // namespace slm::text
