// Matmul of the plain float weight types (F32, F16, BF16) against activations of the same type: 8
// floats per step (F16 through F16C, BF16 by a 16-bit shift), NR rows x NT tokens of accumulators
// per pass so each loaded weight vector serves NT tokens. cols need not be a multiple of 8: the
// tail is summed in scalar code. Internal linkage (see tile_driver.h).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "kernels/x86/simd_util.h"

namespace slm::kernels::x86 {
namespace {

struct F32Elems {
  using T = float;
  static __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
  static float one(const float* p) { return *p; }
};
struct F16Elems {
  using T = uint16_t;
  static __m256 load8(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float one(const uint16_t* p) { return fp16_to_f32(*p); }
};
struct BF16Elems {
  using T = uint16_t;
  static __m256 load8(const uint16_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float one(const uint16_t* p) { return bf16_to_f32(*p); }
};

template <class E, int NR, int NT>
inline void float_tile(const MatmulArgs& a, int64_t r0, int64_t t0) {
  using T = typename E::T;
  const T* w[NR];
  const T* x[NT];
  for (int r = 0; r < NR; ++r) w[r] = reinterpret_cast<const T*>(a.w + static_cast<size_t>(r0 + r) * a.w_row_bytes);
  for (int t = 0; t < NT; ++t) x[t] = reinterpret_cast<const T*>(a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes);
  __m256 acc[NR][NT];
  for (int r = 0; r < NR; ++r)
    for (int t = 0; t < NT; ++t) acc[r][t] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= a.cols; i += 8) {
    __m256 wv[NR];
    for (int r = 0; r < NR; ++r) wv[r] = E::load8(w[r] + i);
    for (int t = 0; t < NT; ++t) {
      const __m256 xv = E::load8(x[t] + i);
      for (int r = 0; r < NR; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  for (int r = 0; r < NR; ++r) {
    for (int t = 0; t < NT; ++t) {
      float sum = hsum(acc[r][t]);
      for (int64_t k = i; k < a.cols; ++k) sum += E::one(w[r] + k) * E::one(x[t] + k);
      a.y[(t0 + t) * a.ldy + r0 + r] = sum;
    }
  }
}

template <class E, int NR, int NT>
inline void float_rows_all_tokens(const MatmulArgs& a, int64_t r0, int64_t t0) {
  int64_t t = t0;
  for (; t + NT <= a.n_tokens; t += NT) float_tile<E, NR, NT>(a, r0, t);
  if constexpr (NT > 1) {
    if (t < a.n_tokens) float_rows_all_tokens<E, NR, NT - 1>(a, r0, t);
  }
}

template <class E, int NR, int NT>
void float_matmul(const MatmulArgs& a, int64_t row_begin, int64_t row_end) {
  int64_t r = row_begin;
  for (; r + NR <= row_end; r += NR) float_rows_all_tokens<E, NR, NT>(a, r, 0);
  for (; r < row_end; ++r) float_rows_all_tokens<E, 1, NT>(a, r, 0);
}

}  // namespace
}  // namespace slm::kernels::x86
