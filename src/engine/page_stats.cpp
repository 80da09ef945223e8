#include "src/engine/page_stats.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "src/model/model.h"
#include "src/model/weights.h"

namespace slm {

namespace {

// "Key:   1234 kB" -> bytes; 0 when the line is not of that form.
uint64_t kb_field(const std::string& line, size_t colon) {
  const char* p = line.c_str() + colon + 1;
  char* end = nullptr;
  const unsigned long long kb = std::strtoull(p, &end, 10);
  return end != p ? static_cast<uint64_t>(kb) * 1024 : 0;
}

}  // namespace

PageStats page_stats(std::span<const std::pair<const void*, size_t>> ranges) {
  PageStats s;
  std::ifstream in("/proc/self/smaps");
  if (!in) return s;
  s.available = true;
  bool counted = false;  // the current mapping overlaps a range
  std::string line;
  while (std::getline(in, line)) {
    // A mapping's header: "start-end perms offset dev inode [path]" (hex addresses); its fields
    // follow as "Key: value kB" lines.
    const size_t space = line.find(' ');
    const size_t dash = line.find('-');
    const bool header = space != std::string::npos && dash != std::string::npos && dash < space &&
                        line.find_first_not_of("0123456789abcdef-") == space;
    if (header) {
      char* end = nullptr;
      const uint64_t lo = std::strtoull(line.c_str(), &end, 16);
      const uint64_t hi = std::strtoull(line.c_str() + dash + 1, &end, 16);
      counted = std::any_of(ranges.begin(), ranges.end(), [&](const auto& r) {
        const uint64_t a = reinterpret_cast<uintptr_t>(r.first);
        return r.second > 0 && a < hi && a + r.second > lo;
      });
      continue;
    }
    const size_t colon = line.find(':');
    if (!counted || colon == std::string::npos) continue;
    const std::string_view key = std::string_view(line).substr(0, colon);
    if (key == "Rss")
      s.resident += kb_field(line, colon);
    else if (key == "AnonHugePages" || key == "FilePmdMapped" || key == "ShmemPmdMapped")
      s.huge += kb_field(line, colon);
  }
  return s;
}

PageStats weight_page_stats(const LoadedModel& model) {
  std::vector<std::pair<const void*, size_t>> ranges;
  const auto add = [&](const MatView& m) {
    if (m) ranges.emplace_back(m.data, m.bytes());
  };
  const Weights& w = model.weights();
  add(w.output);
  for (const LayerWeights& L : w.layers) {
    for (const MatView* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down, &L.router, &L.shexp_gate,
                             &L.shexp_up, &L.shexp_down})
      add(*m);
    for (const ExpertMats* e : {&L.exp_gate, &L.exp_up, &L.exp_down})
      for (const MatView& m : e->experts) add(m);
  }
  return page_stats(ranges);
}

}  // namespace slm
