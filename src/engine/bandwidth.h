// Memory read bandwidth probe: how fast this machine streams a buffer far larger than its caches,
// with a given number of threads. Benchmarks print it beside their own GB/s so every figure is
// seen against the physical limit measured in the same run.
//
// The buffer is advised for 2 MiB transparent huge pages, as the weights are (formats/mapped_file.h):
// on the Zen 5 machine of bench/RESULTS.md the same read ran at 44-48 GB/s on 4 KiB pages and 58-62
// on 2 MiB pages, so a probe on small pages understates the limit the weights are read against.
#pragma once

#include <cstddef>
#include <cstdint>

namespace slm {

// Zero-filled anonymous memory of `bytes`, 2 MiB aligned and advised for transparent huge pages
// (advice only: where THP is off it is ordinary memory). Throws slm::Error(io) when it cannot be
// allocated. Move-only.
class HugePageBuffer {
 public:
  HugePageBuffer() = default;
  explicit HugePageBuffer(size_t bytes);
  HugePageBuffer(HugePageBuffer&& o) noexcept;
  HugePageBuffer& operator=(HugePageBuffer&& o) noexcept;
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;
  ~HugePageBuffer();

  uint8_t* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }

 private:
  void* region_ = nullptr;
  size_t region_size_ = 0;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

struct BandwidthResult {
  double gb_per_s = 0;  // best of the repetitions, 1 GB = 1e9 bytes
  size_t bytes = 0;     // buffer size
};

// Reads a buffer of `bytes` (default 1 GiB) `reps` times with `threads` threads (0: all).
BandwidthResult probe_read_bandwidth(int threads, size_t bytes = size_t{1} << 30, int reps = 5);

}  // namespace slm
