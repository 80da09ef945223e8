// mad_f16_rows at any vector width: the F16 flash-attention accumulator (kernels.h) kept in
// registers across a run of cache rows, kW registers of V::kLanes dimensions at a time, each step
// rounded to F16 exactly as mad_f16 / scale_f16 round when they store. Rounding-exact arithmetic,
// so every width gives the scalar reference's bits. V supplies the width: F (float vector), kLanes,
// load (kLanes F16 values as floats), store (floats to F16, nearest even), round (the F16 round trip
// in registers), set1, mul, fmadd.
// Internal linkage (see tile_driver.h): each ISA's translation unit instantiates its own.
#pragma once

#include <cstddef>
#include <cstdint>

namespace slm::kernels::x86 {
namespace {

// Rows i < n (row i at v + i * stride): if ms[i] != 1, acc *= ms[i]; then acc += v_i * vs[i].
// tail(acc, v_row, ms_i, vs_i, count) does one row's step on the dimensions past the last whole step.
template <class V, class Tail>
void mad_f16_rows_width(uint16_t* acc, const uint16_t* v, size_t stride, const float* ms, const float* vs,
                        int64_t n, int64_t hd, Tail&& tail) {
  constexpr int kW = 4;
  constexpr int64_t kStep = static_cast<int64_t>(V::kLanes) * kW;
  int64_t d = 0;
  for (; d + kStep <= hd; d += kStep) {
    typename V::F a[kW];
    for (int j = 0; j < kW; ++j) a[j] = V::load(acc + d + V::kLanes * j);
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t* vr = v + static_cast<size_t>(i) * stride + d;
      if (ms[i] != 1.0f) {
        const typename V::F m = V::set1(ms[i]);
        for (int j = 0; j < kW; ++j) a[j] = V::round(V::mul(a[j], m));
      }
      const typename V::F sv = V::set1(vs[i]);
      for (int j = 0; j < kW; ++j) a[j] = V::round(V::fmadd(V::load(vr + V::kLanes * j), sv, a[j]));
    }
    for (int j = 0; j < kW; ++j) V::store(acc + d + V::kLanes * j, a[j]);
  }
  if (d < hd)  // the remaining dimensions, row by row
    for (int64_t i = 0; i < n; ++i)
      tail(acc + d, v + static_cast<size_t>(i) * stride + d, ms[i], vs[i], hd - d);
}

// mad_f16_rows_multi (kernels.h): kQ queries at a time over the same rows. Each row's kW registers
// of V are converted once for the kQ queries, and the kQ x kW rounding chains (fmadd, then the F16
// round trip, every row) run side by side instead of one query after the other; kW = kAcc / kQ
// (at most 4) keeps the accumulators in kAcc registers. Every query's own steps are
// mad_f16_rows_width's, in the same order, so the results are the same bits. The queries past the
// last whole kQ go through kQ / 2, ..., 1.
template <class V, int kQ, int kAcc, class Tail>
void mad_f16_rows_multi_width(uint16_t* const* acc, const float* const* ms, const float* const* vs, int64_t nq,
                              const uint16_t* v, size_t stride, int64_t n, int64_t hd, Tail&& tail) {
  if constexpr (kQ == 1) {
    for (int64_t j = 0; j < nq; ++j) mad_f16_rows_width<V>(acc[j], v, stride, ms[j], vs[j], n, hd, tail);
  } else {
    constexpr int kW = kAcc / kQ < 4 ? kAcc / kQ : 4;
    static_assert(kW >= 1);
    constexpr int64_t kStep = static_cast<int64_t>(V::kLanes) * kW;
    int64_t j = 0;
    for (; j + kQ <= nq; j += kQ) {
      int64_t d = 0;
      for (; d + kStep <= hd; d += kStep) {
        typename V::F a[kQ][kW];
        for (int q = 0; q < kQ; ++q)
          for (int w = 0; w < kW; ++w) a[q][w] = V::load(acc[j + q] + d + V::kLanes * w);
        for (int64_t i = 0; i < n; ++i) {
          const uint16_t* vr = v + static_cast<size_t>(i) * stride + d;
          typename V::F x[kW];
          for (int w = 0; w < kW; ++w) x[w] = V::load(vr + V::kLanes * w);
          for (int q = 0; q < kQ; ++q) {
            const float m = ms[j + q][i];
            if (m != 1.0f) {
              const typename V::F mv = V::set1(m);
              for (int w = 0; w < kW; ++w) a[q][w] = V::round(V::mul(a[q][w], mv));
            }
            const typename V::F sv = V::set1(vs[j + q][i]);
            for (int w = 0; w < kW; ++w) a[q][w] = V::round(V::fmadd(x[w], sv, a[q][w]));
          }
        }
        for (int q = 0; q < kQ; ++q)
          for (int w = 0; w < kW; ++w) V::store(acc[j + q] + d + V::kLanes * w, a[q][w]);
      }
      if (d < hd)
        for (int q = 0; q < kQ; ++q)
          for (int64_t i = 0; i < n; ++i)
            tail(acc[j + q] + d, v + static_cast<size_t>(i) * stride + d, ms[j + q][i], vs[j + q][i], hd - d);
    }
    if (j < nq)
      mad_f16_rows_multi_width<V, kQ / 2, kAcc>(acc + j, ms + j, vs + j, nq - j, v, stride, n, hd, tail);
  }
}

// axpy_f16_rows_multi (kernels.h) at any vector width: kQ queries' F32 sums in registers across the
// run of rows, kW registers of V::kLanes dimensions at a time (kW = kAcc / kQ, at most 4); each row's
// registers converted once for the kQ queries. Each element's step is one fmadd(v, p, acc), the same
// as the level's axpy_f16_f32 (which must be V's fmadd on its vector part), in the same row order, so
// the bits are the same. Queries past the last whole kQ go through kQ / 2, ..., 1; head dimensions
// that are not a multiple of V::kLanes, to `rows` (the level's axpy, row by row).
template <class V, int kQ, int kAcc, class Rows>
void axpy_f16_rows_multi_width(float* const* acc, const float* const* p, int64_t nq, const uint16_t* v,
                               size_t stride, int64_t n, int64_t hd, Rows&& rows) {
  if (hd % V::kLanes != 0) {
    rows(acc, p, nq, v, stride, n, hd);
    return;
  }
  constexpr int kW = kAcc / kQ < 4 ? kAcc / kQ : 4;
  static_assert(kW >= 1);
  // kQ queries' dimensions [d, d + W * kLanes) over every row
  const auto block = [&]<int W>(int64_t j, int64_t d) {
    typename V::F a[kQ][W];
    for (int q = 0; q < kQ; ++q)
      for (int w = 0; w < W; ++w) a[q][w] = V::loadf(acc[j + q] + d + V::kLanes * w);
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t* vr = v + static_cast<size_t>(i) * stride + d;
      typename V::F x[W];
      for (int w = 0; w < W; ++w) x[w] = V::load(vr + V::kLanes * w);
      for (int q = 0; q < kQ; ++q) {
        const typename V::F pv = V::set1(p[j + q][i]);
        for (int w = 0; w < W; ++w) a[q][w] = V::fmadd(x[w], pv, a[q][w]);
      }
    }
    for (int q = 0; q < kQ; ++q)
      for (int w = 0; w < W; ++w) V::storef(acc[j + q] + d + V::kLanes * w, a[q][w]);
  };
  int64_t j = 0;
  for (; j + kQ <= nq; j += kQ) {
    int64_t d = 0;
    for (; d + kW * V::kLanes <= hd; d += kW * V::kLanes) block.template operator()<kW>(j, d);
    for (; d < hd; d += V::kLanes) block.template operator()<1>(j, d);
  }
  if (j < nq) {
    if constexpr (kQ > 1)
      axpy_f16_rows_multi_width<V, kQ / 2, kAcc>(acc + j, p + j, nq - j, v, stride, n, hd, rows);
    else
      rows(acc + j, p + j, nq - j, v, stride, n, hd);
  }
}

}  // namespace
}  // namespace slm::kernels::x86
