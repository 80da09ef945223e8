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
#include "kernels/x86/f16_rows.h"
#include "kernels/x86/x86.h"

namespace slm::kernels::x86 {
namespace {

constexpr int kRne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

// The F16 accumulator over a run of rows (f16_rows.h) on zmm registers: a 64-dimension head in 4.
struct Zmm16 {
  using F = __m512;
  static constexpr int kLanes = 16;
  static F load(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static void store(uint16_t* p, F x) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtps_ph(x, kRne));
  }
  static F round(F x) { return _mm512_cvtph_ps(_mm512_cvtps_ph(x, kRne)); }
  static F set1(float x) { return _mm512_set1_ps(x); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
};

void mad_f16_rows(uint16_t* acc, const uint16_t* v, size_t stride, const float* ms, const float* vs,
                  int64_t n, int64_t hd) {
  mad_f16_rows_width<Zmm16>(acc, v, stride, ms, vs, n, hd,
                            [](uint16_t* a, const uint16_t* vr, float m, float s, int64_t c) {
                              if (m != 1.0f) scalar::scale_f16(a, m, c);
                              scalar::mad_f16(a, vr, s, c);
                            });
}

}  // namespace

void add_float_ops_avx512(KernelTable& t) { t.mad_f16_rows = mad_f16_rows; }

}  // namespace slm::kernels::x86
