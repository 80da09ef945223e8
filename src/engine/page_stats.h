// How the memory holding a model's weights is paged: resident bytes, and how many of them sit on
// 2 MiB huge pages (anonymous huge pages, or file folios mapped by one page-table entry). Streaming
// weights from 4 KiB pages misses the TLB at every page and measurably slows generation, so
// `slm bench` prints this beside its speeds. Read from /proc/self/smaps (Linux); elsewhere, or when
// that file cannot be read, `available` is false.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace slm {

class LoadedModel;

struct PageStats {
  bool available = false;
  uint64_t resident = 0;  // resident bytes of the mappings that hold the ranges
  uint64_t huge = 0;      // of those, bytes on 2 MiB pages
};

// Stats of every mapping that overlaps one of the ranges (each mapping counted once).
PageStats page_stats(std::span<const std::pair<const void*, size_t>> ranges);

// Stats of the mappings that hold the model's weight matrices.
PageStats weight_page_stats(const LoadedModel& model);

}  // namespace slm
