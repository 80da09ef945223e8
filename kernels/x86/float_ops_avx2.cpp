// AVX2 float ops of the transformer: rmsnorm, softmax, rope and the F16 KV-cache helpers (dot_f16_f32,
// axpy_f16_f32, f32_to_f16_row) in intrinsics; silu_mul and gelu_tanh_mul (and softmax's exponential)
// are the portable (xsimd) code of kernels/portable/activations.h at 8 lanes. Sums that the scalar code
// takes in double (squares, exponentials) are taken in double here too, 4 lanes at a time; the rest is
// 8 floats per step with scalar tails for any n.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/fp16.h"
#include "kernels/portable/activations.h"
#include "kernels/scalar/scalar.h"
#include "kernels/x86/exp_glibc.h"
#include "kernels/x86/f16_rows.h"
#include "kernels/x86/simd_util.h"
#include "kernels/x86/x86.h"

namespace slm::kernels::x86 {
namespace {

// The portable code's instruction set here: AVX2 with FMA (xsimd::avx2 alone would split fma).
using Avx2Fma = xsimd::fma3<xsimd::avx2>;

// e^x for 8 lanes: the portable exponential (kernels/portable/activations.h), within 2 ulp of expf.
inline __m256 exp8(__m256 x) { return portable::exp<Avx2Fma>(x); }

inline __m256d widen_add(__m256d acc, __m256 v) {
  acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps, float w_offset) {
  __m256d acc = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    acc = widen_add(acc, _mm256_mul_ps(v, v));
  }
  double sum = hsum(acc);
  for (; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  const __m256 s = _mm256_set1_ps(scale), off = _mm256_set1_ps(w_offset);
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), s);
    _mm256_storeu_ps(y + i, _mm256_mul_ps(v, _mm256_add_ps(_mm256_loadu_ps(w + i), off)));
  }
  for (; i < n; ++i) y[i] = (x[i] * scale) * (w[i] + w_offset);
}

void softmax(float* x, int64_t n) {
  __m256 maxv = _mm256_set1_ps(x[0]);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) maxv = _mm256_max_ps(maxv, _mm256_loadu_ps(x + i));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(maxv), _mm256_extractf128_ps(maxv, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  float max = _mm_cvtss_f32(m4);
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;

  const __m256 mv = _mm256_set1_ps(max);
  __m256d acc = _mm256_setzero_pd();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
    _mm256_storeu_ps(x + i, e);
    acc = widen_add(acc, e);
  }
  double sum = hsum(acc);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += static_cast<double>(x[i]);
  }
  const float inv = static_cast<float>(1.0 / sum);
  const __m256 iv = _mm256_set1_ps(inv);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), iv));
  for (; i < n; ++i) x[i] *= inv;
}

// The gated activations are the portable ones, at 8 lanes.
void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  portable::silu_mul_rows<Avx2Fma>(gate, up, out, n);
}

void gelu_tanh_mul(const float* gate, const float* up, float* out, int64_t n) {
  portable::gelu_tanh_mul_rows<Avx2Fma>(gate, up, out, n);
}

