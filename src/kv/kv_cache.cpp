#include "src/kv/kv_cache.h"

#include <cstdint>
#include <string>

#include "slm/error.h"

namespace slm {

KvCache::KvCache(const KvCacheOptions& opts) : opts_(opts) {
  if (opts.n_layers <= 0 || opts.n_kv_heads <= 0 || opts.head_dim <= 0 || opts.block_size <= 0 ||
      opts.max_positions <= 0 || opts.max_sequences <= 0)
    throw Error(ErrorKind::invalid_argument, "kv cache",
                "layers, KV heads, head size, block size, positions and sequences must be positive");
  n_blocks_ = static_cast<int32_t>((int64_t{opts.max_positions} + opts.block_size - 1) / opts.block_size);
  // blocks x block_size x n_kv_heads x head_dim halfs per layer, times the layers, each product checked
  const auto times = [](size_t a, int32_t b) {
    if (a > SIZE_MAX / sizeof(uint16_t) / static_cast<size_t>(b))
      throw Error(ErrorKind::invalid_argument, "kv cache", "size overflows");
    return a * static_cast<size_t>(b);
  };
  per_layer_ =
      times(times(times(static_cast<size_t>(n_blocks_), opts.block_size), opts.n_kv_heads), opts.head_dim);
  // On huge pages, allocated as they are first written: attention walks a block's rows of one head
  // (4 KiB at head_dim 64), then the next block's, anywhere in the pool.
  const size_t halfs = times(per_layer_, opts.n_layers);
  k_ = HugePageBuffer(halfs * sizeof(uint16_t), "the KV cache");
  v_ = HugePageBuffer(halfs * sizeof(uint16_t), "the KV cache");
  tables_.resize(static_cast<size_t>(opts.max_sequences));
  free_.reserve(static_cast<size_t>(n_blocks_));
  for (int32_t b = n_blocks_ - 1; b >= 0; --b) free_.push_back(b);
}

void KvCache::reserve(int32_t seq, int32_t n_positions) {
  if (seq < 0 || seq >= opts_.max_sequences)
    throw Error(ErrorKind::out_of_range, "kv cache", "sequence id " + std::to_string(seq) + " out of range");
  auto& table = tables_[static_cast<size_t>(seq)];
  const size_t need = (static_cast<size_t>(n_positions) + opts_.block_size - 1) / opts_.block_size;
  if (need > table.size() && need - table.size() > free_.size())
    throw Error(ErrorKind::out_of_range, "kv cache",
                "no room for " + std::to_string(n_positions) + " positions (cache holds " +
                    std::to_string(static_cast<int64_t>(n_blocks_) * opts_.block_size) + ")");
  while (table.size() < need) {
    table.push_back(free_.back());
    free_.pop_back();
  }
}

void KvCache::truncate(int32_t seq, int32_t n_positions) {
  if (seq < 0 || seq >= opts_.max_sequences) return;
  auto& table = tables_[static_cast<size_t>(seq)];
  const size_t keep = (static_cast<size_t>(n_positions < 0 ? 0 : n_positions) + opts_.block_size - 1) / opts_.block_size;
  while (table.size() > keep) {
    free_.push_back(table.back());
    table.pop_back();
  }
}

int32_t KvCache::capacity(int32_t seq) const {
  if (seq < 0 || seq >= opts_.max_sequences) return 0;
  return static_cast<int32_t>(tables_[static_cast<size_t>(seq)].size()) * opts_.block_size;
}

KvSeqView KvCache::view(int32_t layer, int32_t seq) const {
  KvSeqView v;
  v.k_pool = reinterpret_cast<uint16_t*>(k_.data()) + per_layer_ * static_cast<size_t>(layer);
  v.v_pool = reinterpret_cast<uint16_t*>(v_.data()) + per_layer_ * static_cast<size_t>(layer);
  v.blocks = tables_[static_cast<size_t>(seq)].data();
  v.block_size = opts_.block_size;
  v.n_kv_heads = opts_.n_kv_heads;
  v.head_dim = opts_.head_dim;
  return v;
}

}  // namespace slm
