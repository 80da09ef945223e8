// Software prefetch for matrix-vector tiles. A tile reads rows r0 .. r0+NR-1 side by side, a few
// bytes of each per step. Each step prefetches, for every row, the bytes `dist` further along that
// row's stream, where the stream of row k continues into row k of the next tile once the row ends
// (rows are contiguous and the next tile starts NR rows later). Long rows (8 KiB at K = 14336) are
// so prefetched within themselves; short ones (1-2 KiB at K = 2048, most of a small model) get the
// next tile's rows in flight before they start, where an in-row distance would leave every row's
// first bytes cold. Prefetches never fault, so addresses past the matrix are harmless; they are
// formed as integers, not as pointers past an object.
// Internal linkage (see tile_driver.h): each ISA's translation unit compiles its own copy.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace slm::kernels::x86 {
namespace {

template <int NR>
inline void prefetch_row_streams(const uint8_t* const* rows, size_t row_bytes, size_t offset, size_t step_bytes,
                                 size_t dist) {
  const size_t o = offset + dist;
  for (int k = 0; k < NR; ++k) {
    uintptr_t p = reinterpret_cast<uintptr_t>(rows[k]);
    p += o < row_bytes ? o : static_cast<size_t>(NR - 1) * row_bytes + o;
    for (size_t l = 0; l < step_bytes; l += 64) _mm_prefetch(reinterpret_cast<const char*>(p + l), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(p + step_bytes - 1), _MM_HINT_T0);
  }
}

}  // namespace
}  // namespace slm::kernels::x86
