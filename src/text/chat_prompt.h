// A conversation turned into prompt tokens: the chat template is rendered, then tokenized so that
// only the template's own markers become control tokens.
//
// User text never turns into control tokens. Before rendering, every control token's text found in
// a string of `messages`, `tools` or the extra variables ("<|im_end|>", "<|eot_id|>", ...) is
// replaced by an opaque sentinel (U+FDD0, an index, U+FDD1: noncharacters no template touches);
// after rendering, each sentinel is put back and the bytes it restores are marked plain, so the
// tokenizer matches control tokens only in text the template itself wrote. String methods a
// template applies to user text (trim, split, slicing) still see the text around the sentinels.
//
// No double BOS: when the template already writes the BOS token and the vocabulary asks for BOS,
// it is not added a second time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/text/chat_template.h"
#include "src/text/tokenizer.h"

namespace slm {

struct ChatPrompt {
  std::string text;               // the rendering, user text included as it was given
  std::vector<TextRange> plain;   // bytes of `text` restored from user strings
};

// Renders `request` (its bos_token/eos_token are filled from the tokenizer when empty). Throws
// what ChatTemplate::render throws.
ChatPrompt render_chat_prompt(const ChatTemplate& tmpl, ChatRequest request, const Tokenizer& tok,
                              const jinja::RenderOptions& options = {});

// The prompt's tokens (control tokens parsed outside the plain ranges); BOS in front when add_bos
// and the rendering does not already start with it.
std::vector<int32_t> tokenize_chat_prompt(const Tokenizer& tok, const ChatPrompt& prompt, bool add_bos);

}  // namespace slm
