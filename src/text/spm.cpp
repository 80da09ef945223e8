#include "src/text/spm.h"

#include <queue>
#include <string>

#include "slm/error.h"
#include "src/text/unicode.h"

namespace slm::text {

namespace {

struct Symbol {
  int prev;
  int next;
  size_t offset;  // into the text
  size_t n;       // bytes; 0 once merged into its left neighbour
};

struct Bigram {
  int left;
  int right;
  float score;
  size_t size;  // bytes of left + right when the bigram was queued
};

struct WorseBigram {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

// A token that merging may produce: anything but control, unknown and byte tokens.
int32_t mergeable(const Vocab& v, std::string_view text) {
  const int32_t id = v.find(text);
  if (id == kNoToken) return kNoToken;
  if (v.attrs[id] & (token_attr::control | token_attr::unknown | token_attr::byte)) return kNoToken;
  return id;
}

void emit_bytes(const Vocab& v, std::string_view text, std::vector<int32_t>& out) {
  for (char c : text) {
    const auto b = static_cast<uint8_t>(c);
    int32_t id = v.byte_tokens[b];
    if (id == kNoToken) id = mergeable(v, std::string_view(&c, 1));  // a vocabulary of raw bytes
    if (id == kNoToken) id = v.unk;
    if (id == kNoToken)
      throw Error(ErrorKind::tokenizer, v.source,
                  "cannot encode byte " + std::to_string(b) + ": no <0xXX> token and no unknown token");
    out.push_back(id);
  }
}

}  // namespace

void spm_encode(const Vocab& v, std::string_view text, std::vector<int32_t>& out) {
  if (text.empty()) return;
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t offset = 0; offset < text.size();) {
    const size_t n = std::min(utf8_lead_length(static_cast<uint8_t>(text[offset])), text.size() - offset);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, offset + n == text.size() ? -1 : index + 1, offset, n});
    offset += n;
  }

  std::priority_queue<Bigram, std::vector<Bigram>, WorseBigram> queue;
  auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const size_t size = symbols[left].n + symbols[right].n;
    const int32_t id = mergeable(v, text.substr(symbols[left].offset, size));
    if (id == kNoToken) return;
    queue.push({left, right, v.scores[id], size});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.left];
    Symbol& right = symbols[top.right];
    // Stale: one side was merged away or has grown since the bigram was queued.
    if (left.n == 0 || right.n == 0 || left.n + right.n != top.size) continue;
    left.n += right.n;
    right.n = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.left;
    try_add(left.prev, top.left);
    try_add(top.left, left.next);
  }

  for (int i = 0; i != -1; i = symbols[i].next) {
    const std::string_view piece = text.substr(symbols[i].offset, symbols[i].n);
    const int32_t id = mergeable(v, piece);
    if (id != kNoToken) {
      out.push_back(id);
    } else {
      emit_bytes(v, piece, out);
    }
  }
}

}  // namespace slm::text