// Rotary embedding, 8 angles per step, each output x0 cos - x1 sin or x0 sin + x1 cos with separately
// rounded products, as the reference. NeoX pairs (i, i + rope_dim/2) are two plain loads; GPT-J pairs
// (2i, 2i + 1) are split into even and odd dims by a shuffle and a 64-bit permute, and rejoined by
// unpack and a 128-bit permute.
inline void rotate8(__m256 x0, __m256 x1, __m256 c, __m256 s, __m256& r0, __m256& r1) {
  r0 = _mm256_sub_ps(_mm256_mul_ps(x0, c), _mm256_mul_ps(x1, s));
  r1 = _mm256_add_ps(_mm256_mul_ps(x0, s), _mm256_mul_ps(x1, c));
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dim, const float* cos, const float* sin,
          bool neox) {
  const int64_t half = rope_dim / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    int64_t i = 0;
    for (; i + 8 <= half; i += 8) {
      const __m256 c = _mm256_loadu_ps(cos + i), s = _mm256_loadu_ps(sin + i);
      __m256 r0, r1;
      if (neox) {
        rotate8(_mm256_loadu_ps(v + i), _mm256_loadu_ps(v + i + half), c, s, r0, r1);
        _mm256_storeu_ps(v + i, r0);
        _mm256_storeu_ps(v + i + half, r1);
      } else {
        // a = x0 y0 x1 y1 | x2 y2 x3 y3, b = x4 y4 x5 y5 | x6 y6 x7 y7
        const __m256 a = _mm256_loadu_ps(v + 2 * i), b = _mm256_loadu_ps(v + 2 * i + 8);
        // x0 x1 x4 x5 | x2 x3 x6 x7 -> 64-bit elements 0 2 1 3: x0 .. x7 (and the odd dims alike)
        const auto order = [](__m256 t) {
          return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
        };
        const __m256 even = order(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
        const __m256 odd = order(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
        rotate8(even, odd, c, s, r0, r1);
        const __m256 lo = _mm256_unpacklo_ps(r0, r1),
                     hi = _mm256_unpackhi_ps(r0, r1);  // pairs 0 1 4 5 | 2 3 6 7
        _mm256_storeu_ps(v + 2 * i, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(v + 2 * i + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
      }
    }
    scalar::rope_pairs(v, i, half, cos, sin, neox);
  }
}

inline __m256 load_f16x8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

float dot_f16_f32(const uint16_t* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(load_f16x8(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(load_f16x8(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load_f16x8(a + i), _mm256_loadu_ps(b + i), acc0);
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += fp16_to_f32(a[i]) * b[i];
  return sum;
}

constexpr int kRne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

void mad_f16(uint16_t* acc, const uint16_t* v, float s, int64_t n) {
  const __m256 sv = _mm256_set1_ps(s);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 r = _mm256_fmadd_ps(load_f16x8(v + i), sv, load_f16x8(acc + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + i), _mm256_cvtps_ph(r, kRne));
  }
  for (; i < n; ++i) acc[i] = f32_to_fp16(std::fma(fp16_to_f32(v[i]), s, fp16_to_f32(acc[i])));
}

void scale_f16(uint16_t* acc, float s, int64_t n) {
  const __m256 sv = _mm256_set1_ps(s);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + i),
                     _mm256_cvtps_ph(_mm256_mul_ps(load_f16x8(acc + i), sv), kRne));
  for (; i < n; ++i) acc[i] = f32_to_fp16(fp16_to_f32(acc[i]) * s);
}

// Four rows side by side, each summed exactly as dot_f16_f32 sums it (the same two accumulators, the
// same reduction), so the results are bit-identical; the rows share the loads of q and their eight
// FMA chains overlap, where one row alone waits on its two.
void dot_f16_rows(const uint16_t* k, size_t stride, const float* q, int64_t hd, int64_t n, float* out) {
  constexpr int kR = 4;
  int64_t r = 0;
  for (; r + kR <= n; r += kR) {
    const uint16_t* a[kR];
    __m256 acc0[kR], acc1[kR];
    for (int j = 0; j < kR; ++j) {
      a[j] = k + static_cast<size_t>(r + j) * stride;
      acc0[j] = acc1[j] = _mm256_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 16 <= hd; i += 16) {
      const __m256 q0 = _mm256_loadu_ps(q + i), q1 = _mm256_loadu_ps(q + i + 8);
      for (int j = 0; j < kR; ++j) {
        acc0[j] = _mm256_fmadd_ps(load_f16x8(a[j] + i), q0, acc0[j]);
        acc1[j] = _mm256_fmadd_ps(load_f16x8(a[j] + i + 8), q1, acc1[j]);
      }
    }
    for (; i + 8 <= hd; i += 8) {
      const __m256 q0 = _mm256_loadu_ps(q + i);
      for (int j = 0; j < kR; ++j) acc0[j] = _mm256_fmadd_ps(load_f16x8(a[j] + i), q0, acc0[j]);
    }
    for (int j = 0; j < kR; ++j) {
      float sum = hsum(_mm256_add_ps(acc0[j], acc1[j]));
      for (int64_t t = i; t < hd; ++t) sum += fp16_to_f32(a[j][t]) * q[t];
      out[r + j] = sum;
    }
  }
  for (; r < n; ++r) out[r] = dot_f16_f32(k + static_cast<size_t>(r) * stride, q, hd);
}

// This level's scores query by query (a table pairs dot_f16_rows_multi with its own dot_f16_rows).
void dot_f16_rows_multi(const uint16_t* k, size_t stride, const float* const* q, int64_t nq, int64_t hd, int64_t n,
                        float* const* out) {
  for (int64_t j = 0; j < nq; ++j) dot_f16_rows(k, stride, q[j], hd, n, out[j]);
}

// The F16 accumulator over a run of rows (f16_rows.h) on ymm registers, 32 dimensions at a time.
struct Ymm16 {
  using F = __m256;
  static constexpr int kLanes = 8;
  static F load(const uint16_t* p) { return load_f16x8(p); }
  static void store(uint16_t* p, F x) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(x, kRne));
  }
  static F round(F x) { return _mm256_cvtph_ps(_mm256_cvtps_ph(x, kRne)); }
  static F loadf(const float* p) { return _mm256_loadu_ps(p); }
  static void storef(float* p, F x) { _mm256_storeu_ps(p, x); }
  static F set1(float x) { return _mm256_set1_ps(x); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
};

void mad_f16_rows(uint16_t* acc, const uint16_t* v, size_t stride, const float* ms, const float* vs,
                  int64_t n, int64_t hd) {
  mad_f16_rows_width<Ymm16>(acc, v, stride, ms, vs, n, hd,
                            [](uint16_t* a, const uint16_t* vr, float m, float s, int64_t c) {
                              if (m != 1.0f) scale_f16(a, m, c);
                              mad_f16(a, vr, s, c);
                            });
}

// Four queries at a time in 8 accumulator registers (16 dimensions each, 2 registers for the row),
// then 2 and 1 (f16_rows.h).
void mad_f16_rows_multi(uint16_t* const* acc, const float* const* ms, const float* const* vs, int64_t nq,
                        const uint16_t* v, size_t stride, int64_t n, int64_t hd) {
  mad_f16_rows_multi_width<Ymm16, 4, 8>(acc, ms, vs, nq, v, stride, n, hd,
                                     [](uint16_t* a, const uint16_t* vr, float m, float s, int64_t c) {
                                       if (m != 1.0f) scale_f16(a, m, c);
                                       mad_f16(a, vr, s, c);
                                     });
}

// glibc's expf (exp_glibc.h) for 4 floats, in 4 doubles.
inline __m128 exp4_glibc(__m128 x) {
  const __m256d xd = _mm256_cvtps_pd(x);
  const __m256d inv = _mm256_set1_pd(kExpInvLn2N), shift = _mm256_set1_pd(kExpShift);
  __m256d kd = _mm256_fmadd_pd(inv, xd, shift);
  const __m256i ki = _mm256_castpd_si256(kd);
  kd = _mm256_sub_pd(kd, shift);
  const __m256d r = _mm256_fmsub_pd(inv, xd, kd);
  const __m256i idx = _mm256_and_si256(ki, _mm256_set1_epi64x(31));
  __m256i t = _mm256_i64gather_epi64(reinterpret_cast<const long long*>(kExpTab), idx, 8);
  t = _mm256_add_epi64(t, _mm256_slli_epi64(ki, 47));
  const __m256d z = _mm256_fmadd_pd(_mm256_set1_pd(kExpC0), r, _mm256_set1_pd(kExpC1));
  const __m256d r2 = _mm256_mul_pd(r, r);
  __m256d y = _mm256_fmadd_pd(_mm256_set1_pd(kExpC2), r, _mm256_set1_pd(1.0));
  y = _mm256_fmadd_pd(z, r2, y);
  return _mm256_cvtpd_ps(_mm256_mul_pd(y, _mm256_castsi256_pd(t)));
}

void exp_f32(const float* x, float* y, int64_t n) {
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
  const __m256i special = _mm256_set1_epi32(static_cast<int>(kExpSpecialAbs - 1));
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 e = _mm256_set_m128(exp4_glibc(_mm256_extractf128_ps(v, 1)), exp4_glibc(_mm256_castps256_ps128(v)));
    const int sp = _mm256_movemask_ps(_mm256_castsi256_ps(
        _mm256_cmpgt_epi32(_mm256_and_si256(_mm256_castps_si256(v), abs_mask), special)));
    _mm256_storeu_ps(y + i, e);
    if (sp) {  // |x| >= 88 or NaN: glibc's special path (y may alias x: take x from v)
      alignas(32) float xs[8];
      _mm256_store_ps(xs, v);
      exp_special_lanes(xs, y + i, static_cast<uint32_t>(sp));
    }
  }
  for (; i < n; ++i) y[i] = std::exp(x[i]);
}

// softmax_factors (kernels.h) in chunks of rows: a scalar pass for the running maxima, whose exp
// argument is -|sc - m| either way (m - sc = -(sc - m) exactly), then one exp_f32 call for the
// chunk and the factors. The AVX-512 level scans the maxima in vectors as well.
void softmax_factors(const float* score, int64_t n, float scale, float m, float* m_out, float* ms, float* vs) {
  constexpr int64_t kChunk = 64;
  alignas(32) float e[kChunk];
  bool up[kChunk];
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t c = std::min(kChunk, n - i0);
    for (int64_t i = 0; i < c; ++i) {
      const float sc = score[i0 + i] * scale;
      const float d = sc - m;
      up[i] = d > 0.0f;  // sc > m (both false when either is NaN)
      e[i] = -std::fabs(d);
      m = sc > m ? sc : m;
    }
    exp_f32(e, e, c);
    for (int64_t i = 0; i < c; ++i) {
      ms[i0 + i] = up[i] ? e[i] : 1.0f;
      vs[i0 + i] = up[i] ? 1.0f : e[i];
    }
  }
  *m_out = m;
}

