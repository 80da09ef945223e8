// Flags that `slm run` and `slm chat` share: sampling, threads, context size, huge-page loading.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>

#include "slm/slm.h"

namespace slm::cli {

struct GenerationArgs {
  float temp = 0.8f;
  int64_t seed = -1;  // < 0: random
  int32_t top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  int32_t repeat_last_n = 64;
  int32_t threads = 0;
  int32_t ctx = 0;
  bool huge_pages = false;
  bool f32_attention = false;

  // --temp --seed --top-k --top-p --min-p --repeat-penalty --repeat-last-n -t -c --hugepages
  // --f32-attention
  void add_to(CLI::App* sub);
  SamplerOptions sampling() const;
  LoadOptions load() const { return {.huge_pages = huge_pages}; }
  SessionOptions session() const;  // context size, threads, attention arithmetic (the rest at its defaults)
};

}  // namespace slm::cli
