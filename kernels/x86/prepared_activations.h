// The activations of a several-token product, prepared once per call (decoded into the form a
// tile's inner loop consumes) and read by every row tile as memory operands. Held in registers
// inside the tiles, several tokens' prepared steps took the registers the accumulators needed
// (bench/RESULTS.md, session 10).
//
// Internal linkage (see tile_driver.h): each ISA's translation unit compiles its own copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace slm::kernels::x86 {
namespace {

// Entry t * per_token + i = prepare(t, i) for t < n_tokens, i < per_token, in a buffer of this
// thread's that is kept for its next calls and grows to the largest product seen (Q4_0 steps: 256
// bytes per token and 128 columns, 112 KiB for 4 tokens at K = 14336).
template <class T, class F>
const T* prepare_activations(int n_tokens, int64_t per_token, F&& prepare) {
  static thread_local std::vector<T> buf;
  const size_t n = static_cast<size_t>(n_tokens) * static_cast<size_t>(per_token);
  if (buf.size() < n) buf.resize(n);
  for (int t = 0; t < n_tokens; ++t)
    for (int64_t i = 0; i < per_token; ++i) buf[static_cast<size_t>(t * per_token + i)] = prepare(t, i);
  return buf.data();
}

}  // namespace
}  // namespace slm::kernels::x86
