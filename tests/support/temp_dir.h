// A test's own folder under the system's temporary directory: a fresh name (mkdtemp), so test
// processes running side by side never share one, and removed with everything in it when the
// object goes, so test runs leave nothing behind.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace slm::test {

class TempDir {
 public:
  // A folder named slm-<name>-XXXXXX.
  explicit TempDir(const std::string& name = "test") {
    std::string pattern = (std::filesystem::temp_directory_path() / ("slm-" + name + "-XXXXXX")).string();
    REQUIRE_MESSAGE(::mkdtemp(pattern.data()) != nullptr, "could not create a folder like " << pattern);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::filesystem::path operator/(const std::string& name) const { return path / name; }

  void write(const std::string& name, std::string_view text) const {
    std::ofstream(path / name, std::ios::binary) << text;
  }
  void write(const std::string& name, std::span<const uint8_t> bytes) const {
    std::ofstream(path / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }

  std::filesystem::path path;
};

}  // namespace slm::test
