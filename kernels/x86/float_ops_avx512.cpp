// AVX-512 float ops: the F16 flash-attention accumulator over many cache rows with the whole of a
// 64-dimension head in 4 zmm registers (twice the width of the AVX2 version). Rounding to F16 after
// every step is exact arithmetic, so the result is bit-identical at every level. The gated activations
// are the portable (xsimd) ones of kernels/portable/activations.h at 16 lanes; the other float ops
// come from the AVX2 table.
// GCC 12 reports its own _mm512_undefined_*() placeholders in avx512fintrin.h as uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include <cmath>

#include "kernels/portable/activations.h"
#include "kernels/scalar/scalar.h"
#include "kernels/x86/exp_glibc.h"
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
  static F loadf(const float* p) { return _mm512_loadu_ps(p); }
  static void storef(float* p, F x) { _mm512_storeu_ps(p, x); }
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

// Four queries at a time: 16 accumulator registers for a 64-dimension head, 4 for the row; then 2
// and 1 (f16_rows.h). Measured against 8 and 16 queries (2 and 1 registers each): no faster.
void mad_f16_rows_multi(uint16_t* const* acc, const float* const* ms, const float* const* vs, int64_t nq,
                        const uint16_t* v, size_t stride, int64_t n, int64_t hd) {
  mad_f16_rows_multi_width<Zmm16, 4, 16>(acc, ms, vs, nq, v, stride, n, hd,
                                     [](uint16_t* a, const uint16_t* vr, float m, float s, int64_t c) {
                                       if (m != 1.0f) scalar::scale_f16(a, m, c);
                                       scalar::mad_f16(a, vr, s, c);
                                     });
}

// axpy_f16_rows_multi with zmm registers: four queries at a time, a 64-dimension head in 4
// registers each, then 2 and 1 (f16_rows.h). The table takes axpy_f16_f32 from the AVX2 level,
// whose vector part is the same fmadd per element; head dimensions not a multiple of 16 go to the
// AVX2 level's loop over that axpy.
void axpy_f16_rows_multi(float* const* acc, const float* const* p, int64_t nq, const uint16_t* v,
                         size_t stride, int64_t n, int64_t hd) {
  axpy_f16_rows_multi_width<Zmm16, 4, 16>(acc, p, nq, v, stride, n, hd, axpy_f16_rows_loop_avx2);
}

