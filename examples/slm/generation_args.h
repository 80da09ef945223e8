// Flags that `slm run` and `slm chat` share: sampling, threads, context size, huge-page loading.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "slm/slm.h"

namespace slm::cli {

// "TOKEN_ID+BIAS" / "TOKEN_ID-BIAS" (BIAS a decimal number or inf) as (id, signed bias); throws
// slm::Error naming --logit-bias and the value otherwise. Whether the id is in the vocabulary is the
// sampler's check.
std::pair<int32_t, float> parse_logit_bias(std::string_view value);

struct GenerationArgs {
  float temp = 0.8f;
  int64_t seed = -1;  // < 0: random
  int32_t top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int32_t repeat_last_n = 64;
  std::vector<std::string> logit_bias;  // TOKEN_ID+BIAS / TOKEN_ID-BIAS, as given
  int32_t threads = 0;
  int32_t ctx = 0;
  bool huge_pages = false;
  bool f32_attention = false;

  // --temp --seed --top-k --top-p --min-p --repeat-penalty --presence-penalty --frequency-penalty
  // --repeat-last-n --logit-bias -t -c --hugepages --f32-attention
  void add_to(CLI::App* sub);
  SamplerOptions sampling() const;  // throws slm::Error naming --logit-bias for a malformed value
  LoadOptions load() const { return {.huge_pages = huge_pages}; }
  SessionOptions session() const;  // context size, threads, attention arithmetic (the rest at its defaults)
};

}  // namespace slm::cli
