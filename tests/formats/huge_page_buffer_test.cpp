// HugePageBuffer: the huge-page memory of MapMode::huge_pages and of the bandwidth probe.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "formats/huge_page_buffer.h"
#include "slm/error.h"

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

TEST_CASE("HugePageBuffer: an impossible size is an error naming what the memory was for") {
  try {
    slm::HugePageBuffer b(SIZE_MAX - 1, "weights.gguf");
    FAIL("no error");
  } catch (const slm::Error& e) {
    CHECK(e.kind() == slm::ErrorKind::io);
    CHECK(std::string(e.what()).find("weights.gguf") != std::string::npos);
  }
  try {
    slm::HugePageBuffer b(size_t{1} << 62, "probe");  // passes the overflow check; mmap refuses it
    FAIL("no error");
  } catch (const slm::Error& e) {
    CHECK(e.kind() == slm::ErrorKind::io);
    CHECK(std::string(e.what()).find("probe") != std::string::npos);
  }
}
