#include "src/graph/attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/fp16.h"
#include "kernels/kernels.h"

namespace slm {
namespace {

float softcap(float x, float cap) { return cap > 0.0f ? cap * std::tanh(x / cap) : x; }

void attend_f32(const AttentionArgs& a, std::vector<float>& scores) {
  const auto& K = kernels::active();
  const int32_t len = a.last_pos - a.first_pos + 1;
  scores.resize(static_cast<size_t>(len));
  for (int32_t p = 0; p < len; ++p)
    scores[p] = softcap(K.dot_f16_f32(a.kv.k(a.first_pos + p) + a.kv_offset, a.q, a.head_dim) * a.scale, a.softcap);
  K.softmax(scores.data(), len);
  std::fill(a.out, a.out + a.head_dim, 0.0f);
  for (int32_t p = 0; p < len; ++p) K.axpy_f16_f32(scores[p], a.kv.v(a.first_pos + p) + a.kv_offset, a.out, a.head_dim);
}

// ggml_compute_forward_flash_attn_ext_f16 (CPU, F16 K and V), one query row.
void attend_f16(const AttentionArgs& a, std::vector<float>& scratch) {
  const auto& K = kernels::active();
  const int64_t hd = a.head_dim;
  scratch.resize(static_cast<size_t>(hd) * 2);
  float* q16 = scratch.data();   // q rounded to F16, as ggml converts it to K's type
  float* acc = q16 + hd;         // V sum, every element an F16 value
  for (int64_t i = 0; i < hd; ++i) q16[i] = kernels::fp16_to_f32(kernels::f32_to_fp16(a.q[i]));
  std::fill(acc, acc + hd, 0.0f);
  float m = -INFINITY, s = 0.0f;
  for (int32_t pos = a.first_pos; pos <= a.last_pos; ++pos) {
    const float score = softcap(K.dot_f16_f32(a.kv.k(pos) + a.kv_offset, q16, hd) * a.scale, a.softcap);
    const uint16_t* v = a.kv.v(pos) + a.kv_offset;
    float ms = 1.0f, vs = 1.0f;
    if (score > m) {
      ms = std::exp(m - score);
      m = score;
      for (int64_t i = 0; i < hd; ++i) acc[i] = kernels::fp16_to_f32(kernels::f32_to_fp16(acc[i] * ms));
    } else {
      vs = std::exp(score - m);
    }
    // ggml's vec_mad_f16: acc + v * vs as one fused multiply-add, rounded to F16.
    for (int64_t i = 0; i < hd; ++i) acc[i] = kernels::fp16_to_f32(kernels::f32_to_fp16(std::fma(kernels::fp16_to_f32(v[i]), vs, acc[i])));
    s = s * ms + vs;
  }
  const float inv = s == 0.0f ? 0.0f : 1.0f / s;
  for (int64_t i = 0; i < hd; ++i) a.out[i] = acc[i] * inv;
}

}  // namespace

void attend(const AttentionArgs& a, AttentionPrecision precision, std::vector<float>& scratch) {
  if (precision == AttentionPrecision::f32)
    attend_f32(a, scratch);
  else
    attend_f16(a, scratch);
}

}  // namespace slm
