// Memory read bandwidth probe: how fast this machine streams a buffer far larger than its caches,
// with a given number of threads. Benchmarks print it beside their own GB/s so every figure is
// seen against the physical limit measured in the same run.
//
// The limit is the fastest of a few plain read patterns, because which one a core streams fastest
// differs between machines: one sequential stream per thread (what a simple copy loop does), and 4
// or 16 streams per thread read side by side with software prefetch ahead of each (what the
// generation kernels do). On a Zen 5 machine the single stream read within a few percent of the
// best; on an Intel Xeon it read 10-20% less than the prefetched streams, and generation was shown
// reading "more than the machine's bandwidth" (bench/RESULTS.md, session 16).
//
// The buffer is a HugePageBuffer (formats/huge_page_buffer.h), on 2 MiB pages as the weights are: a
// probe on 4 KiB pages would understate the limit the weights are read against.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "formats/huge_page_buffer.h"

namespace slm {

// The probe's read patterns, for benchmarks that time them their own way: pattern p (< kReadPatterns)
// over one chunk of kProbeChunkBytes at `chunk` (8-byte aligned); returns a sum of the words read.
inline constexpr size_t kProbeChunkBytes = size_t{4} << 20;
inline constexpr int kReadPatterns = 3;
const char* read_pattern_name(int pattern) noexcept;
uint64_t read_pattern_chunk(int pattern, const uint8_t* chunk) noexcept;

struct ReadPattern {
  const char* name;  // "1-stream", "4-streams-prefetched", ... (usable in benchmark names)
  double gb_per_s;   // best of the repetitions
};

struct BandwidthResult {
  double gb_per_s = 0;  // the best pattern's best repetition, 1 GB = 1e9 bytes
  size_t bytes = 0;     // buffer size
  std::array<ReadPattern, kReadPatterns> patterns{};  // each pattern's best repetition, in the order tried
};

// Reads a buffer of `bytes` (default 1 GiB) `reps` times per pattern with `threads` threads (0: all).
BandwidthResult probe_read_bandwidth(int threads, size_t bytes = size_t{1} << 30, int reps = 5);

}  // namespace slm
