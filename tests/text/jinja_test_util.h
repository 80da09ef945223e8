// Helpers for the Jinja interpreter's tests: render a template over a JSON context, and check the
// kind and text of the slm::Error a template raises.
//
// Expectations are written with raw strings delimited by J: CHECK_RENDERS(R"J(template)J",
// R"J(context)J", R"J(expected)J"), so that a script can pull the triples out and run them through
// Python's Jinja2 when one is at hand (the tests themselves never need it).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "slm/error.h"
#include "src/text/jinja/template.h"

namespace slm::jinja::test {

inline std::string render(std::string_view source, std::string_view context_json = "{}",
                          const RenderOptions& options = {}) {
  const auto context = nlohmann::ordered_json::parse(context_json);
  return Template::parse(source).render(context, options);
}

struct Failure {
  ErrorKind kind = ErrorKind::internal;
  std::string where;
  std::string detail;
  std::string what;
  bool thrown = false;
};

inline Failure render_failure(std::string_view source, std::string_view context_json = "{}",
                              const RenderOptions& options = {}) {
  Failure f;
  try {
    render(source, context_json, options);
  } catch (const Error& e) {
    f.kind = e.kind();
    f.where = e.where();
    f.detail = e.detail();
    f.what = e.what();
    f.thrown = true;
  }
  return f;
}

inline bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// The bound for "ends in well under a second": sanitizer builds run several times slower.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr double kQuickSeconds = 5.0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr double kQuickSeconds = 5.0;
#else
inline constexpr double kQuickSeconds = 1.0;
#endif
#else
inline constexpr double kQuickSeconds = 1.0;
#endif

// Seconds a callable takes, for the "ends in well under a second" checks.
template <typename F>
double seconds(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace slm::jinja::test

#define CHECK_RENDERS(source, context, expected) CHECK(::slm::jinja::test::render(source, context) == (expected))