void axpy_f16_f32(float alpha, const uint16_t* x, float* y, int64_t n) {
  const __m256 av = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, load_f16x8(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += alpha * fp16_to_f32(x[i]);
}

// Two queries at a time in 8 accumulator registers (32 dimensions each), then 1 (f16_rows.h).
void axpy_f16_rows_multi(float* const* acc, const float* const* p, int64_t nq, const uint16_t* v,
                         size_t stride, int64_t n, int64_t hd) {
  axpy_f16_rows_multi_width<Ymm16, 2, 8>(acc, p, nq, v, stride, n, hd, axpy_f16_rows_loop_avx2);
}

void f32_to_f16_row(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) y[i] = f32_to_fp16(x[i]);
}

void f16_to_f32_row(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  for (; i < n; ++i) y[i] = fp16_to_f32(x[i]);
}

}  // namespace

void dot_f16_rows_avx2(const uint16_t* k, size_t stride, const float* q, int64_t hd, int64_t n, float* out) {
  dot_f16_rows(k, stride, q, hd, n, out);
}

// This level's axpy row by row and query by query (kernels.h): the ymm and zmm register versions
// take it for head dimensions their vectors do not divide.
void axpy_f16_rows_loop_avx2(float* const* acc, const float* const* p, int64_t nq, const uint16_t* v,
                             size_t stride, int64_t n, int64_t hd) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < nq; ++j) axpy_f16_f32(p[j][i], v + static_cast<size_t>(i) * stride, acc[j], hd);
}

void add_float_ops_avx2(KernelTable& t) {
  t.rmsnorm = rmsnorm;
  t.softmax = softmax;
  t.silu_mul = silu_mul;
  t.gelu_tanh_mul = gelu_tanh_mul;
  t.rope = rope;
  t.dot_f16_f32 = dot_f16_f32;
  t.axpy_f16_f32 = axpy_f16_f32;
  t.f32_to_f16_row = f32_to_f16_row;
  t.f16_to_f32_row = f16_to_f32_row;
  t.exp_f32 = exp_f32;
  t.softmax_factors = softmax_factors;
  t.mad_f16 = mad_f16;
  t.scale_f16 = scale_f16;
  t.dot_f16_rows = dot_f16_rows;
  t.dot_f16_rows_multi = dot_f16_rows_multi;
  t.mad_f16_rows = mad_f16_rows;
  t.mad_f16_rows_multi = mad_f16_rows_multi;
  t.axpy_f16_rows_multi = axpy_f16_rows_multi;
}

}  // namespace slm::kernels::x86
