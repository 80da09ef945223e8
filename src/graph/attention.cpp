#include "src/graph/attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/kernels.h"

namespace slm {
namespace {

float softcap(float x, float cap) { return cap > 0.0f ? cap * std::tanh(x / cap) : x; }

// Calls fn(first, n) for the runs of consecutive positions in [first_pos, last_pos] that lie in one
// cache block (their rows are kv.row_stride() apart).
template <class Fn>
void for_each_run(const AttentionArgs& a, Fn&& fn) {
  const int32_t bs = a.kv.block_size;
  for (int32_t p = a.first_pos; p <= a.last_pos;) {
    const int32_t end = std::min(a.last_pos + 1, (p / bs + 1) * bs);
    fn(p, end - p);
    p = end;
  }
}

// Asks for the K and V rows of positions [p0, p1) of one KV head, inside one cache block (where they
// are consecutive), ahead of their use. Forced inline: GCC drops calls to a function that only
// prefetches (kernels/x86/row_streams.h).
inline __attribute__((always_inline)) void prefetch_head_rows(const KvSeqView& kv, int32_t head, int32_t p0,
                                                              int32_t p1) {
  const size_t bytes = static_cast<size_t>(p1 - p0) * kv.row_stride() * sizeof(uint16_t);
  const char* k = reinterpret_cast<const char*>(kv.k(p0, head));
  const char* v = reinterpret_cast<const char*>(kv.v(p0, head));
  for (size_t b = 0; b < bytes; b += 64) {
    __builtin_prefetch(k + b);
    __builtin_prefetch(v + b);
  }
}

void attend_f32(const AttentionArgs& a, std::vector<float>& scores) {
  const auto& K = kernels::active();
  const int32_t len = a.last_pos - a.first_pos + 1;
  const size_t stride = a.kv.row_stride();
  scores.resize(static_cast<size_t>(len));
  for_each_run(a, [&](int32_t p, int32_t n) {
    float* sc = scores.data() + (p - a.first_pos);
    K.dot_f16_rows(a.kv.k(p, a.kv_head), stride, a.q, a.kv.head_dim, n, sc);
    for (int32_t i = 0; i < n; ++i) sc[i] = softcap(sc[i] * a.scale, a.softcap);
  });
  K.softmax(scores.data(), len);
  std::fill(a.out, a.out + a.kv.head_dim, 0.0f);
  for (int32_t p = 0; p < len; ++p)
    K.axpy_f16_f32(scores[p], a.kv.v(a.first_pos + p, a.kv_head), a.out, a.kv.head_dim);
}

// ggml_compute_forward_flash_attn_ext_f16 (CPU, F16 K and V) for a group of queries that share a
// KV head. Per query: q rounded to F16 (as ggml converts it to K's type); the V sum an F16 vector
// updated with the kernels' mad_f16 / scale_f16 arithmetic (bit-exact with ggml at every ISA level);
// per run of consecutive cache rows, the scores in one call, the online-softmax factors of each row
// (in order, as ggml folds them), then the V updates. The group makes one pass over the union of
// the queries' ranges in cache-block steps; in each step every query takes the rows of the block
// inside its own range, which are exactly the runs for_each_run would give it alone. The V updates
// of the queries that take the same rows go in one mad_f16_rows_multi call (the same bits as one
// call each).
void attend_group_f16(const AttentionGroupArgs& a, AttentionScratch& scratch) {
  const auto& K = kernels::active();
  const int64_t hd = a.kv.head_dim;
  const size_t nq = a.n_queries;
  const int32_t bs = a.kv.block_size;
  const size_t stride = a.kv.row_stride();
  // per query: q16 [hd], m, s, then its factors ms, vs and its scores [block_size each]
  const size_t per_q = static_cast<size_t>(hd) + 2 + 3 * static_cast<size_t>(bs);
  scratch.f.resize(per_q * nq);
  scratch.h.resize(static_cast<size_t>(hd) * nq);  // first each q in F16, then the V sums
  scratch.range.resize(nq);
  scratch.acc.resize(nq);
  scratch.ms.resize(nq);
  scratch.vs.resize(nq);
  scratch.q.resize(nq);
  scratch.score.resize(nq);
  int32_t lo = a.queries[0].first_pos, hi = a.queries[0].last_pos;
  for (size_t j = 0; j < nq; ++j) {
    const AttentionQuery& qj = a.queries[j];
    float* q16 = scratch.f.data() + per_q * j;
    uint16_t* qh = scratch.h.data() + static_cast<size_t>(hd) * j;
    K.f32_to_f16_row(qj.q, qh, hd);
    K.f16_to_f32_row(qh, q16, hd);
    q16[hd] = -INFINITY;  // m
    q16[hd + 1] = 0.0f;   // s
    lo = std::min(lo, qj.first_pos);
    hi = std::max(hi, qj.last_pos);
  }
  std::fill(scratch.h.begin(), scratch.h.end(), uint16_t{0});  // the V sums start at +0.0
  // The g queries of one block step sit in scratch.q / .ms / .vs / .score (see below); a query's
  // running maximum m and sum s follow its q16: q[t][hd], q[t][hd + 1].
  // ggml's online softmax for each: the factors ms, vs of every row and the new running maximum
  // from the softmax_factors kernel (the softcap first, where there is one).
  auto softmax_factors = [&](int64_t g, int32_t n) {
    for (int64_t t = 0; t < g; ++t) {
      float* q16 = scratch.q[static_cast<size_t>(t)];
      float* score = scratch.score[static_cast<size_t>(t)];
      float scale = a.scale;
      if (a.softcap > 0.0f) {
        for (int32_t i = 0; i < n; ++i) score[i] = softcap(score[i] * a.scale, a.softcap);
        scale = 1.0f;  // x * 1 is x
      }
      K.softmax_factors(score, n, scale, q16[hd], &q16[hd], scratch.ms[static_cast<size_t>(t)],
                        scratch.vs[static_cast<size_t>(t)]);
    }
  };
  // Then their running sums s = s * ms + vs, row by row, four queries side by side so their chains
  // (a product and a sum per row) overlap.
  auto fold_sums = [&](int64_t g, int32_t n) {
    const auto at = [&](int64_t t) { return static_cast<size_t>(t); };
    int64_t t = 0;
    for (; t + 4 <= g; t += 4) {
      float s[4];
      for (int k = 0; k < 4; ++k) s[k] = scratch.q[at(t + k)][hd + 1];
      for (int32_t i = 0; i < n; ++i)
        for (int k = 0; k < 4; ++k) s[k] = s[k] * scratch.ms[at(t + k)][i] + scratch.vs[at(t + k)][i];
      for (int k = 0; k < 4; ++k) scratch.q[at(t + k)][hd + 1] = s[k];
    }
    for (; t < g; ++t) {
      float s = scratch.q[at(t)][hd + 1];
      for (int32_t i = 0; i < n; ++i) s = s * scratch.ms[at(t)][i] + scratch.vs[at(t)][i];
      scratch.q[at(t)][hd + 1] = s;
    }
  };
  for (int32_t p = lo; p <= hi;) {
    const int32_t end = std::min(hi + 1, (p / bs + 1) * bs);
    if (end <= hi) prefetch_head_rows(a.kv, a.kv_head, end, std::min(hi + 1, end + bs));
    for (size_t j = 0; j < nq; ++j)
      scratch.range[j] = {std::max(p, a.queries[j].first_pos), std::min(end - 1, a.queries[j].last_pos)};
    // The queries that take the same rows of this block go together: their scores in one call, each
    // one's softmax factors, then their V updates in one call.
    for (size_t j = 0; j < nq; ++j) {
      const auto [r0, r1] = scratch.range[j];
      if (r0 > r1) continue;
      const int32_t n = r1 - r0 + 1;
      int64_t g = 0;
      for (size_t i = j; i < nq; ++i) {
        if (scratch.range[i] != scratch.range[j]) continue;
        float* q16 = scratch.f.data() + per_q * i;
        scratch.q[g] = q16;
        scratch.acc[g] = scratch.h.data() + static_cast<size_t>(hd) * i;
        scratch.ms[g] = q16 + hd + 2;
        scratch.vs[g] = q16 + hd + 2 + bs;
        scratch.score[g] = q16 + hd + 2 + 2 * bs;
        ++g;
        if (i != j) scratch.range[i] = {1, 0};  // taken
      }
      K.dot_f16_rows_multi(a.kv.k(r0, a.kv_head), stride, scratch.q.data(), g, hd, n, scratch.score.data());
      softmax_factors(g, n);
      fold_sums(g, n);
      K.mad_f16_rows_multi(scratch.acc.data(), scratch.ms.data(), scratch.vs.data(), g, a.kv.v(r0, a.kv_head),
                           stride, n, hd);
    }
    p = end;
  }
  for (size_t j = 0; j < nq; ++j) {
    const float s = scratch.f[per_q * j + static_cast<size_t>(hd) + 1];
    const float inv = s == 0.0f ? 0.0f : 1.0f / s;
    float* out = a.queries[j].out;
    K.f16_to_f32_row(scratch.h.data() + static_cast<size_t>(hd) * j, out, hd);
    for (int64_t i = 0; i < hd; ++i) out[i] *= inv;
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
    AttentionArgs one{qj.q, a.kv, a.kv_head, qj.first_pos, qj.last_pos, a.scale, a.softcap, qj.out};
    attend_f32(one, scratch.f);
  }
}

void attend(const AttentionArgs& a, AttentionPrecision precision, AttentionScratch& scratch) {
  const AttentionQuery one{a.q, a.out, a.first_pos, a.last_pos};
  attend_group(AttentionGroupArgs{a.kv, a.kv_head, a.scale, a.softcap, &one, 1}, precision, scratch);
}

}  // namespace slm
