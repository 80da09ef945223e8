// A read-only memory mapping of a whole file (POSIX mmap), released on destruction.
//
// The file is mapped at a 2 MiB-aligned address and advised for transparent huge pages
// (MADV_HUGEPAGE): on Linux 6.x file systems with large folios (ext4, xfs, ...) the page cache then
// reads the file in 2 MiB folios and each is mapped by one page-table entry, so streaming the
// weights misses the TLB as rarely as huge-page memory does, with nothing copied. Parts of the file
// the page cache already holds in small folios stay on 4 KiB pages (`slm bench` reports the share).
//
// MapMode::huge_pages reads the file instead into a HugePageBuffer, anonymous memory that the
// kernel is asked to back with 2 MiB transparent huge pages (madvise): streaming it then misses the
// TLB far less than through 4 KiB file pages (5-15% faster generation measured, bench/RESULTS.md).
// The copy is made in 8 MiB steps, each step's file pages released from this process right after,
// so resident memory never holds much more than one copy; the pages are private (not shared with
// other processes) and read-only once filled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "formats/huge_page_buffer.h"

namespace slm {

enum class MapMode { file, huge_pages };

class MappedFile {
 public:
  // Throws slm::Error(io) naming the path when the file cannot be opened, mapped or (huge_pages)
  // copied into memory.
  static MappedFile open(const std::filesystem::path& path, MapMode mode = MapMode::file);

  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const noexcept { return {data_, size_}; }
  const uint8_t* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }
  const std::filesystem::path& path() const noexcept { return path_; }

  // MapMode::huge_pages: the copy is writable between unseal() and seal() (a loader rearranging
  // weights in place), read-only otherwise. unseal() returns false, and nothing may be written,
  // for a file mapping.
  bool unseal() noexcept;
  void seal() noexcept;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* region_ = nullptr;   // the file mapping, munmapped on destruction (none with huge_pages)
  size_t region_size_ = 0;
  HugePageBuffer copy_;      // MapMode::huge_pages: the file's bytes
  std::filesystem::path path_;
};

}  // namespace slm
