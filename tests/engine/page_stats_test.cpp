// page_stats: resident and huge-page bytes of the mappings behind address ranges (/proc/self/smaps);
// HugePageBuffer, the huge-page memory of the bandwidth probe.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include "src/engine/bandwidth.h"
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

TEST_CASE("HugePageBuffer: 2 MiB aligned, zero-filled, writable, moves its memory") {
  const size_t n = (size_t{3} << 20) + 5;  // not a whole number of huge pages
  slm::HugePageBuffer b(n);
  REQUIRE(b.data() != nullptr);
  CHECK(b.size() == n);
  CHECK(reinterpret_cast<uintptr_t>(b.data()) % (size_t{2} << 20) == 0);
  CHECK(b.data()[0] == 0);
  CHECK(b.data()[n - 1] == 0);
  std::memset(b.data(), 7, n);
  CHECK(b.data()[n - 1] == 7);
  uint8_t* const p = b.data();
  slm::HugePageBuffer moved(std::move(b));
  CHECK(moved.data() == p);
  CHECK(moved.size() == n);
  CHECK(b.data() == nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  CHECK(b.size() == 0);
  slm::HugePageBuffer empty(0);
  CHECK(empty.data() == nullptr);
  empty = std::move(moved);
  CHECK(empty.data() == p);
  CHECK(empty.data()[n / 2] == 7);
}
