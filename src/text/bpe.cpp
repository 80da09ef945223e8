#include "src/text/bpe.h"

#include <queue>

#include "src/text/unicode.h"

namespace slm::text {

namespace {

struct Symbol {
  int32_t id;
  int prev;
  int next;
  bool alive;
};

struct Candidate {
  int32_t rank;
  int left;  // index of the left symbol: ties go to the leftmost pair
  int32_t left_id;
  int32_t right_id;
};

struct LaterCandidate {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

constexpr uint32_t kNotFromText = token_attr::control | token_attr::unknown;

}  // namespace

void bpe_encode_piece(const Vocab& v, std::string_view piece, std::vector<int32_t>& out) {
  if (piece.empty()) return;
  if (v.ignore_merges) {
    const int32_t whole = v.find(piece);
    if (whole != kNoToken && !(v.attrs[whole] & kNotFromText)) {
      out.push_back(whole);
      return;
    }
  }

  // Initial symbols: one per character. `fused_unk` marks a trailing unk that may absorb more.
  std::vector<Symbol> symbols;
  symbols.reserve(piece.size());
  bool fused_unk = false;
  auto push = [&](int32_t id) {
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, -1, true});
    if (index > 0) symbols[index - 1].next = index;
  };
  for (size_t offset = 0; offset < piece.size();) {
    const size_t n = std::min(utf8_lead_length(static_cast<uint8_t>(piece[offset])), piece.size() - offset);
    const std::string_view ch = piece.substr(offset, n);
    offset += n;
    const int32_t id = v.find(ch);
    if (id != kNoToken && !(v.attrs[id] & kNotFromText)) {
      push(id);
      fused_unk = false;
      continue;
    }
    if (v.byte_fallback) {
      bool all_bytes = true;
      for (char c : ch) all_bytes = all_bytes && v.byte_tokens[static_cast<uint8_t>(c)] != kNoToken;
      if (all_bytes) {
        for (char c : ch) push(v.byte_tokens[static_cast<uint8_t>(c)]);
        fused_unk = false;
        continue;
      }
    }
    if (v.unk == kNoToken) continue;  // no way to write it: dropped, as Hugging Face does
    if (!(v.fuse_unk && fused_unk)) push(v.unk);
    fused_unk = true;
  }

  std::priority_queue<Candidate, std::vector<Candidate>, LaterCandidate> queue;
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    auto it = v.merges.find(merge_key(symbols[left].id, symbols[right].id));
    if (it == v.merges.end()) return;
    queue.push({it->second.rank, left, symbols[left].id, symbols[right].id});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) consider(i - 1, i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = symbols[c.left];
    // Stale: the left symbol merged away or changed, or its neighbour is no longer that token.
    if (!left.alive || left.id != c.left_id || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    if (right.id != c.right_id) continue;
    left.id = v.merges.at(merge_key(c.left_id, c.right_id)).id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    consider(left.prev, c.left);
    consider(c.left, left.next);
  }

  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace slm::text
