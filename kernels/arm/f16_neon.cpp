// The F16 KV-cache helpers of attention, with the fp16 conversion instructions (FCVTL/FCVTN, round to
// nearest even under Linux's default FPCR, so f32_to_f16_row is bit-identical with f32_to_fp16).
#include "kernels/arm/neon_kernels.h"

namespace slm::kernels::neon {

float dot_f16_f32(const uint16_t* a, const float* b, int64_t n) {
  // four accumulators of 4 lanes: 16 products in flight per iteration
  float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int k = 0; k < 4; ++k) {
      const float32x4_t av = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(a + i + 4 * k)));
      acc[k] = vfmaq_f32(acc[k], av, vld1q_f32(b + i + 4 * k));
    }
  }
  for (; i + 4 <= n; i += 4)
    acc[0] = vfmaq_f32(acc[0], vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(a + i))), vld1q_f32(b + i));
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
  for (; i < n; ++i) sum += half_to_float(a[i]) * b[i];
  return sum;
}

// The scores of n cache rows: this level's dot_f16_f32 row by row, so bit-identical to it (a table
// must pair the two; dispatch would otherwise take the scalar loop, which sums differently).
void dot_f16_rows(const uint16_t* k, size_t stride, const float* q, int64_t hd, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = dot_f16_f32(k + static_cast<size_t>(i) * stride, q, hd);
}

void dot_f16_rows_multi(const uint16_t* k, size_t stride, const float* const* q, int64_t nq, int64_t hd, int64_t n,
                        float* const* out) {
  for (int64_t j = 0; j < nq; ++j) dot_f16_rows(k, stride, q[j], hd, n, out[j]);
}

void axpy_f16_f32(float alpha, const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(x + i));
    vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vcvt_f32_f16(vget_low_f16(h)), alpha));
    vst1q_f32(y + i + 4, vfmaq_n_f32(vld1q_f32(y + i + 4), vcvt_high_f32_f16(h), alpha));
  }
  for (; i < n; ++i) y[i] += alpha * half_to_float(x[i]);
}

// This level's axpy row by row and query by query, so bit-identical to it (kernels.h).
void axpy_f16_rows_multi(float* const* acc, const float* const* p, int64_t nq, const uint16_t* v,
                         size_t stride, int64_t n, int64_t hd) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < nq; ++j) axpy_f16_f32(p[j][i], v + static_cast<size_t>(i) * stride, acc[j], hd);
}

void f32_to_f16_row(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t h = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(x + i)), vld1q_f32(x + i + 4));
    vst1q_u16(y + i, vreinterpretq_u16_f16(h));
  }
  for (; i < n; ++i) y[i] = float_to_half(x[i]);
}

void f16_to_f32_row(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(x + i));
    vst1q_f32(y + i, vcvt_f32_f16(vget_low_f16(h)));
    vst1q_f32(y + i + 4, vcvt_high_f32_f16(h));
  }
  for (; i < n; ++i) y[i] = half_to_float(x[i]);
}

}  // namespace slm::kernels::neon
