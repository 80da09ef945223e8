#include "src/engine/bandwidth.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <utility>

#include "src/engine/thread_pool.h"

namespace slm {

namespace {

constexpr size_t kChunkBytes = kProbeChunkBytes;  // what one task reads: long runs per thread
constexpr size_t kLine = 64;

// Sums the chunk at `base` as S streams read side by side (stream s: the chunk's s-th of S equal
// parts), one 64-byte line of each per step; with `prefetch`, each stream is prefetched 16 lines
// ahead (addresses formed as integers: a prefetch past the buffer is harmless, a pointer past it
// would not be). Eight independent accumulators keep the loads, not the adds, the bottleneck.
template <int S, bool kPrefetch>
uint64_t read_chunk(const uint64_t* base) {
  constexpr size_t kWords = kChunkBytes / sizeof(uint64_t), kPart = kWords / S, kAhead = 16 * kLine;
  uint64_t a[8] = {};
  for (size_t i = 0; i < kPart; i += 8) {
    for (int s = 0; s < S; ++s) {
      const uint64_t* p = base + s * kPart + i;
      if constexpr (kPrefetch)
        __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(p) + kAhead));
      for (int k = 0; k < 8; ++k) a[k] += p[k];
    }
  }
  uint64_t sum = 0;
  for (uint64_t x : a) sum += x;
  return sum;
}

using ChunkFn = uint64_t (*)(const uint64_t*);
constexpr std::array<std::pair<const char*, ChunkFn>, kReadPatterns> kPatterns = {{
    {"1-stream", read_chunk<1, false>},
    {"4-streams-prefetched", read_chunk<4, true>},
    {"16-streams-prefetched", read_chunk<16, true>},
}};

}  // namespace

const char* read_pattern_name(int pattern) noexcept { return kPatterns[static_cast<size_t>(pattern)].first; }

uint64_t read_pattern_chunk(int pattern, const uint8_t* chunk) noexcept {
  return kPatterns[static_cast<size_t>(pattern)].second(reinterpret_cast<const uint64_t*>(chunk));
}

BandwidthResult probe_read_bandwidth(int threads, size_t bytes, int reps) {
  const size_t chunks = std::max<size_t>(1, bytes / kChunkBytes);
  HugePageBuffer mem(chunks * kChunkBytes);
  uint64_t* buf = reinterpret_cast<uint64_t*>(mem.data());
  const size_t n = chunks * kChunkBytes / sizeof(uint64_t);
  for (size_t i = 0; i < n; ++i) buf[i] = i * 0x9E3779B97F4A7C15ull;  // touch every page
  ThreadPool pool(threads);
  std::atomic<uint64_t> sink{0};
  BandwidthResult r;
  r.bytes = n * sizeof(uint64_t);
  for (size_t p = 0; p < kPatterns.size(); ++p) {
    r.patterns[p] = {kPatterns[p].first, 0.0};
    for (int rep = 0; rep < reps; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      pool.parallel_for(static_cast<int64_t>(chunks), 1, [&](int64_t c0, int64_t c1) {
        uint64_t s = 0;
        for (int64_t c = c0; c < c1; ++c)
          s += kPatterns[p].second(buf + static_cast<size_t>(c) * (kChunkBytes / sizeof(uint64_t)));
        sink.fetch_add(s, std::memory_order_relaxed);
      });
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      r.patterns[p].gb_per_s = std::max(r.patterns[p].gb_per_s, static_cast<double>(r.bytes) / sec / 1e9);
    }
    r.gb_per_s = std::max(r.gb_per_s, r.patterns[p].gb_per_s);
  }
  if (sink.load() == 42) r.gb_per_s += 0;  // keep the reads observable
  return r;
}

}  // namespace slm
