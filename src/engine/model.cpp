// slm::Model: the public API over LoadedModel (info, tokenizer, chat template).
#include "slm/model.h"

#include <nlohmann/json.hpp>

#include "slm/error.h"
#include "src/model/model.h"
#include "src/text/chat_prompt.h"

namespace slm {

Model Model::load(const std::string& path, const LoadOptions& options) {
  return Model(LoadedModel::load(path, options.huge_pages ? MapMode::huge_pages : MapMode::file));
}

ModelInfo Model::info() const {
  const ModelConfig& c = impl_->config();
  ModelInfo i;
  i.path = impl_->path().string();
  i.architecture = c.architecture;
  i.n_layers = static_cast<int32_t>(c.n_layers);
  i.d_model = static_cast<int32_t>(c.d_model);
  i.n_heads = static_cast<int32_t>(c.n_heads);
  i.n_kv_heads = static_cast<int32_t>(c.n_kv_heads);
  i.head_dim = static_cast<int32_t>(c.head_dim);
  i.vocab_size = static_cast<int32_t>(c.vocab_size);
  i.context_length = static_cast<int32_t>(c.context_length);
  i.n_experts = static_cast<int32_t>(c.n_experts);
  i.n_experts_used = static_cast<int32_t>(c.n_experts_used);
  i.n_params = impl_->n_params();
  i.weight_bytes = impl_->weight_bytes();
  i.bytes_per_token = impl_->bytes_per_token();
  i.chat_template = impl_->chat_template();
  return i;
}

std::vector<int32_t> Model::tokenize(std::string_view text, const TokenizeOptions& opts) const {
  EncodeOptions e;
  e.add_bos = opts.add_bos && impl_->tokenizer().add_bos();
  e.parse_special = opts.parse_special;
  return impl_->tokenizer().encode(text, e);
}

std::string Model::detokenize(std::span<const int32_t> tokens) const { return impl_->tokenizer().decode(tokens); }
std::string Model::token_text(int32_t token) const { return std::string(impl_->tokenizer().token_text(token)); }
bool Model::is_end_of_generation(int32_t token) const { return impl_->tokenizer().is_eog(token); }
int32_t Model::bos() const { return impl_->tokenizer().bos(); }
int32_t Model::eos() const { return impl_->tokenizer().eos(); }

namespace {

ChatRequest chat_request(std::span<const ChatMessage> messages, const ChatOptions& opts) {
  ChatRequest r;
  for (const ChatMessage& m : messages) r.messages.push_back({{"role", m.role}, {"content", m.content}});
  r.add_generation_prompt = opts.add_generation_prompt;
  if (!opts.extra_vars_json.empty()) {  // chat_template_context() insists on an object
    try {
      r.extra_vars = nlohmann::ordered_json::parse(opts.extra_vars_json);
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorKind::invalid_argument, "chat option extra_vars_json", std::string("is not JSON: ") + e.what());
    }
  }
  return r;
}

ChatPrompt chat_prompt(const LoadedModel& m, std::span<const ChatMessage> messages, const ChatOptions& opts) {
  const std::string& source = opts.chat_template.empty() ? m.chat_template() : opts.chat_template;
  if (source.empty())
    throw Error(ErrorKind::unsupported, m.path().string(),
                "the model has no chat template (tokenizer.chat_template); pass one explicitly");
  return render_chat_prompt(ChatTemplate::parse(source), chat_request(messages, opts), m.tokenizer());
}

}  // namespace

std::string Model::apply_chat_template(std::span<const ChatMessage> messages, const ChatOptions& opts) const {
  return chat_prompt(*impl_, messages, opts).text;
}

std::vector<int32_t> Model::tokenize_chat(std::span<const ChatMessage> messages, const ChatOptions& opts) const {
  return tokenize_chat_prompt(impl_->tokenizer(), chat_prompt(*impl_, messages, opts), impl_->tokenizer().add_bos());
}

}  // namespace slm
