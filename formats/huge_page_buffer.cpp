#include "formats/huge_page_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "slm/error.h"

namespace slm {

namespace {
constexpr size_t kHuge = size_t{2} << 20;  // a transparent huge page
}

HugePageBuffer::HugePageBuffer(size_t bytes, const std::string& what) {
  if (bytes == 0) return;
  if (bytes > SIZE_MAX - kHuge) throw Error(ErrorKind::io, what, std::to_string(bytes) + " bytes are too many to allocate");
  // Reserve 2 MiB more than asked and start at the first 2 MiB boundary inside.
  region_size_ = bytes + kHuge;
  region_ = ::mmap(nullptr, region_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region_ == MAP_FAILED) {
    region_ = nullptr;
    region_size_ = 0;
    throw Error(ErrorKind::io, what, "cannot allocate " + std::to_string(bytes) + " bytes: " + std::strerror(errno));
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

void HugePageBuffer::make_read_only() noexcept {
  if (region_) ::mprotect(region_, region_size_, PROT_READ);
}

void HugePageBuffer::make_writable() noexcept {
  if (region_) ::mprotect(region_, region_size_, PROT_READ | PROT_WRITE);
}

}  // namespace slm
