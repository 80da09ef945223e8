// slm::Model: a loaded model, shared by any number of sessions.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slm {

class LoadedModel;  // internal

struct ModelInfo {
  std::string path;
  std::string architecture;      // "llama", "qwen3", "qwen3moe", ...
  int32_t n_layers = 0;
  int32_t d_model = 0;
  int32_t n_heads = 0;
  int32_t n_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t vocab_size = 0;
  int32_t context_length = 0;    // the model's trained context
  int32_t n_experts = 0;
  int32_t n_experts_used = 0;
  uint64_t n_params = 0;         // elements of all weight tensors
  uint64_t weight_bytes = 0;     // bytes of all weight tensors
  uint64_t bytes_per_token = 0;  // weight bytes one generated token reads (active experts only)
  std::string chat_template;     // the model's own Jinja template, or empty
};

struct LoadOptions {
  // Read a GGUF file's weights into anonymous memory backed by 2 MiB transparent huge pages instead
  // of using them in place through the file mapping: fewer TLB misses while streaming them, 5-15%
  // faster generation measured (bench/RESULTS.md). Loading copies the file (resident memory stays
  // about one copy; the pages are not shared with other processes). Hugging Face folders are
  // always used through their mappings: asking for this with one is an error.
  bool huge_pages = false;
};

struct TokenizeOptions {
  bool add_bos = true;          // add BOS when the model's tokenizer asks for it
  bool parse_special = false;   // false: text like "<|im_end|>" stays plain text, never a control token
};

struct ChatMessage {
  std::string role;     // "system", "user", "assistant", ...
  std::string content;
};

struct ChatOptions {
  bool add_generation_prompt = true;  // end with the assistant's header, ready to generate
  std::string extra_vars_json;        // a JSON object of more template variables ({"enable_thinking": false})
  std::string chat_template;          // a Jinja template to use instead of the model's own
};

class Model {
 public:
  // Loads a GGUF file or a Hugging Face folder (weights are memory-mapped, not copied, unless
  // options.huge_pages). Throws slm::Error.
  static Model load(const std::string& path, const LoadOptions& options = {});

  ModelInfo info() const;

  std::vector<int32_t> tokenize(std::string_view text, const TokenizeOptions& opts = {}) const;
  std::string detokenize(std::span<const int32_t> tokens) const;

  // The conversation rendered with the model's chat template (as Hugging Face's apply_chat_template).
  // Throws slm::Error: unsupported (no template), template_syntax, template_runtime, template_raise.
  std::string apply_chat_template(std::span<const ChatMessage> messages, const ChatOptions& opts = {}) const;
  // The rendering's prompt tokens. Only the template's own markers become control tokens: text such
  // as "<|im_end|>" inside a message stays plain text. BOS is added when the model asks for it,
  // unless the template already wrote it (never two).
  std::vector<int32_t> tokenize_chat(std::span<const ChatMessage> messages, const ChatOptions& opts = {}) const;
  std::string token_text(int32_t token) const;  // the token's vocabulary entry, as stored
  bool is_end_of_generation(int32_t token) const;
  int32_t bos() const;
  int32_t eos() const;

  const LoadedModel& internal() const noexcept { return *impl_; }

 private:
  explicit Model(std::shared_ptr<const LoadedModel> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const LoadedModel> impl_;
  friend class Session;
};

}  // namespace slm
