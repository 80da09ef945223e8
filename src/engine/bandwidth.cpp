#include "src/engine/bandwidth.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "slm/error.h"
#include "src/engine/thread_pool.h"

namespace slm {

namespace {
constexpr size_t kHuge = size_t{2} << 20;
}

HugePageBuffer::HugePageBuffer(size_t bytes) {
  if (bytes == 0) return;
  if (bytes > SIZE_MAX - kHuge) throw Error(ErrorKind::io, "memory", "buffer of " + std::to_string(bytes) + " bytes is too large");
  region_size_ = bytes + kHuge;
  region_ = ::mmap(nullptr, region_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region_ == MAP_FAILED) {
    region_ = nullptr;
    throw Error(ErrorKind::io, "memory", "cannot allocate " + std::to_string(bytes) + " bytes: " + std::strerror(errno));
  }
  const uintptr_t start = reinterpret_cast<uintptr_t>(region_);
  data_ = static_cast<uint8_t*>(region_) + ((kHuge - start % kHuge) % kHuge);
  size_ = bytes;
  ::madvise(data_, size_, MADV_HUGEPAGE);  // advice only
}

HugePageBuffer::HugePageBuffer(HugePageBuffer&& o) noexcept
    : region_(std::exchange(o.region_, nullptr)),
      region_size_(std::exchange(o.region_size_, 0)),
      data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)) {}

HugePageBuffer& HugePageBuffer::operator=(HugePageBuffer&& o) noexcept {
  if (this != &o) {
    if (region_) ::munmap(region_, region_size_);
    region_ = std::exchange(o.region_, nullptr);
    region_size_ = std::exchange(o.region_size_, 0);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

HugePageBuffer::~HugePageBuffer() {
  if (region_) ::munmap(region_, region_size_);
}

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
