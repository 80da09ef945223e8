#include "src/graph/attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/kernels.h"

namespace slm {
namespace {

float softcap(float x, float cap) { return cap > 0.0f ? cap * std::tanh(x / cap) : x; }

// Asks for the K and/or V rows of positions [p0, p1) of one KV head, inside one cache block (where
// they are consecutive), ahead of their use. Forced inline: GCC drops calls to a function that only
// prefetches (kernels/x86/row_streams.h).
inline __attribute__((always_inline)) void prefetch_head_rows(const KvSeqView& kv, int32_t head, int32_t p0,
                                                              int32_t p1, bool k_rows, bool v_rows) {
  const size_t bytes = static_cast<size_t>(p1 - p0) * kv.row_stride() * sizeof(uint16_t);
  const char* k = reinterpret_cast<const char*>(kv.k(p0, head));
  const char* v = reinterpret_cast<const char*>(kv.v(p0, head));
  for (size_t b = 0; b < bytes; b += 64) {
    if (k_rows) __builtin_prefetch(k + b);
    if (v_rows) __builtin_prefetch(v + b);
  }
}

// Calls fn(r0, n, g) for each cache-block step of the group's positions and each set of g queries
// that take the same rows [r0, r0 + n) of that block (their indices in scratch.idx[0 .. g), in
// order), having asked for the next block's K rows, V rows or both.
template <class Fn>
void for_each_block_group(const AttentionGroupArgs& a, AttentionScratch& scratch, bool k_rows, bool v_rows, Fn&& fn) {
  const size_t nq = a.n_queries;
  const int32_t bs = a.kv.block_size;
  int32_t lo = a.queries[0].first_pos, hi = a.queries[0].last_pos;
  for (size_t j = 0; j < nq; ++j) {
    lo = std::min(lo, a.queries[j].first_pos);
    hi = std::max(hi, a.queries[j].last_pos);
  }
  scratch.range.resize(nq);
  scratch.idx.resize(nq);
  std::vector<size_t>& idx = scratch.idx;
  for (int32_t p = lo; p <= hi;) {
    const int32_t end = std::min(hi + 1, (p / bs + 1) * bs);
    if (end <= hi) prefetch_head_rows(a.kv, a.kv_head, end, std::min(hi + 1, end + bs), k_rows, v_rows);
    for (size_t j = 0; j < nq; ++j)
      scratch.range[j] = {std::max(p, a.queries[j].first_pos), std::min(end - 1, a.queries[j].last_pos)};
    for (size_t j = 0; j < nq; ++j) {
      const auto [r0, r1] = scratch.range[j];
      if (r0 > r1) continue;
      size_t g = 0;
      for (size_t i = j; i < nq; ++i) {
        if (scratch.range[i] != scratch.range[j]) continue;
        idx[g++] = i;
        if (i != j) scratch.range[i] = {1, 0};  // taken
      }
      fn(r0, r1 - r0 + 1, g);
    }
    p = end;
  }
}

// F32 attention for queries that share a KV head: each query's scores over its whole range (q.k,
// scaled, then the softcap), a softmax over them, then the weighted sum of the V rows in F32. Two
// passes over the group's positions in cache-block steps, the K rows, then the V rows; in each step
// the queries that take the same rows go through one dot_f16_rows_multi / axpy_f16_rows_multi call,
// which give each query the bits of dot_f16_rows / axpy_f16_f32 alone. So every query gets what
// one query alone gets: its scores row by row, K.softmax, then axpy_f16_f32 over its rows in order.
void attend_group_f32(const AttentionGroupArgs& a, AttentionScratch& scratch) {
  const auto& K = kernels::active();
  const int64_t hd = a.kv.head_dim;
  const size_t nq = a.n_queries;
  const size_t stride = a.kv.row_stride();
  scratch.score_at.resize(nq + 1);
  scratch.score_at[0] = 0;
  for (size_t j = 0; j < nq; ++j) {
    const AttentionQuery& qj = a.queries[j];
    const size_t len = qj.last_pos >= qj.first_pos ? static_cast<size_t>(qj.last_pos - qj.first_pos) + 1 : 0;
    scratch.score_at[j + 1] = scratch.score_at[j] + len;
    std::fill(qj.out, qj.out + hd, 0.0f);
  }
  scratch.f.resize(scratch.score_at[nq]);
  scratch.cq.resize(nq);
  scratch.cp.resize(nq);
  scratch.score.resize(nq);
  scratch.out.resize(nq);
  const std::vector<size_t>& idx = scratch.idx;
  // the score of query j at position p
  const auto score_of = [&](size_t j, int32_t p) {
    return scratch.f.data() + scratch.score_at[j] + static_cast<size_t>(p - a.queries[j].first_pos);
  };
  for_each_block_group(a, scratch, true, false, [&](int32_t r0, int32_t n, size_t g) {
    for (size_t t = 0; t < g; ++t) {
      scratch.cq[t] = a.queries[idx[t]].q;
      scratch.score[t] = score_of(idx[t], r0);
    }
    K.dot_f16_rows_multi(a.kv.k(r0, a.kv_head), stride, scratch.cq.data(), static_cast<int64_t>(g), hd, n,
                         scratch.score.data());
    for (size_t t = 0; t < g; ++t) {
      float* sc = scratch.score[t];
      for (int32_t i = 0; i < n; ++i) sc[i] *= a.scale;
      if (a.softcap > 0.0f)
        for (int32_t i = 0; i < n; ++i) sc[i] = softcap(sc[i], a.softcap);
    }
  });
  for (size_t j = 0; j < nq; ++j)
    if (scratch.score_at[j + 1] > scratch.score_at[j])
      K.softmax(scratch.f.data() + scratch.score_at[j],
                static_cast<int64_t>(scratch.score_at[j + 1] - scratch.score_at[j]));
  for_each_block_group(a, scratch, false, true, [&](int32_t r0, int32_t n, size_t g) {
    for (size_t t = 0; t < g; ++t) {
      scratch.out[t] = a.queries[idx[t]].out;
      scratch.cp[t] = score_of(idx[t], r0);
    }
    K.axpy_f16_rows_multi(scratch.out.data(), scratch.cp.data(), static_cast<int64_t>(g),
                          a.kv.v(r0, a.kv_head), stride, n, hd);
  });
}

// ggml_compute_forward_flash_attn_ext_f16 (CPU, F16 K and V) for a group of queries that share a
// KV head. Per query: q rounded to F16 (as ggml converts it to K's type); the V sum an F16 vector
// updated with the kernels' mad_f16 / scale_f16 arithmetic (bit-exact with ggml at every ISA level);
// per run of consecutive cache rows, the scores in one call, the online-softmax factors of each row
// (in order, as ggml folds them), then the V updates. The group makes one pass over the union of
// the queries' ranges in cache-block steps (for_each_block_group); in each step every query takes
// the rows of the block inside its own range, which are exactly the runs it would take alone. The
// V updates of the queries that take the same rows go in one mad_f16_rows_multi call (the same bits
// as one call each).
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
  scratch.acc.resize(nq);
  scratch.ms.resize(nq);
  scratch.vs.resize(nq);
  scratch.q.resize(nq);
  scratch.score.resize(nq);
  for (size_t j = 0; j < nq; ++j) {
    const AttentionQuery& qj = a.queries[j];
    float* q16 = scratch.f.data() + per_q * j;
    uint16_t* qh = scratch.h.data() + static_cast<size_t>(hd) * j;
    K.f32_to_f16_row(qj.q, qh, hd);
    K.f16_to_f32_row(qh, q16, hd);
    q16[hd] = -INFINITY;  // m
    q16[hd + 1] = 0.0f;   // s
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
  // The queries that take the same rows of a block step go together: their scores in one call,
  // each one's softmax factors, then their V updates in one call.
  const std::vector<size_t>& idx = scratch.idx;
  for_each_block_group(a, scratch, true, true, [&](int32_t r0, int32_t n, size_t g) {
    for (size_t t = 0; t < g; ++t) {
      float* q16 = scratch.f.data() + per_q * idx[t];
      scratch.q[t] = q16;
      scratch.acc[t] = scratch.h.data() + static_cast<size_t>(hd) * idx[t];
      scratch.ms[t] = q16 + hd + 2;
      scratch.vs[t] = q16 + hd + 2 + bs;
      scratch.score[t] = q16 + hd + 2 + 2 * bs;
    }
    const auto gq = static_cast<int64_t>(g);
    K.dot_f16_rows_multi(a.kv.k(r0, a.kv_head), stride, scratch.q.data(), gq, hd, n, scratch.score.data());
    softmax_factors(gq, n);
    fold_sums(gq, n);
    K.mad_f16_rows_multi(scratch.acc.data(), scratch.ms.data(), scratch.vs.data(), gq, a.kv.v(r0, a.kv_head),
                         stride, n, hd);
  });
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
  attend_group_f32(a, scratch);
}

void attend(const AttentionArgs& a, AttentionPrecision precision, AttentionScratch& scratch) {
  const AttentionQuery one{a.q, a.out, a.first_pos, a.last_pos};
  attend_group(AttentionGroupArgs{a.kv, a.kv_head, a.scale, a.softcap, &one, 1}, precision, scratch);
}

}  // namespace slm
