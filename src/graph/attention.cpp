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

// ggml_compute_forward_flash_attn_ext_f16 (CPU, F16 K and V) for a group of queries that share a
// KV head. Per query: q rounded to F16 (as ggml converts it to K's type); the V sum an F16 vector
// updated with the kernels' mad_f16 / scale_f16 arithmetic (bit-exact with ggml at every ISA level);
// per run of consecutive cache rows, the scores in one call, the online-softmax factors of each row
// (in order, as ggml folds them), then the V updates in one call. The group makes one pass over the
// union of the queries' ranges in cache-block steps; in each step every query takes the rows of the
// block inside its own range, which are exactly the runs for_each_run would give it alone.
void attend_group_f16(const AttentionGroupArgs& a, AttentionScratch& scratch) {
  const auto& K = kernels::active();
  const int64_t hd = a.head_dim;
  const size_t nq = a.n_queries;
  const int32_t bs = a.kv.block_size;
  const auto stride = static_cast<size_t>(a.kv.kv_dim);
  // per query: q16 [hd], then m and s; shared: score, ms, vs [block_size]
  const size_t per_q = static_cast<size_t>(hd) + 2;
  scratch.f.resize(per_q * nq + 3 * static_cast<size_t>(bs));
  scratch.h.assign(static_cast<size_t>(hd) * nq, 0);  // +0.0 in F16
  float* score = scratch.f.data() + per_q * nq;
  float* ms = score + bs;
  float* vs = ms + bs;
  int32_t lo = a.queries[0].first_pos, hi = a.queries[0].last_pos;
  for (size_t j = 0; j < nq; ++j) {
    const AttentionQuery& qj = a.queries[j];
    float* q16 = scratch.f.data() + per_q * j;
    for (int64_t i = 0; i < hd; ++i) q16[i] = kernels::fp16_to_f32(kernels::f32_to_fp16(qj.q[i]));
    q16[hd] = -INFINITY;  // m
    q16[hd + 1] = 0.0f;   // s
    lo = std::min(lo, qj.first_pos);
    hi = std::max(hi, qj.last_pos);
  }
  for (int32_t p = lo; p <= hi;) {
    const int32_t end = std::min(hi + 1, (p / bs + 1) * bs);
    for (size_t j = 0; j < nq; ++j) {
      const AttentionQuery& qj = a.queries[j];
      const int32_t r0 = std::max(p, qj.first_pos), r1 = std::min(end - 1, qj.last_pos);
      if (r0 > r1) continue;
      const int32_t n = r1 - r0 + 1;
      const float* q16 = scratch.f.data() + per_q * j;
      float& m = scratch.f[per_q * j + static_cast<size_t>(hd)];
      float& s = scratch.f[per_q * j + static_cast<size_t>(hd) + 1];
      K.dot_f16_rows(a.kv.k(r0) + a.kv_offset, stride, q16, hd, n, score);
      for (int32_t i = 0; i < n; ++i) {
        const float sc = softcap(score[i] * a.scale, a.softcap);
        ms[i] = 1.0f;
        vs[i] = 1.0f;
        if (sc > m) {
          ms[i] = std::exp(m - sc);
          m = sc;
        } else {
          vs[i] = std::exp(sc - m);
        }
        s = s * ms[i] + vs[i];
      }
      K.mad_f16_rows(scratch.h.data() + static_cast<size_t>(hd) * j, a.kv.v(r0) + a.kv_offset, stride, ms, vs, n, hd);
    }
    p = end;
  }
  for (size_t j = 0; j < nq; ++j) {
    const float s = scratch.f[per_q * j + static_cast<size_t>(hd) + 1];
    const float inv = s == 0.0f ? 0.0f : 1.0f / s;
    const uint16_t* acc = scratch.h.data() + static_cast<size_t>(hd) * j;
    for (int64_t i = 0; i < hd; ++i) a.queries[j].out[i] = kernels::fp16_to_f32(acc[i]) * inv;
  }
}

}  // namespace

void attend_group(const AttentionGroupArgs& a, AttentionPrecision precision, AttentionScratch& scratch) {
  if (a.n_queries == 0) return;
  if (precision == AttentionPrecision::f16_accumulate) {
    attend_group_f16(a, scratch);
    return;
  }
  for (size_t j = 0; j < a.n_queries; ++j) {  // F32 mode keeps a whole score row per query
    const AttentionQuery& qj = a.queries[j];
    AttentionArgs one{qj.q, a.kv, a.kv_offset, a.head_dim, qj.first_pos, qj.last_pos, a.scale, a.softcap, qj.out};
    attend_f32(one, scratch.f);
  }
}

void attend(const AttentionArgs& a, AttentionPrecision precision, AttentionScratch& scratch) {
  const AttentionQuery one{a.q, a.out, a.first_pos, a.last_pos};
  attend_group(AttentionGroupArgs{a.kv, a.kv_offset, a.head_dim, a.scale, a.softcap, &one, 1}, precision, scratch);
}

}  // namespace slm
