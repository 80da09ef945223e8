// What a render may use: the clock strftime_now() reads and the limits that keep a hostile
// template's time and memory bounded. Exceeding any limit fails with
// slm::Error(template_runtime, "template line N", "... limit ... exceeded").
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>

namespace slm::jinja {

struct RenderLimits {
  std::size_t max_output_bytes = 32u << 20;    // the rendered text
  std::size_t max_string_bytes = 32u << 20;    // any one string value
  std::size_t max_items = 1u << 20;            // any one list or dict
  std::uint64_t max_steps = 5'000'000;         // expression evaluations + statement executions
  std::uint64_t max_loop_iterations = 1'000'000;  // all for-loop iterations together
  std::uint64_t max_work_bytes = 1ull << 30;   // bytes of all strings built, added up (bounds copying)
  std::size_t max_call_depth = 100;            // macros calling macros
  std::size_t max_depth = 500;                 // nested evaluation, macro calls included (bounds the C++ stack)
  std::int64_t max_range = 100'000;            // range() length (Jinja's sandbox MAX_RANGE)
};

struct RenderOptions {
  // The clock strftime_now() formats; empty: the current local time.
  std::function<std::tm()> clock;
  RenderLimits limits;
};

}  // namespace slm::jinja
