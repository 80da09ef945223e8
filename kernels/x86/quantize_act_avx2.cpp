// AVX2 activation quantizers: Q8_0 and Q8_K (the int8 formats every quantized matmul consumes) and
// F16 / BF16. Q8_0 rounds half away from zero exactly as the scalar std::round (truncate, then
// correct by the exact remainder); Q8_K rounds to nearest even as ggml's nearest_int (cvtps_epi32 in
// the default rounding mode). Scales are computed as the scalar code computes them, so the bytes match
// scalar's except where a product x * id lands on a different side of a rounding boundary.
#include <immintrin.h>

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/scalar/scalar.h"
#include "kernels/x86/simd_util.h"
#include "kernels/x86/x86.h"

namespace slm::kernels::x86 {
namespace {

const __m256 kSignMask = _mm256_set1_ps(-0.0f);

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Round half away from zero, exactly: v - trunc(v) is exact in float.
inline __m256 round_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(kSignMask, _mm256_sub_ps(v, t));
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 one = _mm256_or_ps(_mm256_and_ps(v, kSignMask), _mm256_set1_ps(1.0f));
  return _mm256_add_ps(t, _mm256_and_ps(up, one));
}

// 32 int32 (4 ymm, integral values in [-128, 127]) to 32 bytes in order.
inline __m256i pack_32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b);  // lanes interleave per 128-bit half...
  const __m256i cd = _mm256_packs_epi32(c, d);
  const __m256i all = _mm256_packs_epi16(ab, cd);
  return _mm256_permutevar8x32_epi32(all, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));  // ...undone here
}

void quantize_q8_0(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q8_0*>(vy);
  for (int64_t i = 0; i < n / QK8_0; ++i, x += QK8_0) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm256_loadu_ps(x + 8 * k);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(kSignMask, v[k]));
    }
    const float d = hmax(amax) / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);  // F16C: the same rounding as f32_to_fp16
    const __m256 idv = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = _mm256_cvtps_epi32(round_away(_mm256_mul_ps(v[k], idv)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), pack_32(q[0], q[1], q[2], q[3]));
  }
}

void quantize_q8_K(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q8_K*>(vy);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    __m256 amaxv = _mm256_setzero_ps();
    for (int k = 0; k < kQK_K; k += 8) amaxv = _mm256_max_ps(amaxv, _mm256_andnot_ps(kSignMask, _mm256_loadu_ps(x + k)));
    const float amax = hmax(amaxv);
    if (amax == 0.0f) {
      y[i].d = 0;
      std::memset(y[i].qs, 0, sizeof(y[i].qs));
      std::memset(y[i].bsums, 0, sizeof(y[i].bsums));
      continue;
    }
    // the scalar code keeps the sign of the first element of largest magnitude
    float max = amax;
    const __m256 target = _mm256_set1_ps(amax);
    for (int k = 0; k < kQK_K; k += 8) {
      const int mask = _mm256_movemask_ps(
          _mm256_cmp_ps(_mm256_andnot_ps(kSignMask, _mm256_loadu_ps(x + k)), target, _CMP_EQ_OQ));
      if (mask) {
        max = x[k + __builtin_ctz(static_cast<unsigned>(mask))];
        break;
      }
    }
    const float iscale = -127.f / max;
    const __m256 is = _mm256_set1_ps(iscale);
    for (int k = 0; k < kQK_K; k += 32) {
      __m256i q[4];
      for (int j = 0; j < 4; ++j) q[j] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * j), is));
      const __m256i bytes = _mm256_min_epi8(pack_32(q[0], q[1], q[2], q[3]), _mm256_set1_epi8(127));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + k), bytes);
      // sums of 4 bytes in 8 int32 lanes: lanes 0-3 are elements 0..15, lanes 4-7 elements 16..31
      const __m256i quads = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), bytes), _mm256_set1_epi16(1));
      alignas(32) int32_t s[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(s), quads);
      y[i].bsums[k / 16] = static_cast<int16_t>(s[0] + s[1] + s[2] + s[3]);
      y[i].bsums[k / 16 + 1] = static_cast<int16_t>(s[4] + s[5] + s[6] + s[7]);
    }
    y[i].d = 1 / iscale;
  }
}

void quantize_f16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint16_t*>(vy);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) y[i] = f32_to_fp16(x[i]);
}

// Round to nearest even in integer arithmetic (as f32_to_bf16); NaN keeps its top bits, made quiet.
void quantize_bf16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint16_t*>(vy);
  int64_t i = 0;
  const __m256i one = _mm256_set1_epi32(1);
  for (; i + 8 <= n; i += 8) {
    const __m256i bits = _mm256_castps_si256(_mm256_loadu_ps(x + i));
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), one);
    const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(bits, _mm256_add_epi32(_mm256_set1_epi32(0x7FFF), lsb)), 16);
    const __m256i nan_bits = _mm256_or_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(0x40));
    const __m256i abs_bits = _mm256_and_si256(bits, _mm256_set1_epi32(0x7FFFFFFF));
    const __m256i is_nan = _mm256_cmpgt_epi32(abs_bits, _mm256_set1_epi32(0x7F800000));
    const __m256i r = _mm256_blendv_epi8(rounded, nan_bits, is_nan);
    // 8 uint32 holding 16-bit values -> 8 uint16
    const __m256i packed = _mm256_packus_epi32(r, r);  // per 128-bit half: [a0..a3 a0..a3]
    const __m256i ordered = _mm256_permute4x64_epi64(packed, 0x08);  // qwords 0 and 2
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_castsi256_si128(ordered));
  }
  for (; i < n; ++i) y[i] = f32_to_bf16(x[i]);
}

}  // namespace

void add_quantize_act_avx2(KernelTable& t) {
  t.quantize_act[slot(DType::Q8_0)] = quantize_q8_0;
  t.quantize_act[slot(DType::Q8_K)] = quantize_q8_K;
  t.quantize_act[slot(DType::F16)] = quantize_f16;
  t.quantize_act[slot(DType::BF16)] = quantize_bf16;
}

}  // namespace slm::kernels::x86
