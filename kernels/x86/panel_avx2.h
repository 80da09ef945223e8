// AVX2 inner loop of the token-panel products (panel_common.h). Without vpdpbusd, a 4-column group
// is vpmaddubsw (level x activation, adjacent pairs summed in int16) and the int16 sums of several
// groups are added before one vpmaddwd widens them to int32. The int16 sums must not overflow: a
// pair is at most 2 * kLevelMax * 128, so 8 groups of 4-bit levels, 4 of 5-bit and 2 of 6-bit ones
// fit (kRun below); 8-bit levels (Q8_0) do not fit even one pair and keep the tile kernels.
//
// The lanes of a ymm register are 8 tokens: a 16-token panel is two halves, 4 rows at a time
// (16 ymm registers: 4 accumulators, 4 integer sums, the rest temporaries); activations are read as
// memory operands, levels broadcast from the unpacked rows.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"
#include "kernels/x86/panel_common.h"

namespace slm::kernels::x86 {
namespace {

// Groups whose int16 sums may be added before widening: as many as the levels allow (pairs of at
// most 2 * kLevelMax * 128), a power of two, within one sub-block (kSub / 4 groups).
template <class T>
constexpr int run_length() {
  const int fit = 32767 / (256 * T::kLevelMax);
  int run = 1;
  while (run * 2 <= fit && run * 2 <= T::kSub / 4) run *= 2;
  return fit >= 1 ? run : 0;
}
template <class T>
constexpr int kRun = run_length<T>();

inline __m256i bcast_u32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm256_set1_epi32(v);
}

inline __m256i load8(const uint8_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }

// -offset * the 8 tokens' activation sums at p (offset = 1 << kShift; kShift < 0: none).
template <int kShift>
inline __m256i neg_offset8(const uint8_t* p) {
  if constexpr (kShift < 0) {
    return _mm256_setzero_si256();
  } else {
    return _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(load8(p), kShift));
  }
}

struct Avx2Panel : BlockUnpacker {
  static constexpr int kRows = 4;
  static constexpr int kPanels = 1;  // most panels per call

  // sums[r] += levels of groups [g0, g1) of row r (block b) x the 8 tokens' activations.
  template <class T>
  static void groups(const PanelRows<T::kSub>& p, int r0, int64_t b, const uint8_t* ap, size_t toff, int g0,
                     int g1, __m256i (&sums)[kRows]) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int g = g0; g < g1; g += kRun<T>) {
      for (int r = 0; r < kRows; ++r) {
        __m256i s16 =
            _mm256_maddubs_epi16(bcast_u32(&p.q[r0 + r][32 * b + 4 * g]), load8(ap + 64 * g + toff));
        for (int k = 1; k < kRun<T>; ++k)
          s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(bcast_u32(&p.q[r0 + r][32 * b + 4 * (g + k)]),
                                                           load8(ap + 64 * (g + k) + toff)));
        sums[r] = _mm256_add_epi32(sums[r], _mm256_madd_epi16(s16, ones));
      }
    }
  }

  template <class T, int kP>
  static void chunk(const PanelRows<T::kSub>& p, int64_t kc, const uint8_t* const* xps, int nt,
                    float (*outs)[kPanelRows][kPanelTokens]) {
    static_assert(kP == 1, "one panel per call");
    const uint8_t* xp = xps[0];
    float(&out)[kPanelRows][kPanelTokens] = outs[0];
    static_assert(kRun<T> >= 1 && 8 % kRun<T> == 0, "levels too wide for int16 sums");
    const int64_t nb = kc / 32;
    for (int half = 0; half < (nt > 8 ? 2 : 1); ++half) {  // a half of padding only is skipped
      const size_t toff = static_cast<size_t>(half) * 32;  // tokens 8 half .. within each 64-byte group
      for (int r0 = 0; r0 < kPanelRows; r0 += kRows) {
        __m256 acc[kRows];
        for (auto& v : acc) v = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; ++b) {
          const uint8_t* ap = xp + static_cast<size_t>(b) * kPanelBlockBytes;
          const __m256 da = _mm256_load_ps(reinterpret_cast<const float*>(ap + kPanelDa + toff));
          if constexpr (T::kSub == 32) {
            __m256i s[kRows];
            const __m256i init = neg_offset8<T::kOffsetShift>(ap + kPanelSum + toff);
            for (auto& v : s) v = init;
            groups<T>(p, r0, b, ap, toff, 0, 8, s);
            for (int r = 0; r < kRows; ++r)
              acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[r]),
                                       _mm256_mul_ps(da, _mm256_set1_ps(p.scale[r0 + r][b])), acc[r]);
          } else {  // 16-element sub-blocks: two sums per block
            const __m256i init_lo = neg_offset8<T::kOffsetShift>(ap + kPanelSumLo + toff);
            const __m256i init_hi =
                _mm256_sub_epi32(neg_offset8<T::kOffsetShift>(ap + kPanelSum + toff), init_lo);
            for (int h = 0; h < 2; ++h) {
              __m256i s[kRows];
              for (auto& v : s) v = h == 0 ? init_lo : init_hi;
              groups<T>(p, r0, b, ap, toff, 4 * h, 4 * h + 4, s);
              for (int r = 0; r < kRows; ++r)
                acc[r] =
                    _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[r]),
                                    _mm256_mul_ps(da, _mm256_set1_ps(p.scale[r0 + r][2 * b + h])), acc[r]);
            }
          }
          if constexpr (T::kMin && T::kSub == 32) {
            const __m256 das = _mm256_load_ps(reinterpret_cast<const float*>(ap + kPanelDas + toff));
            for (int r = 0; r < kRows; ++r)
              acc[r] = _mm256_fnmadd_ps(das, _mm256_set1_ps(p.min[r0 + r][b]), acc[r]);
          } else if constexpr (T::kMin) {  // a min per 16: da times each half's sum
            const __m256i sum = load8(ap + kPanelSum + toff), lo = load8(ap + kPanelSumLo + toff);
            const __m256 das_lo = _mm256_mul_ps(da, _mm256_cvtepi32_ps(lo));
            const __m256 das_hi = _mm256_mul_ps(da, _mm256_cvtepi32_ps(_mm256_sub_epi32(sum, lo)));
            for (int r = 0; r < kRows; ++r) {
              acc[r] = _mm256_fnmadd_ps(das_lo, _mm256_set1_ps(p.min[r0 + r][2 * b]), acc[r]);
              acc[r] = _mm256_fnmadd_ps(das_hi, _mm256_set1_ps(p.min[r0 + r][2 * b + 1]), acc[r]);
            }
          }
        }
        for (int r = 0; r < kRows; ++r) _mm256_store_ps(out[r0 + r] + 8 * half, acc[r]);
      }
    }
  }
};

}  // namespace
}  // namespace slm::kernels::x86
