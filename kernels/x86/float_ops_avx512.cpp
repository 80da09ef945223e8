// AVX-512 float ops: the F16 flash-attention accumulator over many cache rows with the whole of a
// 64-dimension head in 4 zmm registers (twice the width of the AVX2 version). Rounding to F16 after
// every step is exact arithmetic, so the result is bit-identical at every level; the other float ops
// come from the AVX2 table.
// GCC 12 reports its own _mm512_undefined_*() placeholders in avx512fintrin.h as uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/scalar/scalar.h"
#include "kernels/x86/x86.h"

namespace slm::kernels::x86 {
namespace {

constexpr int kRne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

inline __m512 load_f16x16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
// F16 values held in F32 lanes: the round trip through F16 that a store and a load would make.
inline __m512 round_f16(__m512 x) { return _mm512_cvtph_ps(_mm512_cvtps_ph(x, kRne)); }

void mad_f16_rows(uint16_t* acc, const uint16_t* v, size_t stride, const float* ms, const float* vs, int64_t n,
                  int64_t hd) {
  constexpr int kW = 4;
  int64_t d = 0;
  for (; d + 16 * kW <= hd; d += 16 * kW) {
    __m512 a[kW];
    for (int j = 0; j < kW; ++j) a[j] = load_f16x16(acc + d + 16 * j);
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t* vr = v + static_cast<size_t>(i) * stride + d;
      if (ms[i] != 1.0f) {
        const __m512 m = _mm512_set1_ps(ms[i]);
        for (int j = 0; j < kW; ++j) a[j] = round_f16(_mm512_mul_ps(a[j], m));
      }
      const __m512 sv = _mm512_set1_ps(vs[i]);
      for (int j = 0; j < kW; ++j) a[j] = round_f16(_mm512_fmadd_ps(load_f16x16(vr + 16 * j), sv, a[j]));
    }
    for (int j = 0; j < kW; ++j)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + d + 16 * j), _mm512_cvtps_ph(a[j], kRne));
  }
  if (d < hd) {  // the remaining dimensions (hd not a multiple of 64): the scalar steps, row by row
    for (int64_t i = 0; i < n; ++i) {
      if (ms[i] != 1.0f) scalar::scale_f16(acc + d, ms[i], hd - d);
      scalar::mad_f16(acc + d, v + static_cast<size_t>(i) * stride + d, vs[i], hd - d);
    }
  }
}

}  // namespace

void add_float_ops_avx512(KernelTable& t) { t.mad_f16_rows = mad_f16_rows; }

}  // namespace slm::kernels::x86
