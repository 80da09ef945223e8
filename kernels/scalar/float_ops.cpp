// Scalar float ops of the transformer: norms, softmax, gated activations, rotary embedding and the
// F16-KV-cache helpers of attention. Written as ggml's CPU ops compute them (sums of squares and of
// exponentials in double), so they are also the precise reference the SIMD versions are held to.
#include <cassert>
#include <cmath>

#include "kernels/fp16.h"
#include "kernels/scalar/scalar.h"
#include "kernels/scalar/strict_fp.h"

namespace slm::kernels::scalar {

void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps, float w_offset) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * (w[i] + w_offset);
}

void softmax(float* x, int64_t n) {
  assert(n >= 1);
  float max = x[0];
  for (int64_t i = 1; i < n; ++i) max = x[i] > max ? x[i] : max;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += static_cast<double>(x[i]);
  }
  const float inv = static_cast<float>(1.0 / sum);  // sum >= 1: the max contributes exp(0)
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void gelu_tanh_mul(const float* gate, const float* up, float* out, int64_t n) {
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kCoefA = 0.044715f;
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = 0.5f * g * (1.0f + std::tanh(kSqrt2OverPi * g * (1.0f + kCoefA * g * g))) * up[i];
  }
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dim, const float* cos, const float* sin,
          bool neox) {
  assert(rope_dim % 2 == 0 && rope_dim <= head_dim);
  for (int64_t h = 0; h < n_heads; ++h) rope_pairs(x + h * head_dim, 0, rope_dim / 2, cos, sin, neox);
}

float dot_f16_f32(const uint16_t* a, const float* b, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_f32(a[i]) * b[i]);
  return static_cast<float>(sum);
}

void axpy_f16_f32(float alpha, const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * fp16_to_f32(x[i]);
}

void f32_to_f16_row(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = f32_to_fp16(x[i]);
}

void f16_to_f32_row(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_f32(x[i]);
}

void exp_f32(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}

void softmax_factors(const float* score, int64_t n, float scale, float m, float* m_out, float* ms, float* vs) {
  for (int64_t i = 0; i < n; ++i) {
    const float sc = score[i] * scale;
    if (sc > m) {
      ms[i] = std::exp(m - sc);
      vs[i] = 1.0f;
      m = sc;
    } else {
      ms[i] = 1.0f;
      vs[i] = std::exp(sc - m);
    }
  }
  *m_out = m;
}

void mad_f16(uint16_t* acc, const uint16_t* v, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] = f32_to_fp16(std::fma(fp16_to_f32(v[i]), s, fp16_to_f32(acc[i])));
}

void scale_f16(uint16_t* acc, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] = f32_to_fp16(fp16_to_f32(acc[i]) * s);
}

void dot_f16_rows(const uint16_t* k, size_t stride, const float* q, int64_t hd, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = dot_f16_f32(k + static_cast<size_t>(i) * stride, q, hd);
}

void dot_f16_rows_multi(const uint16_t* k, size_t stride, const float* const* q, int64_t nq, int64_t hd, int64_t n,
                        float* const* out) {
  for (int64_t j = 0; j < nq; ++j) dot_f16_rows(k, stride, q[j], hd, n, out[j]);
}

void mad_f16_rows(uint16_t* acc, const uint16_t* v, size_t stride, const float* ms, const float* vs, int64_t n,
                  int64_t hd) {
  for (int64_t i = 0; i < n; ++i) {
    if (ms[i] != 1.0f) scale_f16(acc, ms[i], hd);
    mad_f16(acc, v + static_cast<size_t>(i) * stride, vs[i], hd);
  }
}

void mad_f16_rows_multi(uint16_t* const* acc, const float* const* ms, const float* const* vs, int64_t nq,
                        const uint16_t* v, size_t stride, int64_t n, int64_t hd) {
  for (int64_t j = 0; j < nq; ++j) mad_f16_rows(acc[j], v, stride, ms[j], vs[j], n, hd);
}

void axpy_f16_rows_multi(float* const* acc, const float* const* p, int64_t nq, const uint16_t* v,
                         size_t stride, int64_t n, int64_t hd) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < nq; ++j) axpy_f16_f32(p[j][i], v + static_cast<size_t>(i) * stride, acc[j], hd);
}

}  // namespace slm::kernels::scalar
