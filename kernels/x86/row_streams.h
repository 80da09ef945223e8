// The rows of a matrix-vector tile, read side by side one step at a time, and the software
// prefetch along them.
//
// RowStreams<NR> addresses the rows of the one-token Q4_0/Q8_0 tile (16 rows). Held as 16 pointers
// (plus the prefetch addresses) they need more general registers than x86-64 has: GCC spilled them
// and updated each one in memory every step. Here the rows are one or two base pointers plus the
// strides 1, 3, 5 and 7 rows, and row k is base + stride * {1, 2, 4, 8} as one x86 address: six
// registers for 16 rows. The bases pass through an empty asm each step so the compiler cannot turn
// every row back into a pointer of its own (induction-variable strength reduction would).
// Measured on Zen 5 (bench/RESULTS.md, session 10): one thread, weights in L2, Q4_0 35.8 -> 46.3
// GB/s and Q8_0 47.7 -> 62.1; from DRAM (2 threads, alternated with the old code) +3-5%.
// The other tiles keep one pointer per row and prefetch_row_streams: the 8-row K-quant tiles and
// the several-token tiles were faster in cache through RowStreams too, but 5-25% slower from DRAM
// in alternated runs, which is the case they exist for.
//
// Prefetch. Each step prefetches, for every row, the bytes `dist` further along that row's stream,
// where the stream of row k continues into row k of the next tile once the row ends (rows are
// contiguous and the next tile starts NR rows later, or 1 row later within a strided group:
// matvec_row_stride in kernels.h). Long rows (8 KiB at K = 14336) are so
// prefetched within themselves; short ones (1-2 KiB at K = 2048, most of a small model) get the next
// tile's rows in flight before they start, where an in-row distance would leave every row's first
// bytes cold. Prefetches never fault, so addresses past the matrix are harmless; they are formed as
// integers, not as pointers past an object.
//
// Internal linkage (see tile_driver.h): each ISA's translation unit compiles its own copy.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace slm::kernels::x86 {
namespace {

// Forced inline: GCC's pure-const analysis takes a function that only prefetches for one without
// side effects, and drops calls to it that were not inlined first (seen with GCC 12: every prefetch
// of a tile vanished).
#define SLM_ALWAYS_INLINE inline __attribute__((always_inline))

// f(std::integral_constant<int, i>{}) for i = 0 .. N-1, unrolled, so each i is a constant.
template <int N, class F>
SLM_ALWAYS_INLINE void unroll(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) __attribute__((always_inline)) {
    (f(std::integral_constant<int, I>{}), ...);
  }(std::make_integer_sequence<int, N>{});
}

// Where each row's stream is prefetched, as an offset from the row's current position `pos`:
// `dist` further along the row, or, past its end, as far into the same row of the next tile, which
// starts `next_tile_rows` rows after this one.
inline uintptr_t stream_prefetch_offset(size_t pos, size_t dist, size_t row_bytes, int64_t next_tile_rows) {
  return pos + dist < row_bytes ? dist : static_cast<uintptr_t>(next_tile_rows - 1) * row_bytes + dist;
}

// Prefetches the lines of the `step_bytes` at address p that the previous step's prefetch (the
// bytes just before p) did not: one address every 64 bytes down from the step's last byte, which
// reaches every line the step touches except possibly the first, and that one holds byte p - 1 when
// it is not reached. For a 72-byte Q4_0 step that is 2 prefetches instead of 3.
SLM_ALWAYS_INLINE void prefetch_step(uintptr_t p, size_t step_bytes) {
  for (size_t l = step_bytes; l >= 1; l = l > 64 ? l - 64 : 0) _mm_prefetch(reinterpret_cast<const char*>(p + l - 1), _MM_HINT_T0);
}

// The prefetch for tiles that keep one pointer per row (rows[k]: the start of row k), given the
// step's offset into the rows: every line of the step, as these tiles were measured with. Written
// through prefetch_step and forced inline, the 4-token Q4_0 tile ran 25% slower from DRAM (the
// compiler placed the prefetches differently), so this one stays as it was.
// The tile read after this one starts next_tile_rows rows later.
template <int NR>
inline void prefetch_row_streams(const uint8_t* const* rows, size_t row_bytes, size_t offset, size_t step_bytes,
                                 size_t dist, int64_t next_tile_rows = NR) {
  const size_t o = offset + dist;
  for (int k = 0; k < NR; ++k) {
    uintptr_t p = reinterpret_cast<uintptr_t>(rows[k]);
    p += o < row_bytes ? o : static_cast<size_t>(next_tile_rows - 1) * row_bytes + o;
    for (size_t l = 0; l < step_bytes; l += 64) _mm_prefetch(reinterpret_cast<const char*>(p + l), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(p + step_bytes - 1), _MM_HINT_T0);
  }
}

