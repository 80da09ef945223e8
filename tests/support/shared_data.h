// Locating ../shared (test models, references, vocabularies, templates).
//
// Tests that need it call SLM_REQUIRE_SHARED("models/x.gguf"): when the file is absent (a user's
// fresh clone has no ../shared) the test prints why and returns without failing.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace slm::test {

inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("SLM_SHARED_DIR"); env && *env) return env;
  return SLM_SHARED_DIR_DEFAULT;
}

// Full path of a file under ../shared, or nullopt when it is absent.
inline std::optional<std::filesystem::path> shared_path(const std::string& rel) {
  auto p = shared_dir() / rel;
  std::error_code ec;
  if (std::filesystem::exists(p, ec)) return p;
  return std::nullopt;
}

inline std::string read_text_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace slm::test

#define SLM_REQUIRE_SHARED(rel)                                                             \
  ([&]() -> std::optional<std::filesystem::path> {                                          \
    auto p_ = ::slm::test::shared_path(rel);                                                \
    if (!p_) MESSAGE("skipped: ../shared/" << (rel) << " not found (set SLM_SHARED_DIR)"); \
    return p_;                                                                              \
  }())
