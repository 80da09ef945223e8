#include "src/graph/attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/fp16.h"
#include "kernels/kernels.h"

namespace slm {
namespace {

float softcap(float x, float cap) { return cap > 0.0f ? cap * std::tanh(x / cap) : x; }

// Calls fn(first, n) for the runs of consecutive positions in [first_pos, last_pos] that lie in one
// cache block (their rows are kv_dim apart).
template <class Fn>
void for_each_run(const AttentionArgs& a, Fn&& fn) {
  const int32_t bs = a.kv.block_size;
  for (int32_t p = a.first_pos; p <= a.last_pos;) {
    const int32_t end = std::min(a.last_pos + 1, (p / bs + 1) * bs);
    fn(p, end - p);
    p = end;
  }
}

void attend_f32(const AttentionArgs& a, std::vector<float>& scores) {
  const auto& K = kernels::active();
  const int32_t len = a.last_pos - a.first_pos + 1;
  const auto stride = static_cast<size_t>(a.kv.kv_dim);
  scores.resize(static_cast<size_t>(len));
  for_each_run(a, [&](int32_t p, int32_t n) {
    float* sc = scores.data() + (p - a.first_pos);
    K.dot_f16_rows(a.kv.k(p) + a.kv_offset, stride, a.q, a.head_dim, n, sc);
    for (int32_t i = 0; i < n; ++i) sc[i] = softcap(sc[i] * a.scale, a.softcap);
  });
  K.softmax(scores.data(), len);
  std::fill(a.out, a.out + a.head_dim, 0.0f);
  for (int32_t p = 0; p < len; ++p) K.axpy_f16_f32(scores[p], a.kv.v(a.first_pos + p) + a.kv_offset, a.out, a.head_dim);
}

// ggml_compute_forward_flash_attn_ext_f16 (CPU, F16 K and V), one query row. The V sum is an F16
// vector updated with the kernels' mad_f16 / scale_f16 arithmetic (bit-exact with ggml at every ISA
// level). Per run of consecutive cache rows: the scores in one call, the online-softmax factors of
// each row (in order, as ggml folds them), then the V updates in one call.
void attend_f16(const AttentionArgs& a, AttentionScratch& scratch) {
  const auto& K = kernels::active();
  const int64_t hd = a.head_dim;
  const auto bs = static_cast<size_t>(a.kv.block_size);
  const auto stride = static_cast<size_t>(a.kv.kv_dim);
  scratch.f.resize(static_cast<size_t>(hd) + 3 * bs);
  scratch.h.assign(static_cast<size_t>(hd), 0);  // +0.0 in F16
  float* q16 = scratch.f.data();  // q rounded to F16, as ggml converts it to K's type
  float* score = q16 + hd;
  float* ms = score + bs;
  float* vs = ms + bs;
  uint16_t* acc = scratch.h.data();
  for (int64_t i = 0; i < hd; ++i) q16[i] = kernels::fp16_to_f32(kernels::f32_to_fp16(a.q[i]));
  float m = -INFINITY, s = 0.0f;
  for_each_run(a, [&](int32_t p, int32_t n) {
    K.dot_f16_rows(a.kv.k(p) + a.kv_offset, stride, q16, hd, n, score);
    for (int32_t i = 0; i < n; ++i) {
      const float sc = softcap(score[i] * a.scale, a.softcap);
      ms[i] = 1.0f;
      vs[i] = 1.0f;
      if (sc > m) {
        ms[i] = std::exp(m - sc);  // the sum so far is rescaled (scale_f16) before this row's update
        m = sc;
      } else {
        vs[i] = std::exp(sc - m);
      }
      s = s * ms[i] + vs[i];
    }
    K.mad_f16_rows(acc, a.kv.v(p) + a.kv_offset, stride, ms, vs, n, hd);  // acc + v * vs, one FMA, to F16
  });
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
