// Memory read bandwidth probe: how fast this machine streams a buffer far larger than its caches,
// with a given number of threads. Benchmarks print it beside their own GB/s so every figure is
// seen against the physical limit measured in the same run.
//
// The buffer is a HugePageBuffer (formats/huge_page_buffer.h), on 2 MiB pages as the weights are: a
// probe on 4 KiB pages would understate the limit the weights are read against.
#pragma once

#include <cstddef>
#include <cstdint>

#include "formats/huge_page_buffer.h"

namespace slm {

struct BandwidthResult {
  double gb_per_s = 0;  // best of the repetitions, 1 GB = 1e9 bytes
  size_t bytes = 0;     // buffer size
};

// Reads a buffer of `bytes` (default 1 GiB) `reps` times with `threads` threads (0: all).
BandwidthResult probe_read_bandwidth(int threads, size_t bytes = size_t{1} << 30, int reps = 5);

}  // namespace slm
