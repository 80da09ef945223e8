#include "src/model/weights.h"

#include "src/model/config.h"

namespace slm {

uint64_t bytes_per_token(const ModelConfig& c, const Weights& w, uint64_t all_weight_bytes) {
  uint64_t total = all_weight_bytes - w.token_embd.bytes() + w.token_embd.row_bytes;
  if (c.tied_embeddings) total += w.token_embd.bytes();
  if (c.n_experts > 0)
    for (const auto& layer : w.layers)
      for (const ExpertMats* e : {&layer.exp_gate, &layer.exp_up, &layer.exp_down})
        total -= (e->experts.empty() ? 0 : e->experts[0].bytes()) * (c.n_experts - c.n_experts_used);
  return total;
}

}  // namespace slm
