// forward(batch): one pass of the transformer over a batch of (sequence, position, token) entries.
//
// One function for every architecture: differences (QK-norm, biases, RoPE style and scaling,
// activation, post-norms, sliding windows, soft-capping, experts) are data in ModelConfig and
// optional fields of Weights. Entries of one sequence must come in position order; positions
// before an entry's own must already be in the KV cache or earlier in the same batch.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "src/engine/thread_pool.h"
#include "src/graph/attention.h"
#include "src/graph/matmul.h"
#include "src/kv/kv_cache.h"
#include "src/model/config.h"
#include "src/model/weights.h"

namespace slm {

struct BatchEntry {
  int32_t seq = 0;
  int32_t pos = 0;
  int32_t token = 0;
  bool logits = false;  // write this entry's logits
};

class Forward {
 public:
  Forward(const ModelConfig& cfg, const Weights& w, AttentionPrecision precision = AttentionPrecision::f16_accumulate);

  // Runs the batch. Logits of the entries with logits=true go to `logits` as consecutive rows of
  // cfg.vocab_size floats, in batch order. The caller has reserved KV room for every entry.
  void run(ThreadPool& pool, std::span<const BatchEntry> batch, KvCache& kv, float* logits);

  // Per-layer count of tokens routed to each expert since construction or the last reset
  // ([layer][expert]; empty for dense models).
  const std::vector<std::vector<uint64_t>>& expert_counts() const noexcept { return expert_counts_; }
  // Weight bytes the matrix products have streamed since construction (each call counts its whole
  // matrix: rows x row bytes; MoE layers count only the experts that ran).
  uint64_t weight_bytes_read() const noexcept { return mm_.weight_bytes; }
  void reset_expert_counts();
  // Smallest gap, over every token and layer since construction or the last reset, between the
  // routing probability of the last chosen expert (when above 0.02) and that of the first unchosen
  // one (infinity for dense models). Near 0 means a routing near-tie that matters: a last-bit
  // difference could swap an expert with real weight for another.
  float min_routing_margin() const noexcept { return min_routing_margin_; }

 private:
  void attention(ThreadPool& pool, int layer, std::span<const BatchEntry> batch, KvCache& kv);
  void rope_tables(ThreadPool& pool, std::span<const BatchEntry> batch);  // cos/sin per token, once per run
  void rope(int layer, int64_t t0, int64_t t1);                          // q_ and k_ of tokens [t0, t1)
  void dense_ffn(ThreadPool& pool, const LayerWeights& L, int64_t n);
  void moe_ffn(ThreadPool& pool, int layer, const LayerWeights& L, int64_t n);
  void rope_cos_sin(const std::vector<float>& freq, int32_t pos, float* cos, float* sin) const;

  const ModelConfig& cfg_;
  const Weights& w_;
  AttentionPrecision precision_;
  std::vector<float> inv_freq_;        // [rope_dim/2]: angular frequency per rotary pair
  std::vector<float> inv_freq_local_;  // the same for sliding-window layers
  std::vector<float> rope_cs_, rope_cs_local_;  // per batch token: cos [rope_dim/2], then sin [rope_dim/2]

  // Scratch, grown to the largest batch seen. Shapes per token: x, xn, ffn_out [d_model];
  // q, att [n_heads*head_dim]; k, v [kv_dim]; gate, up [max(ffn_dim, experts used * expert_ffn_dim)].
  std::vector<float> x_, xn_, q_, k_, v_, att_, proj_, gate_, up_, ffn_out_;
  std::vector<float> router_logits_, moe_x_, moe_y_;  // moe_*: [n * experts used][d_model]
  std::vector<float> shexp_gate_, shexp_up_, shexp_y_;  // shared expert
  MatmulScratch mm_;
  std::vector<std::vector<uint64_t>> expert_counts_;
  float min_routing_margin_ = INFINITY;
};

}  // namespace slm
