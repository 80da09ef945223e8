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

}  // namespace
}  // namespace slm::kernels::x86
