// Float ops of the transformer in NEON: rmsnorm and softmax in intrinsics; silu_mul and gelu_tanh_mul
// are the portable (xsimd) ones of kernels/portable/activations.h at 4 lanes. Sums that the scalar
// reference keeps in double (sum of squares, sum of exponentials) stay in double here too (two
// float64x2 accumulators), so only the exponential itself differs: it is within 2 ulp of expf.
#include <cmath>

#include "kernels/arm/neon_kernels.h"
#include "kernels/portable/activations.h"

namespace slm::kernels::neon {
namespace {

// e^x for 4 lanes: the portable exponential (kernels/portable/activations.h), within 2 ulp of expf.
inline float32x4_t exp4(float32x4_t x) { return portable::exp<xsimd::neon64>(x); }

// The lanes of v added into a double accumulator pair.
inline void add_to_double(float32x4_t v, float64x2_t& acc0, float64x2_t& acc1) {
  acc0 = vaddq_f64(acc0, vcvt_f64_f32(vget_low_f32(v)));
  acc1 = vaddq_f64(acc1, vcvt_high_f64_f32(v));
}

}  // namespace

void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps, float w_offset) {
  float64x2_t acc0 = vdupq_n_f64(0.0), acc1 = vdupq_n_f64(0.0);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t v = vld1q_f32(x + i);
    add_to_double(vmulq_f32(v, v), acc0, acc1);  // squares rounded to float, as the reference does
  }
  double sum = vaddvq_f64(vaddq_f64(acc0, acc1));
  for (; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  const float32x4_t off = vdupq_n_f32(w_offset);
  i = 0;
  for (; i + 4 <= n; i += 4)
    vst1q_f32(y + i, vmulq_f32(vmulq_n_f32(vld1q_f32(x + i), scale), vaddq_f32(vld1q_f32(w + i), off)));
  for (; i < n; ++i) y[i] = (x[i] * scale) * (w[i] + w_offset);
}

void softmax(float* x, int64_t n) {
  float32x4_t max4 = vdupq_n_f32(-INFINITY);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) max4 = vmaxq_f32(max4, vld1q_f32(x + i));
  float max = vmaxvq_f32(max4);
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;

  const float32x4_t max_v = vdupq_n_f32(max);
  float64x2_t acc0 = vdupq_n_f64(0.0), acc1 = vdupq_n_f64(0.0);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t e = exp4(vsubq_f32(vld1q_f32(x + i), max_v));
    vst1q_f32(x + i, e);
    add_to_double(e, acc0, acc1);
  }
  double sum = vaddvq_f64(vaddq_f64(acc0, acc1));
  if (i < n) {
    // the tail through the same exp4, so every element sees the same function
    float tail[4] = {0, 0, 0, 0};
    for (int64_t j = i; j < n; ++j) tail[j - i] = x[j] - max;
    float e[4];
    vst1q_f32(e, exp4(vld1q_f32(tail)));
    for (int64_t j = i; j < n; ++j) {
      x[j] = e[j - i];
      sum += static_cast<double>(x[j]);
    }
  }
  const float inv = static_cast<float>(1.0 / sum);  // sum >= 1: the max contributes exp(0)
  i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), inv));
  for (; i < n; ++i) x[i] *= inv;
}

// The gated activations are the portable ones, at 4 lanes.
void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  portable::silu_mul_rows<xsimd::neon64>(gate, up, out, n);
}

void gelu_tanh_mul(const float* gate, const float* up, float* out, int64_t n) {
  portable::gelu_tanh_mul_rows<xsimd::neon64>(gate, up, out, n);
}

}  // namespace slm::kernels::neon
