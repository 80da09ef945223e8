#include "src/text/chat_prompt.h"

#include <algorithm>
#include <string_view>

#include "src/text/vocab.h"

namespace slm {
namespace {

constexpr std::string_view kOpen = "\xEF\xB7\x90";   // U+FDD0
constexpr std::string_view kClose = "\xEF\xB7\x91";  // U+FDD1

// Replaces control-token texts (and any U+FDD0 already in the input) by sentinels.
class Protector {
 public:
  explicit Protector(const Tokenizer& tok) {
    // The control and unknown ones among the vocabulary's special tokens: those the tokenizer would
    // match in template text.
    for (int32_t id : tok.vocab().special_tokens)
      if ((tok.is_control(id) || tok.is_unknown(id)) && !tok.token_text(id).empty()) texts_.push_back(tok.token_text(id));
    texts_.push_back(kOpen);
    // Longest first, so "<|im_end|>" wins over a shorter control text inside it.
    std::stable_sort(texts_.begin(), texts_.end(),
                     [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
    for (std::string_view t : texts_) first_bytes_[static_cast<unsigned char>(t[0])] = true;
  }

  void protect(nlohmann::ordered_json& j) {
    if (j.is_string()) {
      protect_string(j.get_ref<std::string&>());
    } else if (j.is_object()) {  // keys too: a template can print them (tool parameter names)
      nlohmann::ordered_json out = nlohmann::ordered_json::object();
      for (auto& [key, value] : j.items()) {
        std::string k = key;
        protect_string(k);
        protect(value);
        out[k] = std::move(value);
      }
      j = std::move(out);
    } else if (j.is_array()) {
      for (auto& item : j) protect(item);
    }
  }

  void protect_string(std::string& s) {
    std::string out;
    bool changed = false;
    for (size_t i = 0; i < s.size();) {
      std::string_view hit;
      if (first_bytes_[static_cast<unsigned char>(s[i])])
        for (std::string_view t : texts_)
          if (std::string_view(s).substr(i, t.size()) == t) {
            hit = t;
            break;
          }
      if (hit.empty()) {
        out.push_back(s[i++]);
        continue;
      }
      changed = true;
      out.append(kOpen).append(std::to_string(originals_.size())).append(kClose);
      originals_.emplace_back(hit);
      i += hit.size();
    }
    if (changed) s.swap(out);
  }

  ChatPrompt restore(const std::string& rendered) const {
    ChatPrompt p;
    p.text.reserve(rendered.size());
    const std::string_view r = rendered;
    for (size_t i = 0; i < r.size();) {
      if (r.substr(i, kOpen.size()) == kOpen) {
        size_t j = i + kOpen.size();
        size_t index = 0;
        bool digits = false;
        while (j < r.size() && r[j] >= '0' && r[j] <= '9' && index < originals_.size()) {
          index = index * 10 + static_cast<size_t>(r[j] - '0');
          digits = true;
          ++j;
        }
        if (digits && index < originals_.size() && r.substr(j, kClose.size()) == kClose) {
          const std::string& o = originals_[index];
          if (!p.plain.empty() && p.plain.back().offset + p.plain.back().length == p.text.size())
            p.plain.back().length += o.size();
          else
            p.plain.push_back({p.text.size(), o.size()});
          p.text += o;
          i = j + kClose.size();
          continue;
        }
        // A sentinel the template cut apart (slicing): its text is lost, no control token appears.
      }
      p.text.push_back(r[i++]);
    }
    return p;
  }

 private:
  std::vector<std::string_view> texts_;
  bool first_bytes_[256] = {};
  std::vector<std::string> originals_;
};

}  // namespace

ChatPrompt render_chat_prompt(const ChatTemplate& tmpl, ChatRequest request, const Tokenizer& tok,
                              const jinja::RenderOptions& options) {
  if (request.bos_token.empty() && tok.bos() >= 0) request.bos_token = tok.token_text(tok.bos());
  if (request.eos_token.empty() && tok.eos() >= 0) request.eos_token = tok.token_text(tok.eos());
  Protector protector(tok);
  protector.protect(request.messages);
  protector.protect(request.tools);
  protector.protect(request.extra_vars);
  return protector.restore(tmpl.render(request, options));
}

std::vector<int32_t> tokenize_chat_prompt(const Tokenizer& tok, const ChatPrompt& prompt, bool add_bos) {
  EncodeOptions o;
  o.parse_special = true;
  std::vector<int32_t> ids = tok.encode(prompt.text, o, prompt.plain);
  if (add_bos && tok.bos() >= 0 && (ids.empty() || ids.front() != tok.bos())) ids.insert(ids.begin(), tok.bos());
  return ids;
}

}  // namespace slm
