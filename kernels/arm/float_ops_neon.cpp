// Float ops of the transformer in NEON: rmsnorm, softmax, silu_mul, gelu_tanh_mul. Sums that the scalar reference
// keeps in double (sum of squares, sum of exponentials) stay in double here too (two float64x2
// accumulators), so only the exponential itself differs: exp4() below is within 2 ulp of expf.
#include <cmath>

#include "kernels/arm/neon_kernels.h"

namespace slm::kernels::neon {
namespace {

// e^x for 4 lanes, within 2 ulp over the float range. x = k ln2 + r with k = round(x / ln2) and
// |r| <= ln2 / 2 (ln2 split in two parts so r is exact to ~2^-32), e^r by its degree-7 Taylor
// polynomial (truncation error 5e-9 relative), times 2^k built in the exponent bits.
// x > 88.72 gives +inf, x < -87.33 gives +0 (e^x there is below the smallest normal float).
inline float32x4_t exp4(float32x4_t x) {
  const float32x4_t hi_limit = vdupq_n_f32(88.7228394f), lo_limit = vdupq_n_f32(-87.3365479f);
  const uint32x4_t overflow = vcgtq_f32(x, hi_limit);
  const uint32x4_t underflow = vcltq_f32(x, lo_limit);
  const float32x4_t xc = vminq_f32(vmaxq_f32(x, lo_limit), hi_limit);

  const float32x4_t k = vrndnq_f32(vmulq_n_f32(xc, 1.44269504088896341f));
  float32x4_t r = vfmsq_n_f32(xc, k, 0.693359375f);  // ln2 high part: 9 significant bits, k * hi exact
  r = vfmsq_n_f32(r, k, -2.12194440e-4f);            // ln2 low part

  float32x4_t p = vdupq_n_f32(1.0f / 5040.0f);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 720.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 120.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 24.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 6.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);

  // 2^k for k in [-126, 128]: split in two factors so k = 128 (x near the top limit) stays finite
  const int32x4_t ki = vcvtq_s32_f32(k);
  const int32x4_t k1 = vshrq_n_s32(ki, 1), k2 = vsubq_s32(ki, k1);
  const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(k1, vdupq_n_s32(127)), 23));
  const float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(k2, vdupq_n_s32(127)), 23));
  float32x4_t e = vmulq_f32(vmulq_f32(p, s1), s2);
  e = vbslq_f32(overflow, vdupq_n_f32(INFINITY), e);
  e = vbslq_f32(underflow, vdupq_n_f32(0.0f), e);
  return e;
}

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

namespace {
inline float32x4_t silu_mul4(float32x4_t g, float32x4_t u) {
  const float32x4_t denom = vaddq_f32(vdupq_n_f32(1.0f), exp4(vnegq_f32(g)));
  return vmulq_f32(vdivq_f32(g, denom), u);
}
}  // namespace

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(out + i, silu_mul4(vld1q_f32(gate + i), vld1q_f32(up + i)));
  if (i < n) {
    // the tail through the same lanes (out may alias gate or up: read before writing)
    float g[4] = {0, 0, 0, 0}, u[4] = {0, 0, 0, 0}, o[4];
    for (int64_t j = i; j < n; ++j) {
      g[j - i] = gate[j];
      u[j - i] = up[j];
    }
    vst1q_f32(o, silu_mul4(vld1q_f32(g), vld1q_f32(u)));
    for (int64_t j = i; j < n; ++j) out[j] = o[j - i];
  }
}

namespace {
// 0.5 g (1 + tanh(z)) = g / (1 + e^(-2z)), z = sqrt(2/pi) (g + 0.044715 g^3): no cancellation near
// z = 0, and e^(-2z) -> inf / 0 gives the limits 0 and g exactly.
inline float32x4_t gelu_tanh_mul4(float32x4_t g, float32x4_t u) {
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kCoefA = 0.044715f;
  const float32x4_t inner = vmulq_f32(vmulq_n_f32(g, kSqrt2OverPi), vaddq_f32(vdupq_n_f32(1.0f), vmulq_n_f32(vmulq_f32(g, g), kCoefA)));
  const float32x4_t denom = vaddq_f32(vdupq_n_f32(1.0f), exp4(vmulq_n_f32(inner, -2.0f)));
  return vmulq_f32(vdivq_f32(g, denom), u);
}
}  // namespace

void gelu_tanh_mul(const float* gate, const float* up, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(out + i, gelu_tanh_mul4(vld1q_f32(gate + i), vld1q_f32(up + i)));
  if (i < n) {
    float g[4] = {0, 0, 0, 0}, u[4] = {0, 0, 0, 0}, o[4];
    for (int64_t j = i; j < n; ++j) {
      g[j - i] = gate[j];
      u[j - i] = up[j];
    }
    vst1q_f32(o, gelu_tanh_mul4(vld1q_f32(g), vld1q_f32(u)));
    for (int64_t j = i; j < n; ++j) out[j] = o[j - i];
  }
}

}  // namespace slm::kernels::neon
