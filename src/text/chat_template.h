// Rendering a model's chat template over a conversation, as Hugging Face's apply_chat_template
// does: the template sees `messages`, `tools` (None when there are none), `bos_token`,
// `eos_token`, `add_generation_prompt`, any extra variables (enable_thinking, ...), and
// strftime_now() reading the given clock.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "src/text/jinja/template.h"

namespace slm {

struct ChatRequest {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // [{"role": ..., "content": ...}, ...]
  nlohmann::ordered_json tools;        // null: the template sees tools = None
  std::string bos_token;
  std::string eos_token;
  bool add_generation_prompt = true;
  nlohmann::ordered_json extra_vars;   // object (or null): more variables; they override the above
  std::optional<std::tm> now;          // strftime_now's clock; nullopt: the current local time
};

// The variables a template sees for a request.
nlohmann::ordered_json chat_template_context(const ChatRequest& request);

// A parsed chat template, rendered once per request (safe to share between threads).
class ChatTemplate {
 public:
  // Throws slm::Error(template_syntax).
  static ChatTemplate parse(std::string_view source);

  // Throws slm::Error(template_runtime), or template_raise with the template's own message.
  std::string render(const ChatRequest& request, const jinja::RenderOptions& options = {}) const;

 private:
  explicit ChatTemplate(jinja::Template t) : template_(std::move(t)) {}
  jinja::Template template_;
};

// One-shot form: parse and render.
std::string render_chat(std::string_view template_source, const nlohmann::ordered_json& messages,
                        const nlohmann::ordered_json& tools, std::string_view bos_token, std::string_view eos_token,
                        bool add_generation_prompt, const nlohmann::ordered_json& extra_vars = nullptr,
                        std::optional<std::tm> now = std::nullopt);

// "2026-07-26T09:30:00" (or with a space, or a date alone) -> calendar time with weekday and day
// of year filled in. Throws slm::Error(invalid_argument) for anything else.
std::tm parse_datetime(std::string_view text);

}  // namespace slm
