// Sampling options: how the next token is chosen from the logits.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace slm {

// The chain runs in this order: logit bias -> penalties (repetition, presence, frequency over the
// last `penalty_last_n` tokens) -> top-k -> top-p -> min-p -> temperature -> seeded draw.
// temperature <= 0 is greedy: the argmax after bias and penalties.
struct SamplerOptions {
  float temperature = 0.8f;
  int32_t top_k = 40;            // <= 0: off
  float top_p = 0.95f;           // >= 1: off
  float min_p = 0.05f;           // <= 0: off
  float repeat_penalty = 1.0f;   // 1: off. Positive logits are divided by it, negative multiplied
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int32_t penalty_last_n = 64;   // recent tokens the penalties look at (-1: all)
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token id, value added to its logit); -inf bans
                                                      // a token, +inf forces it (several share the draws)
  uint64_t seed = 0;             // same seed, same inputs: same tokens

  static SamplerOptions greedy() {
    SamplerOptions o;
    o.temperature = 0.0f;
    return o;
  }
};

}  // namespace slm
