// KV cache: F16 keys and values in fixed-size blocks from one pool, found through per-sequence
// block tables (the layout paged attention uses; prefix sharing and copy-on-write slot in here).
//
// Storage: for each layer, K and V pools of [n_blocks][block_size][kv_dim] halfs, kv_dim =
// n_kv_heads * head_dim. A sequence's position p lives in block table[p / block_size], slot
// p % block_size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace slm {

struct KvCacheOptions {
  int32_t n_layers = 0;
  int32_t kv_dim = 0;          // n_kv_heads * head_dim
  int32_t block_size = 32;     // positions per block
  int32_t max_positions = 0;   // total positions the pool holds (rounded up to whole blocks)
  int32_t max_sequences = 1;
};

// One sequence's cache as the attention kernel reads it: pointer arithmetic only, no calls.
struct KvSeqView {
  uint16_t* k_pool = nullptr;       // this layer's K pool
  uint16_t* v_pool = nullptr;
  const int32_t* blocks = nullptr;  // block table
  int32_t block_size = 0;
  int32_t kv_dim = 0;

  size_t slot(int32_t pos) const noexcept {
    return (static_cast<size_t>(blocks[pos / block_size]) * block_size + pos % block_size) * kv_dim;
  }
  uint16_t* k(int32_t pos) const noexcept { return k_pool + slot(pos); }
  uint16_t* v(int32_t pos) const noexcept { return v_pool + slot(pos); }
};

class KvCache {
 public:
  explicit KvCache(const KvCacheOptions& opts);
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  const KvCacheOptions& options() const noexcept { return opts_; }

  // Makes room for positions [0, n_positions) of `seq`, taking blocks from the pool as needed.
  // Throws slm::Error(out_of_range) when the pool or the sequence limit is exhausted.
  void reserve(int32_t seq, int32_t n_positions);
  // Forgets positions >= n_positions of `seq`; whole blocks past it return to the pool.
  void truncate(int32_t seq, int32_t n_positions);
  void clear(int32_t seq) { truncate(seq, 0); }

  int32_t capacity(int32_t seq) const;  // positions reserved for seq
  int32_t free_blocks() const noexcept { return static_cast<int32_t>(free_.size()); }
  size_t bytes() const noexcept { return k_.size() * sizeof(uint16_t) * 2; }

  KvSeqView view(int32_t layer, int32_t seq) const;

 private:
  KvCacheOptions opts_;
  int32_t n_blocks_ = 0;
  std::vector<uint16_t> k_, v_;                 // [layer][block][slot][kv_dim]
  std::vector<std::vector<int32_t>> tables_;    // per sequence
  std::vector<int32_t> free_;                   // free block ids (stack)
};

}  // namespace slm
