// The sampler's cost per token: one Sampler::sample call over a row of logits of a real model's
// vocabulary size (Llama 2 / PEERS.md's 32,000; Llama 3's 128,256; Qwen3's 151,936), for the
// sampling chains users run. Logits are N(0, 3) (a flatter row than most models give: top-p then
// needs longer prefixes), with a 200-token history for the penalties.
//
// build/release/bench/bench_sampler [--benchmark_filter=REGEX]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "src/sample/sampler.h"

namespace {

enum class Chain { greedy, defaults, defaults_repeat, top_k_off, temperature_only };

slm::SamplerOptions options(Chain c) {
  slm::SamplerOptions o;  // temperature 0.8, top-k 40, top-p 0.95, min-p 0.05
  switch (c) {
    case Chain::greedy:
      return slm::SamplerOptions::greedy();
    case Chain::defaults:
      break;
    case Chain::defaults_repeat:
      o.repeat_penalty = 1.1f;
      break;
    case Chain::top_k_off:
      o.top_k = 0;
      break;  // top-p and min-p over the whole vocabulary
    case Chain::temperature_only:
      o.top_k = 0;
      o.top_p = 1.0f;
      o.min_p = 0.0f;
      break;
  }
  return o;
}

void run_sampler(benchmark::State& state, Chain chain) {
  const auto vocab = static_cast<size_t>(state.range(0));
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  std::vector<float> logits(vocab);
  for (auto& x : logits) x = nd(rng);
  std::vector<int32_t> history(200);
  for (auto& h : history) h = static_cast<int32_t>(rng() % vocab);
  slm::Sampler s(options(chain));
  for (auto _ : state) benchmark::DoNotOptimize(s.sample(logits, history));
  state.SetItemsProcessed(state.iterations());  // items_per_second: tokens sampled per second
}

}  // namespace

#define SLM_SAMPLER_BENCH(name, chain)        \
  BENCHMARK_CAPTURE(run_sampler, name, chain) \
      ->Arg(32000)                            \
      ->Arg(128256)                           \
      ->Arg(151936)                           \
      ->Unit(benchmark::kMicrosecond)

SLM_SAMPLER_BENCH(greedy, Chain::greedy);
SLM_SAMPLER_BENCH(defaults, Chain::defaults);
SLM_SAMPLER_BENCH(defaults_repeat_penalty, Chain::defaults_repeat);
SLM_SAMPLER_BENCH(top_k_off, Chain::top_k_off);
SLM_SAMPLER_BENCH(temperature_only, Chain::temperature_only);

BENCHMARK_MAIN();
