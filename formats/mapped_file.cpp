#include "formats/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "slm/error.h"

namespace slm {

namespace {

constexpr size_t kHuge = size_t{2} << 20;  // a transparent huge page

// Copies a file mapping's bytes into memory on transparent huge pages (see the header), in steps,
// each step's file pages released from this process right after.
HugePageBuffer copy_to_huge_pages(const std::filesystem::path& path, const uint8_t* src, size_t size) {
  constexpr size_t kStep = size_t{8} << 20;
  HugePageBuffer copy(size, path.string());
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  for (size_t off = 0; off < size; off += kStep) {
    const size_t n = std::min(kStep, size - off);
    std::memcpy(copy.data() + off, src + off, n);
    // The file's pages of this step leave this process (the page cache may keep them).
    const uintptr_t a = (reinterpret_cast<uintptr_t>(src + off) / page) * page;
    const uintptr_t b = (reinterpret_cast<uintptr_t>(src + off + n) / page) * page;
    if (b > a) ::madvise(reinterpret_cast<void*>(a), b - a, MADV_DONTNEED);
  }
  copy.make_read_only();
  return copy;
}

// Maps the whole file read-only at a 2 MiB-aligned address, advised for huge pages (see the header):
// where the page cache holds the file in 2 MiB folios (file systems with large folios, Linux 6.x),
// each is mapped by one page-table entry, and page faults on uncached parts read 2 MiB folios.
// Returns MAP_FAILED (errno set) when the file cannot be mapped.
void* map_file_aligned(int fd, size_t size) {
  void* p = MAP_FAILED;
  if (size <= SIZE_MAX - kHuge) {
    // Reserve the size plus 2 MiB of address space, place the file at the aligned address inside,
    // and give back the slack on both sides.
    void* r = ::mmap(nullptr, size + kHuge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r != MAP_FAILED) {
      const uintptr_t start = reinterpret_cast<uintptr_t>(r);
      const uintptr_t aligned = (start + kHuge - 1) / kHuge * kHuge;
      p = ::mmap(reinterpret_cast<void*>(aligned), size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
      if (p == MAP_FAILED) {
        const int e = errno;
        ::munmap(r, size + kHuge);
        errno = e;
        return MAP_FAILED;
      }
      const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
      const uintptr_t end = (aligned + size + page - 1) / page * page;
      if (aligned > start) ::munmap(r, aligned - start);
      if (start + size + kHuge > end) ::munmap(reinterpret_cast<void*>(end), start + size + kHuge - end);
    }
  }
  if (p == MAP_FAILED) p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);  // plain mapping
  if (p != MAP_FAILED) ::madvise(p, size, MADV_HUGEPAGE);  // advice only
  return p;
}

}  // namespace

MappedFile MappedFile::open(const std::filesystem::path& path, MapMode mode) {
  MappedFile m;
  m.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorKind::io, path.string(), std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw Error(ErrorKind::io, path.string(), std::string("cannot stat: ") + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(ErrorKind::io, path.string(), "not a regular file");
  }
  m.size_ = static_cast<size_t>(st.st_size);
  if (m.size_ > 0) {
    void* p = map_file_aligned(fd, m.size_);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      throw Error(ErrorKind::io, path.string(), std::string("cannot mmap: ") + std::strerror(e));
    }
    m.data_ = static_cast<const uint8_t*>(p);
    m.region_ = p;
    m.region_size_ = m.size_;
    if (mode == MapMode::huge_pages) {
      try {
        m.copy_ = copy_to_huge_pages(path, m.data_, m.size_);
      } catch (...) {
        ::close(fd);
        throw;  // m's destructor unmaps the file
      }
      ::munmap(p, m.size_);
      m.data_ = m.copy_.data();
      m.region_ = nullptr;
      m.region_size_ = 0;
    }
  }
  ::close(fd);
  return m;
}

bool MappedFile::unseal() noexcept {
  if (!copy_.data()) return false;
  copy_.make_writable();
  return true;
}

void MappedFile::seal() noexcept { copy_.make_read_only(); }

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      region_(std::exchange(o.region_, nullptr)),
      region_size_(std::exchange(o.region_size_, 0)),
      copy_(std::move(o.copy_)),
      path_(std::move(o.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (region_) ::munmap(region_, region_size_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    region_ = std::exchange(o.region_, nullptr);
    region_size_ = std::exchange(o.region_size_, 0);
    copy_ = std::move(o.copy_);
    path_ = std::move(o.path_);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (region_) ::munmap(region_, region_size_);
}

}  // namespace slm
