// HugePageBuffer: anonymous memory, 2 MiB aligned and advised for transparent huge pages. It holds
// the weights of MapMode::huge_pages (mapped_file.h) and the buffers that benchmarks read against
// them (the bandwidth probe, src/engine/bandwidth.h), so both stream memory on the same kind of
// pages: on the Zen 5 machine of bench/RESULTS.md a read ran at 44-48 GB/s on 4 KiB pages and 58-62
// on 2 MiB pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace slm {

// Zero-filled memory of `bytes`, 2 MiB aligned and advised for transparent huge pages (advice only:
// where THP is off it is ordinary memory). Throws slm::Error(io) naming `what` (what the memory is
// for: a file's path, "memory") when it cannot be allocated. Move-only.
class HugePageBuffer {
 public:
  HugePageBuffer() = default;
  explicit HugePageBuffer(size_t bytes, const std::string& what = "memory");
  HugePageBuffer(HugePageBuffer&& o) noexcept;
  HugePageBuffer& operator=(HugePageBuffer&& o) noexcept;
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;
  ~HugePageBuffer();

  uint8_t* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }

  // From now on the memory can only be read (writes fault): for contents filled once, as weights.
  void make_read_only() noexcept;
  // Writable again (a loader rearranging weights in place before make_read_only).
  void make_writable() noexcept;

 private:
  void* region_ = nullptr;  // what munmap releases: the aligned block plus up to 2 MiB of slack
  size_t region_size_ = 0;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace slm
