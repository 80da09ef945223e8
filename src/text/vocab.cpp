#include "src/text/vocab.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <span>

#include "slm/error.h"

namespace slm::text {

namespace {

bool in_list(std::string_view text, std::span<const std::string_view> list) {
  return std::find(list.begin(), list.end(), text) != list.end();
}
bool in_list(std::string_view text, std::initializer_list<std::string_view> list) {
  return in_list(text, std::span<const std::string_view>(list.begin(), list.size()));
}

// Token texts that llama.cpp treats as end of turn, end of message, or fill-in-the-middle markers
// (llama-vocab.cpp, "auto-detect special tokens by text"): model files often omit their ids.
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",         "<|endoftext|>",     "<|end_of_text|>",
    "<EOT>",      "_<EOT>",     "[EOT]",   "<｜end▁of▁sentence｜>", "<end_of_utterance>"};
constexpr std::string_view kFimTexts[] = {
    "<|fim_prefix|>", "<fim-prefix>",    "<fim_prefix>",    "<｜fim▁begin｜>", "<PRE>",
    "▁<PRE>",         "<|code_prefix|>", "<|prefix|>",      "<|fim_suffix|>",  "<fim-suffix>",
    "<fim_suffix>",   "<｜fim▁hole｜>",  "<SUF>",           "▁<SUF>",          "<|code_suffix|>",
    "<|suffix|>",     "<|fim_middle|>",  "<fim-middle>",    "<fim_middle>",    "<｜fim▁end｜>",
    "<MID>",          "▁<MID>",          "<|code_middle|>", "<|middle|>"};
// FIM pad / repository / file-separator markers end generation as well.
constexpr std::string_view kFimEndTexts[] = {"<|fim_pad|>", "<fim-pad>",    "<fim_pad>",     "<PAD>",
                                             "[PAD]",       "<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                             "<REPO>",      "<reponame>",   "<|file_sep|>"};
constexpr std::string_view kEogTexts[] = {"<|eot_id|>",
                                          "<|im_end|>",
                                          "<|end|>",
                                          "<|return|>",
                                          "<|call|>",
                                          "<|flush|>",
                                          "<|calls|>",
                                          "<end_of_turn>",
                                          "<|endoftext|>",
                                          "</s>",
                                          "<|eom_id|>",
                                          "<EOT>",
                                          "_<EOT>",
                                          "[EOT]",
                                          "[EOS]",
                                          "<|end_of_text|>",
                                          "<end_of_utterance>",
                                          "<eos>",
                                          "<turn|>",
                                          "<|tool_response>",
                                          "<｜end▁of▁sentence｜>",
                                          "[e~["};

std::string hex_byte_token(unsigned b) {
  static const char* hex = "0123456789ABCDEF";
  return std::string{'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
}

}  // namespace

void finalize_vocab(Vocab& v, std::string_view model_name_hint) {
  const std::string& where = v.source;
  if (v.finalized) throw Error(ErrorKind::internal, where, "vocabulary finalized twice");
  if (v.tokens.empty()) throw Error(ErrorKind::tokenizer, where, "the vocabulary has no tokens");
  if (v.tokens.size() >= size_t(std::numeric_limits<int32_t>::max()))
    throw Error(ErrorKind::tokenizer, where, "the vocabulary has too many tokens for 32-bit ids");
  if (v.scores.empty()) v.scores.assign(v.tokens.size(), 0.0f);
  if (v.scores.size() != v.tokens.size() || v.attrs.size() != v.tokens.size())
    throw Error(ErrorKind::internal, where, "vocabulary arrays differ in length");

  // Text -> id. Empty texts are holes (ids no token uses) and are not looked up.
  v.token_to_id.clear();
  v.token_to_id.reserve(v.tokens.size());
  for (int32_t id = 0; id < v.n_tokens(); ++id) {
    if (v.tokens[id].empty()) continue;
    auto [it, inserted] = v.token_to_id.emplace(std::string_view(v.tokens[id]), id);
    if (!inserted)
      throw Error(ErrorKind::tokenizer, where,
                  "token " + std::to_string(id) + " repeats the text of token " + std::to_string(it->second));
  }

  for (auto [name, id] : {std::pair<const char*, int32_t>{"bos", v.bos},
                          {"eos", v.eos},
                          {"unk", v.unk},
                          {"pad", v.pad},
                          {"eot", v.eot},
                          {"eom", v.eom}})
    if (id != kNoToken && !v.has(id))
      throw Error(ErrorKind::tokenizer, where,
                  std::string(name) + " token id " + std::to_string(id) + " is outside the vocabulary of " +
                      std::to_string(v.n_tokens()) + " tokens");
  if (v.add_bos && v.bos == kNoToken)
    throw Error(ErrorKind::tokenizer, where, "the vocabulary asks for a BOS token but names none");
  if (v.add_eos && v.eos == kNoToken)
    throw Error(ErrorKind::tokenizer, where, "the vocabulary asks for an EOS token but names none");

  for (unsigned b = 0; b < 256; ++b) v.byte_tokens[b] = v.find(hex_byte_token(b));

  // Markers that llama.cpp recognizes by text are control tokens whatever the file says, so that
  // user text can never produce them (parse_special=false skips control tokens).
  auto force_control = [&](int32_t id) { v.attrs[id] |= token_attr::control; };
  for (int32_t id = 0; id < v.n_tokens(); ++id) {
    const std::string& text = v.tokens[id];
    if (in_list(text, kEotTexts)) {
      if (v.eot == kNoToken) v.eot = id;  // first in id order (llama.cpp: hash order)
      force_control(id);
    }
    if (text == "<|eom_id|>") {
      if (v.eom == kNoToken) v.eom = id;
      force_control(id);
    }
    if (in_list(text, kFimTexts) || in_list(text, kFimEndTexts)) force_control(id);
  }
  if (v.eot != kNoToken) force_control(v.eot);
  if (v.eom != kNoToken) force_control(v.eom);

  // Control tokens named "unused..." are placeholders.
  for (int32_t id = 0; id < v.n_tokens(); ++id)
    if ((v.attrs[id] & token_attr::control) && v.tokens[id].find("unused") != std::string::npos)
      v.attrs[id] |= token_attr::unused;

  // End of generation: the marker texts, EOS / EOT / EOM, and the FIM end markers (first of each).
  std::vector<int32_t> eog;
  bool fim_end_seen[3] = {false, false, false};
  for (int32_t id = 0; id < v.n_tokens(); ++id) {
    const std::string& text = v.tokens[id];
    if (in_list(text, kEogTexts)) {
      eog.push_back(id);
      force_control(id);
    }
    int group = -1;
    if (in_list(text, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"})) group = 0;
    if (in_list(text, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"})) group = 1;
    if (text == "<|file_sep|>") group = 2;
    if (group >= 0 && !fim_end_seen[group]) {
      fim_end_seen[group] = true;
      eog.push_back(id);
    }
  }
  for (int32_t id : {v.eos, v.eot, v.eom})
    if (id != kNoToken) eog.push_back(id);
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());

  // Harmony-style vocabularies (gpt-oss, solar-open) use <|end|> between messages, not at the end.
  auto eog_has = [&](std::string_view text) {
    return std::any_of(eog.begin(), eog.end(), [&](int32_t id) { return v.tokens[id] == text; });
  };
  for (int32_t id = 0; id < v.n_tokens(); ++id)
    if (in_list(v.tokens[id], {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}))
      v.attrs[id] = token_attr::user_defined;
  if ((eog_has("<|return|>") && eog_has("<|call|>") && eog_has("<|end|>")) ||
      (eog_has("<|calls|>") && eog_has("<|flush|>") && eog_has("<|end|>"))) {
    for (size_t i = 0; i < eog.size(); ++i)
      if (v.tokens[eog[i]] == "<|end|>") {
        v.attrs[eog[i]] = token_attr::user_defined;
        eog.erase(eog.begin() + i);
        break;
      }
  }
  // Gemma 4 ends turns with <|tool_response> / <turn|>; its </s> is ordinary text.
  if (eog_has("<|tool_response>") && eog_has("</s>")) {
    for (size_t i = 0; i < eog.size(); ++i)
      if (v.tokens[eog[i]] == "</s>") {
        v.attrs[eog[i]] = token_attr::normal;
        eog.erase(eog.begin() + i);
        break;
      }
  }
  v.eog = std::move(eog);

  // Texts matched before tokenization: control, user-defined and unknown tokens, longest first.
  v.special_tokens.clear();
  for (int32_t id = 0; id < v.n_tokens(); ++id)
    if (!v.tokens[id].empty() &&
        (v.attrs[id] & (token_attr::control | token_attr::user_defined | token_attr::unknown)))
      v.special_tokens.push_back(id);
  std::stable_sort(v.special_tokens.begin(), v.special_tokens.end(),
                   [&](int32_t a, int32_t b) { return v.tokens[a].size() > v.tokens[b].size(); });

  // Phi-3's special tokens swallow the whitespace after them (its tokenizer.json says rstrip);
  // GGUF files do not carry that, so llama.cpp keys it on the model name.
  std::string lowered(model_name_hint);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lowered.find("phi-3") != std::string::npos || lowered.find("phi3") != std::string::npos) {
    for (int32_t id : v.special_tokens) v.attrs[id] |= token_attr::rstrip;
    if (int32_t id = v.find("</s>"); id != kNoToken) v.attrs[id] |= token_attr::rstrip;
    for (std::string_view text : {"<unk>", "<s>", "<|endoftext|>"})
      if (int32_t id = v.find(text); id != kNoToken) v.attrs[id] &= ~token_attr::rstrip;
  }
  v.finalized = true;
}

}  // namespace slm::text
