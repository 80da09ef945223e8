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

// ggml_compute_forward_flash_attn_ext_f16 (CPU, F16 K and V), one query row. The V sum is an F16
// vector updated with the kernels' mad_f16 / scale_f16 (bit-exact with ggml at every ISA level).
void attend_f16(const AttentionArgs& a, AttentionScratch& scratch) {
  const auto& K = kernels::active();
  const int64_t hd = a.head_dim;
  scratch.f.resize(static_cast<size_t>(hd));
  scratch.h.assign(static_cast<size_t>(hd), 0);  // +0.0 in F16
  float* q16 = scratch.f.data();  // q rounded to F16, as ggml converts it to K's type
  uint16_t* acc = scratch.h.data();
  for (int64_t i = 0; i < hd; ++i) q16[i] = kernels::fp16_to_f32(kernels::f32_to_fp16(a.q[i]));
  float m = -INFINITY, s = 0.0f;
  for (int32_t pos = a.first_pos; pos <= a.last_pos; ++pos) {
    const float score = softcap(K.dot_f16_f32(a.kv.k(pos) + a.kv_offset, q16, hd) * a.scale, a.softcap);
    const uint16_t* v = a.kv.v(pos) + a.kv_offset;
    float ms = 1.0f, vs = 1.0f;
    if (score > m) {
      ms = std::exp(m - score);
      m = score;
      K.scale_f16(acc, ms, hd);
    } else {
      vs = std::exp(score - m);
    }
    K.mad_f16(acc, v, vs, hd);  // ggml's vec_mad_f16: acc + v * vs, one fused multiply-add, to F16
    s = s * ms + vs;
  }
  const float inv = s == 0.0f ? 0.0f : 1.0f / s;
  for (int64_t i = 0; i < hd; ++i) a.out[i] = kernels::fp16_to_f32(acc[i]) * inv;
}

}  // namespace

void attend(const AttentionArgs& a, AttentionPrecision precision, AttentionScratch& scratch) {
  if (precision == AttentionPrecision::f32)
    attend_f32(a, scratch.f);
  else
    attend_f16(a, scratch);
}

}  // namespace slm
