// Decoding several sequences at once: one forward pass per step over one new token of each of S
// streams, as a server batching S concurrent requests runs them (PEERS.md, "Concurrent generation":
// llama-server's aggregate tokens/s at 1, 4 and 16 streams). A step reads the weights once for all
// streams, so the aggregate rate can grow far past one stream's, up to what the matrix kernels do
// with S tokens (S >= 8 takes the prompt-processing panels).
//
//   build/release/bench/bench_decode [--benchmark_filter=...]
//
// Model: PEERS.md's 1B shape as Q4_K_M, random weights (slm::peers_synthetic_model; written once to
// the temporary directory, shared with `slm bench --synthetic`); SLM_BENCH_MODEL=TYPE[:SHAPE] picks
// another. Each stream starts with its own 64-token random prompt and decodes positions 64..127,
// then starts over from its prompt (the cache keeps the prompts), so every step attends over about
// 96 positions per stream. Threads: 2 (this project's machine), or SLM_BENCH_THREADS.
//
// Reported: Time = one step; items_per_second = generated tokens per second over all streams (the
// aggregate). Its ratio to streams:1 of the same run is the concurrency gain.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "src/engine/thread_pool.h"
#include "src/graph/forward.h"
#include "src/kv/kv_cache.h"
#include "src/model/model.h"
#include "src/model/synthetic.h"

namespace {

constexpr int32_t kPrompt = 64;
constexpr int32_t kDecode = 64;
constexpr int32_t kMaxStreams = 16;

const slm::LoadedModel& model() {
  static const std::shared_ptr<const slm::LoadedModel> m = [] {
    const char* spec = std::getenv("SLM_BENCH_MODEL");
    return slm::LoadedModel::load(slm::peers_synthetic_model(spec ? spec : "q4_k_m"));
  }();
  return *m;
}

int threads() {
  const char* t = std::getenv("SLM_BENCH_THREADS");
  return t ? std::max(1, std::atoi(t)) : 2;
}

void decode_streams(benchmark::State& state) {
  const auto streams = static_cast<int32_t>(state.range(0));
  const slm::LoadedModel& m = model();
  const auto& cfg = m.config();
  slm::ThreadPool pool(threads());
  slm::KvCache kv(slm::KvCacheOptions{
      static_cast<int32_t>(cfg.n_layers), static_cast<int32_t>(cfg.n_kv_heads),
      static_cast<int32_t>(cfg.head_dim), 32, kMaxStreams * (kPrompt + kDecode), kMaxStreams});
  slm::Forward forward(cfg, m.weights(), slm::AttentionPrecision::f16_accumulate);
  std::vector<float> logits(static_cast<size_t>(streams) * cfg.vocab_size);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(cfg.vocab_size) - 1);

  // Each stream's prompt, in one pass per stream (untimed).
  std::vector<slm::BatchEntry> batch;
  for (int32_t s = 0; s < streams; ++s) {
    kv.reserve(s, kPrompt + kDecode);
    batch.clear();
    for (int32_t p = 0; p < kPrompt; ++p) batch.push_back({s, p, tok(rng), p + 1 == kPrompt});
    forward.run(pool, batch, kv, logits.data());
  }

  int32_t pos = kPrompt;
  for (auto _ : state) {
    // Start over after the prompts: the cache keeps them, and a step at position p attends over
    // [0, p] only, so the rows past it from the last round are never read, only overwritten.
    if (pos == kPrompt + kDecode) pos = kPrompt;
    batch.clear();
    for (int32_t s = 0; s < streams; ++s) batch.push_back({s, pos, tok(rng), true});
    forward.run(pool, batch, kv, logits.data());
    benchmark::DoNotOptimize(logits.data());
    ++pos;
  }
  state.SetItemsProcessed(state.iterations() * streams);
  state.SetLabel(std::to_string(streams) + " stream(s), " + std::to_string(threads()) + " thread(s), " +
                 m.path().filename().string());
}

BENCHMARK(decode_streams)->ArgName("streams")->Arg(1)->Arg(2)->Arg(4)->Arg(6)->Arg(8)->Arg(16)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
