// MappedFile: the file mapping and the huge-page copy hold the same bytes; errors name the file.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "formats/mapped_file.h"
#include "slm/error.h"

namespace fs = std::filesystem;

TEST_CASE("MapMode::huge_pages gives the file's bytes, like the mapping") {
  const fs::path p = fs::temp_directory_path() / ("slm-mapped-" + std::to_string(::getpid()) + ".bin");
  std::vector<char> bytes((size_t{19} << 20) + 123);  // past two 8 MiB copy steps, not page-aligned
  std::mt19937 rng(9);
  for (auto& b : bytes) b = static_cast<char>(rng());
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));

  const auto mapped = slm::MappedFile::open(p);
  auto copied = slm::MappedFile::open(p, slm::MapMode::huge_pages);
  REQUIRE(mapped.size() == bytes.size());
  REQUIRE(copied.size() == bytes.size());
  CHECK(std::equal(bytes.begin(), bytes.end(), reinterpret_cast<const char*>(copied.data())));
  CHECK(std::equal(bytes.begin(), bytes.end(), reinterpret_cast<const char*>(mapped.data())));
  CHECK(reinterpret_cast<uintptr_t>(copied.data()) % (size_t{2} << 20) == 0);  // huge-page aligned
  CHECK(reinterpret_cast<uintptr_t>(mapped.data()) % (size_t{2} << 20) == 0);  // file folios can map whole

  // A file shorter than a page maps aligned too, and its bytes read back.
  const fs::path small = p.string() + ".small";
  std::ofstream(small, std::ios::binary).write(bytes.data(), 123);
  {
    const auto m = slm::MappedFile::open(small);
    REQUIRE(m.size() == 123);
    CHECK(reinterpret_cast<uintptr_t>(m.data()) % (size_t{2} << 20) == 0);
    CHECK(std::equal(bytes.begin(), bytes.begin() + 123, reinterpret_cast<const char*>(m.data())));
  }
  fs::remove(small);

  slm::MappedFile moved = std::move(copied);
  CHECK(moved.size() == bytes.size());
  CHECK(copied.data() == nullptr);
  CHECK(moved.data()[bytes.size() - 1] == static_cast<uint8_t>(bytes.back()));

  const fs::path empty = p.string() + ".empty";
  std::ofstream(empty, std::ios::binary).close();
  CHECK(slm::MappedFile::open(empty, slm::MapMode::huge_pages).size() == 0);
  try {
    (void)slm::MappedFile::open(p.string() + ".missing", slm::MapMode::huge_pages);
    FAIL("no error");
  } catch (const slm::Error& e) {
    CHECK(e.kind() == slm::ErrorKind::io);
    CHECK(std::string(e.what()).find(".missing") != std::string::npos);
  }
  fs::remove(p);
  fs::remove(empty);
}