// dot_f16_rows with zmm registers, 8 rows at a time, bit-identical to the AVX2 dot_f16_f32 (whose
// sums every level shares): its two 8-lane accumulators (elements i % 16 < 8 and >= 8) are the two
// halves of one zmm here, added at the end as it adds them; its horizontal sum of a row's 8 lanes,
// ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), is taken for 8 rows at once by a transposing
// reduction that adds the same pairs. Head dimensions that are not a multiple of 16, and the last
// n % 8 rows, go to the AVX2 kernel.
void dot_f16_rows(const uint16_t* k, size_t stride, const float* q, int64_t hd, int64_t n, float* out) {
  constexpr int kR = 8;
  int64_t r = 0;
  if (hd % 16 == 0) {
    for (; r + kR <= n; r += kR) {
      const uint16_t* row = k + static_cast<size_t>(r) * stride;
      __m512 acc[kR];
      for (int j = 0; j < kR; ++j) acc[j] = _mm512_setzero_ps();
      for (int64_t i = 0; i < hd; i += 16) {
        const __m512 qv = _mm512_loadu_ps(q + i);
        for (int j = 0; j < kR; ++j) {
          const __m512 kv = _mm512_cvtph_ps(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + static_cast<size_t>(j) * stride + i)));
          acc[j] = _mm512_fmadd_ps(kv, qv, acc[j]);
        }
      }
      __m256 v[kR];  // acc0 + acc1 of each row
      for (int j = 0; j < kR; ++j)
        v[j] = _mm256_add_ps(_mm512_castps512_ps256(acc[j]), _mm512_extractf32x8_ps(acc[j], 1));
      // s_k = l_k + l_{k+4} for rows (0,1), (2,3), (4,5), (6,7): [s_a | s_b]
      __m256 p[4];
      for (int j = 0; j < 4; ++j)
        p[j] = _mm256_add_ps(_mm256_permute2f128_ps(v[2 * j], v[2 * j + 1], 0x20),
                             _mm256_permute2f128_ps(v[2 * j], v[2 * j + 1], 0x31));
      // t0 = s0 + s2, t1 = s1 + s3: [t_a0 t_a1 t_c0 t_c1 | t_b0 t_b1 t_d0 t_d1] for rows a b = p[0], c d = p[1]
      const __m256 u0 = _mm256_add_ps(_mm256_shuffle_ps(p[0], p[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                      _mm256_shuffle_ps(p[0], p[1], _MM_SHUFFLE(3, 2, 3, 2)));
      const __m256 u1 = _mm256_add_ps(_mm256_shuffle_ps(p[2], p[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                      _mm256_shuffle_ps(p[2], p[3], _MM_SHUFFLE(3, 2, 3, 2)));
      // t0 + t1: rows [0 2 4 6 | 1 3 5 7]
      const __m256 w = _mm256_add_ps(_mm256_shuffle_ps(u0, u1, _MM_SHUFFLE(2, 0, 2, 0)),
                                     _mm256_shuffle_ps(u0, u1, _MM_SHUFFLE(3, 1, 3, 1)));
      _mm256_storeu_ps(out + r, _mm256_permutevar8x32_ps(w, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
  }
  if (r < n) dot_f16_rows_avx2(k + static_cast<size_t>(r) * stride, stride, q, hd, n - r, out + r);
}

// dot_f16_rows_multi: 16 rows at a time are converted to F32 once (in L1), then each query takes
// their 16 dot products with one zmm accumulator per row and a transposing reduction whose adds are
// the AVX2 kernel's (see dot_f16_rows above): per pair of rows the two 8-lane halves, then
// l_k + l_{k+4}, then (s0 + s2) and (s1 + s3), then their sum. Leftover rows, and head dimensions
// dot_f16_rows would not take 16 at a time, go query by query to dot_f16_rows.
void dot_f16_rows_multi(const uint16_t* k, size_t stride, const float* const* q, int64_t nq, int64_t hd, int64_t n,
                        float* const* out) {
  constexpr int kR = 16;
  constexpr int64_t kMaxHd = 256;
  int64_t r = 0;
  if (hd % 16 == 0 && hd <= kMaxHd) {
    alignas(64) float kb[kR][kMaxHd];
    // output lane L = 4 b + m of the last step holds row b + 4 m
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    for (; r + kR <= n; r += kR) {
      for (int j = 0; j < kR; ++j)
        for (int64_t i = 0; i < hd; i += 16)
          _mm512_store_ps(&kb[j][i], _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(
                                         k + static_cast<size_t>(r + j) * stride + static_cast<size_t>(i)))));
      for (int64_t qi = 0; qi < nq; ++qi) {
        const float* qv = q[qi];
        __m512 acc[kR];
        for (int j = 0; j < kR; ++j) acc[j] = _mm512_setzero_ps();
        for (int64_t i = 0; i < hd; i += 16) {
          const __m512 x = _mm512_loadu_ps(qv + i);
          for (int j = 0; j < kR; ++j) acc[j] = _mm512_fmadd_ps(_mm512_load_ps(&kb[j][i]), x, acc[j]);
        }
        __m512 p[8];  // rows 2j, 2j + 1: [v_a | v_b], v = acc0 + acc1
        for (int j = 0; j < 8; ++j)
          p[j] = _mm512_add_ps(_mm512_shuffle_f32x4(acc[2 * j], acc[2 * j + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                               _mm512_shuffle_f32x4(acc[2 * j], acc[2 * j + 1], _MM_SHUFFLE(3, 2, 3, 2)));
        __m512 sv[4];  // rows 4j .. 4j + 3, one per 128-bit block: s_m = v_m + v_{m+4}
        for (int j = 0; j < 4; ++j)
          sv[j] = _mm512_add_ps(_mm512_shuffle_f32x4(p[2 * j], p[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                                _mm512_shuffle_f32x4(p[2 * j], p[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1)));
        __m512 u[2];  // block b: t0, t1 of row b, then of row b + 4 (u[0]: rows 0-7, u[1]: rows 8-15)
        for (int j = 0; j < 2; ++j)
          u[j] = _mm512_add_ps(_mm512_shuffle_ps(sv[2 * j], sv[2 * j + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                               _mm512_shuffle_ps(sv[2 * j], sv[2 * j + 1], _MM_SHUFFLE(3, 2, 3, 2)));
        const __m512 w = _mm512_add_ps(_mm512_shuffle_ps(u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                       _mm512_shuffle_ps(u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1)));
        _mm512_storeu_ps(out[qi] + r, _mm512_permutexvar_ps(order, w));
      }
    }
  }
  if (r < n)
    for (int64_t qi = 0; qi < nq; ++qi)
      dot_f16_rows(k + static_cast<size_t>(r) * stride, stride, q[qi], hd, n - r, out[qi] + r);
}

// glibc's expf (exp_glibc.h) for 8 floats, in 8 doubles; the 32-entry table is looked up with two
// two-register permutes and a blend on bit 4 of the index.
inline __m256 exp8_glibc(__m256 x) {
  const __m512d xd = _mm512_cvtps_pd(x);
  const __m512d inv = _mm512_set1_pd(kExpInvLn2N), shift = _mm512_set1_pd(kExpShift);
  __m512d kd = _mm512_fmadd_pd(inv, xd, shift);
  const __m512i ki = _mm512_castpd_si512(kd);
  kd = _mm512_sub_pd(kd, shift);
  const __m512d r = _mm512_fmsub_pd(inv, xd, kd);
  const __m512i t0 = _mm512_load_si512(kExpTab), t1 = _mm512_load_si512(kExpTab + 8);
  const __m512i t2 = _mm512_load_si512(kExpTab + 16), t3 = _mm512_load_si512(kExpTab + 24);
  const __m512i lo = _mm512_permutex2var_epi64(t0, ki, t1), hi = _mm512_permutex2var_epi64(t2, ki, t3);
  __m512i t = _mm512_mask_blend_epi64(_mm512_test_epi64_mask(ki, _mm512_set1_epi64(16)), lo, hi);
  t = _mm512_add_epi64(t, _mm512_slli_epi64(ki, 47));
  const __m512d z = _mm512_fmadd_pd(_mm512_set1_pd(kExpC0), r, _mm512_set1_pd(kExpC1));
  const __m512d r2 = _mm512_mul_pd(r, r);
  __m512d y = _mm512_fmadd_pd(_mm512_set1_pd(kExpC2), r, _mm512_set1_pd(1.0));
  y = _mm512_fmadd_pd(z, r2, y);
  return _mm512_cvtpd_ps(_mm512_mul_pd(y, _mm512_castsi512_pd(t)));
}

void exp_f32(const float* x, float* y, int64_t n) {
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff);
  const __m512i special = _mm512_set1_epi32(static_cast<int>(kExpSpecialAbs));
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m512 e = _mm512_insertf32x8(_mm512_castps256_ps512(exp8_glibc(_mm512_castps512_ps256(v))),
                                        exp8_glibc(_mm512_extractf32x8_ps(v, 1)), 1);
    const __mmask16 sp =
        _mm512_cmpge_epu32_mask(_mm512_and_si512(_mm512_castps_si512(v), abs_mask), special);
    _mm512_storeu_ps(y + i, e);
    if (sp) {  // |x| >= 88 or NaN: glibc's special path (y may alias x: take x from v)
      alignas(64) float xs[16];
      _mm512_store_ps(xs, v);
      exp_special_lanes(xs, y + i, static_cast<uint32_t>(sp));
    }
  }
  for (; i < n; ++i) y[i] = std::exp(x[i]);
}

// softmax_factors, 16 scores at a time. The running maximum's sequence m_i = (x_i > m_{i-1} ? x_i :
// m_{i-1}) keeps the earliest of equal maxima, an associative step, so a prefix scan in 4 shifts
// (each lane against the lane k before it, -inf shifted in) and one step with the carried m gives
// every m_i; each lane's previous maximum is then the scan shifted by one. The argument of either
// branch is -|x_i - m_{i-1}| (m - sc = -(sc - m) exactly), so one exp serves both. A step whose
// scores hold a NaN (which the scan's max would treat differently) and the last n % 16 scores go
// through the scalar reference.
void softmax_factors(const float* score, int64_t n, float scale, float m, float* m_out, float* ms, float* vs) {
  const __m512 neg_inf = _mm512_set1_ps(-INFINITY), one = _mm512_set1_ps(1.0f), sign = _mm512_set1_ps(-0.0f);
  const __m512 sv = _mm512_set1_ps(scale);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_mul_ps(_mm512_loadu_ps(score + i), sv);
    if (_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q) != 0) break;
    // max_ps(a, b) = a > b ? a : b: the later value wins only when greater
    __m512 p = x;
    p = _mm512_max_ps(p, _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(p), _mm512_castps_si512(neg_inf), 15)));
    p = _mm512_max_ps(p, _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(p), _mm512_castps_si512(neg_inf), 14)));
    p = _mm512_max_ps(p, _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(p), _mm512_castps_si512(neg_inf), 12)));
    p = _mm512_max_ps(p, _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(p), _mm512_castps_si512(neg_inf), 8)));
    const __m512 mv = _mm512_set1_ps(m);
    const __m512 full = _mm512_max_ps(p, mv);  // m_i
    const __m512 prev = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(full), _mm512_castps_si512(mv), 15));
    const __m512 d = _mm512_sub_ps(x, prev);
    const __mmask16 up = _mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_GT_OQ);  // x > m_{i-1}
    alignas(64) float e[16];
    _mm512_store_ps(e, _mm512_or_ps(d, sign));  // -|d|
    exp_f32(e, e, 16);
    const __m512 ev = _mm512_load_ps(e);
    _mm512_storeu_ps(ms + i, _mm512_mask_blend_ps(up, one, ev));
    _mm512_storeu_ps(vs + i, _mm512_mask_blend_ps(up, ev, one));
    m = _mm512_cvtss_f32(_mm512_permutexvar_ps(_mm512_set1_epi32(15), full));
  }
  scalar::softmax_factors(score + i, n - i, scale, m, m_out, ms + i, vs + i);
}

void silu_mul_avx512(const float* gate, const float* up, float* out, int64_t n) {
  portable::silu_mul_rows<xsimd::avx512bw>(gate, up, out, n);
}

void gelu_tanh_mul_avx512(const float* gate, const float* up, float* out, int64_t n) {
  portable::gelu_tanh_mul_rows<xsimd::avx512bw>(gate, up, out, n);
}

}  // namespace

void add_float_ops_avx512(KernelTable& t) {
  t.silu_mul = silu_mul_avx512;
  t.gelu_tanh_mul = gelu_tanh_mul_avx512;
  t.softmax_factors = softmax_factors;
  t.dot_f16_rows = dot_f16_rows;
  t.dot_f16_rows_multi = dot_f16_rows_multi;
  t.exp_f32 = exp_f32;
  t.mad_f16_rows = mad_f16_rows;
  t.mad_f16_rows_multi = mad_f16_rows_multi;
  t.axpy_f16_rows_multi = axpy_f16_rows_multi;
}

}  // namespace slm::kernels::x86
