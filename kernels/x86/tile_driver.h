// Register tiling of a quantized matmul: NR weight rows x NT tokens per pass over the shared
// dimension. Each weight block is decoded once into registers (K::load) and used for all NT tokens;
// each activation block is loaded once and used for all NR rows. NT = 1 is the matrix-vector case:
// NR rows stream side by side, which keeps several DRAM streams in flight.
//
// A block kernel K provides:
//   K::kBlock                    elements per weight block (32 or 256)
//   K::WBlock, K::XBlock         the weight and activation block structs
//   K::W                         one decoded weight block (registers; may spill to L1)
//   K::Acc                       one (row, token) accumulator
//   static W load(const WBlock&)
//   static Acc zero()
//   static void accumulate(const W&, const XBlock&, Acc&)    adds d_w * d_x * int_sum per block
//   static float reduce(const Acc&)
// Included by one *_avx2.cpp / *_avx512.cpp at a time: everything here has internal linkage, so the
// same template compiled with different -m flags never meets itself at link time.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/x86/row_streams.h"

namespace slm::kernels::x86 {
namespace {

template <class K, int NR, int NT>
inline void matmul_tile(const MatmulArgs& a, int64_t r0, int64_t t0) {
  const int64_t nb = a.cols / K::kBlock;
  const typename K::WBlock* w[NR];
  const typename K::XBlock* x[NT];
  for (int r = 0; r < NR; ++r)
    w[r] = reinterpret_cast<const typename K::WBlock*>(a.w + static_cast<size_t>(r0 + r) * a.w_row_bytes);
  for (int t = 0; t < NT; ++t)
    x[t] = reinterpret_cast<const typename K::XBlock*>(a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes);
  typename K::Acc acc[NR][NT];
  for (int r = 0; r < NR; ++r)
    for (int t = 0; t < NT; ++t) acc[r][t] = K::zero();
  // Matrix-vector: prefetch along the rows' streams, 4 blocks ahead (row_streams.h).
  const uint8_t* rows[NR];
  for (int r = 0; r < NR; ++r) rows[r] = reinterpret_cast<const uint8_t*>(w[r]);
  constexpr size_t kBlockBytes = sizeof(typename K::WBlock);
  for (int64_t b = 0; b < nb; ++b) {
    if constexpr (NT == 1) prefetch_row_streams<NR>(rows, a.w_row_bytes, static_cast<size_t>(b) * kBlockBytes, kBlockBytes, 4 * kBlockBytes);
    typename K::W wb[NR];
    for (int r = 0; r < NR; ++r) wb[r] = K::load(w[r][b]);
    for (int t = 0; t < NT; ++t) {
      const typename K::XBlock& xb = x[t][b];
      for (int r = 0; r < NR; ++r) K::accumulate(wb[r], xb, acc[r][t]);
    }
  }
  for (int r = 0; r < NR; ++r)
    for (int t = 0; t < NT; ++t) a.y[(t0 + t) * a.ldy + r0 + r] = K::reduce(acc[r][t]);
}

// All tokens for rows [r0, r0 + NR): full NT tiles, then the leftover tokens in a narrower tile.
template <class K, int NR, int NT>
inline void matmul_rows_all_tokens(const MatmulArgs& a, int64_t r0, int64_t t0) {
  int64_t t = t0;
  for (; t + NT <= a.n_tokens; t += NT) matmul_tile<K, NR, NT>(a, r0, t);
  if constexpr (NT > 1) {
    if (t < a.n_tokens) matmul_rows_all_tokens<K, NR, NT - 1>(a, r0, t);
  }
}

// The MatmulFn: row tiles of NR (the last rows one by one), each over every token.
template <class K, int NR, int NT>
void matmul_tiled(const MatmulArgs& a, int64_t row_begin, int64_t row_end) {
  int64_t r = row_begin;
  for (; r + NR <= row_end; r += NR) matmul_rows_all_tokens<K, NR, NT>(a, r, 0);
  for (; r < row_end; ++r) matmul_rows_all_tokens<K, 1, NT>(a, r, 0);
}

}  // namespace
}  // namespace slm::kernels::x86