// The whole strided groups of NR x s rows from row r on, below row_end (matvec_row_stride in
// kernels.h): tile(first_row, s, next_tile_rows) for each of a group's s tiles, tile i holding rows
// first_row + k * s; the tile after tile i starts 1 row later, or, after the last one, at the next
// group's first tile. Returns the row after the last group; s <= 1 reads none.
template <int NR, class Tile>
inline int64_t strided_groups(int64_t r, int64_t row_end, int64_t s, Tile&& tile) {
  if (s <= 1) return r;
  for (; r + NR * s <= row_end; r += NR * s)
    for (int64_t i = 0; i < s; ++i) tile(r + i, s, i + 1 < s ? int64_t{1} : (NR - 1) * s + 1);
  return r;
}

template <int NR>
class RowStreams {
  static_assert(NR >= 1 && NR <= 16);
  static constexpr int kGroups = (NR + 7) / 8;

 public:
  // Rows first_row + k * stride_rows * row_bytes (k < NR) at position 0; the tile read after this
  // one starts next_tile_rows rows later (where the prefetch continues past the rows' end).
  RowStreams(const uint8_t* first_row, size_t row_bytes, int64_t stride_rows = 1, int64_t next_tile_rows = NR)
      : rb_(static_cast<intptr_t>(row_bytes) * static_cast<intptr_t>(stride_rows)),
        row_bytes_(row_bytes),
        next_tile_rows_(next_tile_rows) {
    for (int g = 0; g < kGroups; ++g) base_[g] = reinterpret_cast<uintptr_t>(first_row) + static_cast<uintptr_t>(8 * g * rb_);
    s3_ = 3 * rb_;
    s5_ = 5 * rb_;
    s7_ = 7 * rb_;
  }

  // Row R's byte at the current position + off.
  template <int R>
  SLM_ALWAYS_INLINE const uint8_t* row(size_t off = 0) const {
    static_assert(R >= 0 && R < NR);
    return reinterpret_cast<const uint8_t*>(base_[R / 8] + off + row_offset<R % 8>());
  }
  // Row r's bytes at the current position (r not a constant: tile epilogues).
  const uint8_t* row_at(int r) const {
    return reinterpret_cast<const uint8_t*>(base_[r / 8] + static_cast<uintptr_t>((r % 8) * rb_));
  }

  // Moves every row `bytes` further.
  SLM_ALWAYS_INLINE void advance(size_t bytes) {
    pos_ += bytes;
    for (int g = 0; g < kGroups; ++g) {
      base_[g] += bytes;
      asm("" : "+r"(base_[g]));
    }
  }

  // Prefetches `step_bytes` of every row's stream at `dist` bytes past the current position.
  SLM_ALWAYS_INLINE void prefetch(size_t step_bytes, size_t dist) const {
    const uintptr_t delta = stream_prefetch_offset(pos_, dist, row_bytes_, next_tile_rows_);
    unroll<NR>([&](auto r) __attribute__((always_inline)) { prefetch_step(base_[r / 8] + delta + row_offset<r % 8>(), step_bytes); });
  }

 private:
  template <int K>
  SLM_ALWAYS_INLINE uintptr_t row_offset() const {
    const intptr_t s1 = rb_;
    if constexpr (K == 0) return 0;
    else if constexpr (K == 1) return static_cast<uintptr_t>(s1);
    else if constexpr (K == 2) return static_cast<uintptr_t>(2 * s1);
    else if constexpr (K == 3) return static_cast<uintptr_t>(s3_);
    else if constexpr (K == 4) return static_cast<uintptr_t>(4 * s1);
    else if constexpr (K == 5) return static_cast<uintptr_t>(s5_);
    else if constexpr (K == 6) return static_cast<uintptr_t>(2 * s3_);
    else return static_cast<uintptr_t>(s7_);
  }

  uintptr_t base_[kGroups];
  intptr_t rb_, s3_, s5_, s7_;  // rb_: bytes from one row of the tile to the next
  size_t row_bytes_;
  int64_t next_tile_rows_;
  size_t pos_ = 0;
};

}  // namespace
}  // namespace slm::kernels::x86
