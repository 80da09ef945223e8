// page_stats: resident and huge-page bytes of the mappings behind address ranges (/proc/self/smaps).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include "src/engine/page_stats.h"

TEST_CASE("page_stats counts the resident bytes of the mappings that hold the ranges") {
  const size_t n = size_t{16} << 20;
  std::unique_ptr<uint8_t[]> buf(new uint8_t[n]);
  std::memset(buf.get(), 1, n);  // every page resident
  const std::pair<const void*, size_t> range[] = {{buf.get() + 4096, 1}};
  const slm::PageStats s = slm::page_stats(range);
#ifdef __linux__
  REQUIRE(s.available);
  CHECK(s.resident >= n - 4096);  // the whole mapping that holds the one byte
  CHECK(s.huge <= s.resident);
  // Two ranges in one mapping count it once.
  const std::pair<const void*, size_t> twice[] = {{buf.get(), 1}, {buf.get() + n / 2, 1}};
  CHECK(slm::page_stats(twice).resident == doctest::Approx(static_cast<double>(s.resident)).epsilon(0.05));
  // No range, or an empty one: nothing.
  CHECK(slm::page_stats({}).resident == 0);
  const std::pair<const void*, size_t> empty[] = {{buf.get(), 0}};
  CHECK(slm::page_stats(empty).resident == 0);
#else
  CHECK_FALSE(s.available);
#endif
}
