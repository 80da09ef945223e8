#include "src/engine/bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "src/engine/thread_pool.h"

namespace slm {

BandwidthResult probe_read_bandwidth(int threads, size_t bytes, int reps) {
  const size_t n = bytes / sizeof(uint64_t);
  HugePageBuffer mem(n * sizeof(uint64_t));
  uint64_t* buf = reinterpret_cast<uint64_t*>(mem.data());
  for (size_t i = 0; i < n; ++i) buf[i] = i * 0x9E3779B97F4A7C15ull;  // touch every page
  ThreadPool pool(threads);
  std::atomic<uint64_t> sink{0};
  BandwidthResult r;
  r.bytes = n * sizeof(uint64_t);
  for (int rep = 0; rep < reps; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    // Chunks of 1 MiB so every thread streams long runs; eight independent accumulators keep the
    // loads, not the adds, the bottleneck.
    const int64_t chunk = (1 << 20) / sizeof(uint64_t);
    pool.parallel_for(static_cast<int64_t>(n / chunk), 1, [&](int64_t c0, int64_t c1) {
      uint64_t a[8] = {};
      const uint64_t* p = buf + c0 * chunk;
      const uint64_t* end = buf + c1 * chunk;
      for (; p < end; p += 8)
        for (int k = 0; k < 8; ++k) a[k] += p[k];
      uint64_t s = 0;
      for (uint64_t x : a) s += x;
      sink.fetch_add(s, std::memory_order_relaxed);
    });
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.gb_per_s = std::max(r.gb_per_s, static_cast<double>(r.bytes) / sec / 1e9);
  }
  if (sink.load() == 42) r.gb_per_s += 0;  // keep the reads observable
  return r;
}

}  // namespace slm
