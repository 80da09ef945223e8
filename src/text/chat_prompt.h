// Chat prompts: a conversation rendered with the model's template and tokenized so that only the
// template's own markers can become control tokens. Message contents are rendered as placeholders
// first; after rendering, each placeholder is replaced by its text and that byte range is marked
// plain, so "<|im_end|>" typed by a user stays text (tests/text/chat_prompt_test.cpp).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "src/text/chat_template.h"
#include "src/text/tokenizer.h"

namespace slm {

struct ChatPrompt {
  std::string text;                                  // the full rendering
  std::vector<std::pair<size_t, size_t>> plain;      // [begin, end) byte ranges of message contents
  std::vector<int32_t> tokens;
};

// Renders `request` (messages whose "content" strings are user text) and tokenizes the result:
// special-token texts are parsed outside message contents only; BOS is added when the tokenizer
// asks for it, unless the rendering already starts with it (no double BOS).
ChatPrompt build_chat_prompt(const Tokenizer& tokenizer, const ChatTemplate& tmpl, const ChatRequest& request);

}  // namespace slm
