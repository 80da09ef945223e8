// AVX-512 VNNI inner loop of the token-panel products (panel_common.h) and its activation packer.
//
// The tile kernels of q8_0_family_avx512.h / k_quants_avx512.h put one (row, token) pair in a
// register and spend a conversion, a scale product and an FMA on every 2-4 vpdpbusd. Here the 16
// lanes of a register are 16 tokens of one row, so a 32-column block costs, per row and 16 tokens:
//   8 vpdpbusd: the row's 4 levels of group g broadcast as unsigned bytes, times activation group g
//   (16 tokens x 4 signed bytes), started from -offset * sum(x) (one shift per block, shared by all
//   rows);
//   one int -> float conversion, one scale product (row scale x the tokens' da), one FMA;
//   one more FNMADD for the types with a min (Q4_1, Q5_1, Q4_K, Q5_K: min x das).
// Q6_K's 16-element scales take two such sums of 4 vpdpbusd each.
//
// Needs AVX-512 F/BW/VL/VNNI and F16C.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/blocks.h"
#include "kernels/kernels.h"
#include "kernels/x86/panel_common.h"
#include "kernels/x86/q8_0_family_avx512.h"

namespace slm::kernels::x86 {
namespace {

inline __m512i bcast_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}

// -offset * the activation sums of one block (offset = 1 << kShift; kShift < 0: none).
template <int kShift>
inline __m512i neg_offset(const uint8_t* sums) {
  if constexpr (kShift < 0) {
    return _mm512_setzero_si512();
  } else {
    return _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(_mm512_load_si512(sums), kShift));
  }
}

// out[h][r][t] = the chunk's products of row r with token t of panel h (its chunk at xp[h]), for kP
// panels at once: the lanes of a register are a panel's 16 tokens. With two panels, each broadcast
// of a row's 4 levels feeds two vpdpbusd, and the 16 independent sums per block keep both VNNI ports
// fed where one panel's 8 chains of 8 are bound by the instruction's latency (in-cache, one thread:
// about a fifth faster). The float accumulators that do not fit in registers live on the stack.
struct Avx512Panel : BlockUnpacker {
  static constexpr int kPanels = 2;  // most panels per call

  // Q4_0 rows 4 blocks (72 bytes) at a time: one byte permutation gathers the 4 blocks' 64 quant
  // bytes (dropping the scales between them), the nibbles split in two operations, two 64-bit
  // permutations put each block's 16 low then 16 high levels in place, and the 4 scales widen in
  // one conversion; the same levels and scales as PanelQ4_0::unpack. Loads stay inside the 4
  // blocks. Other types, and the blocks past the last whole 4, block by block.
  template <class T>
  static void unpack_row(const typename T::WBlock* blocks, int64_t nb, uint8_t* q, float* scale, float* min) {
    int64_t b = 0;
    if constexpr (std::is_same_v<T, PanelQ4_0>) {
      const __m512i quants = load_idx(kQ4.data());  // the matrix-vector tiles' gather of 4 blocks' quants
      alignas(64) static constexpr std::array<uint16_t, 32> kScales = {0, 9, 18, 27};  // fp16 words 9j
      const __m512i scales = _mm512_load_si512(kScales.data());
      const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);  // blocks 0, 1: low, high
      const __m512i second = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
      const __m512i m4 = _mm512_set1_epi8(0x0F);
      for (; b + 4 <= nb; b += 4) {
        const auto* p = reinterpret_cast<const uint8_t*>(blocks + b);
        const __m512i w = _mm512_loadu_si512(p), w8 = _mm512_loadu_si512(p + 8);
        const __m512i qs = _mm512_permutex2var_epi8(w, quants, w8);
        const __m512i lo = _mm512_and_si512(qs, m4), hi = _mm512_and_si512(_mm512_srli_epi16(qs, 4), m4);
        _mm512_storeu_si512(q + 32 * b, _mm512_permutex2var_epi64(lo, first, hi));
        _mm512_storeu_si512(q + 32 * b + 64, _mm512_permutex2var_epi64(lo, second, hi));
        _mm_storeu_ps(scale + b, _mm_cvtph_ps(_mm512_castsi512_si128(_mm512_permutexvar_epi16(scales, w))));
      }
    }
    BlockUnpacker::unpack_row<T>(blocks + b, nb - b, q + b * T::kBlock, scale + b * (T::kBlock / T::kSub),
                                 min + b * (T::kBlock / T::kSub));
  }

  template <class T, int kP>
  static void chunk(const PanelRows<T::kSub>& p, int64_t kc, const uint8_t* const* xp, int /*nt*/,
                    float (*out)[kPanelRows][kPanelTokens]) {
    __m512 acc[kP][kPanelRows];
    for (auto& panel : acc)
      for (auto& v : panel) v = _mm512_setzero_ps();
    const int64_t nb = kc / 32;
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* ap[kP];
      __m512 da[kP];
      for (int h = 0; h < kP; ++h) {
        ap[h] = xp[h] + static_cast<size_t>(b) * kPanelBlockBytes;
        da[h] = _mm512_load_ps(reinterpret_cast<const float*>(ap[h] + kPanelDa));
      }
      // levels of groups [g0, g0 + kSub / 4) of every row times the panels' activations, from init[h]
      const auto sums = [&](int g0, const __m512i(&init)[kP], __m512i(&s)[kP][kPanelRows]) {
        for (int h = 0; h < kP; ++h)
          for (int r = 0; r < kPanelRows; ++r) s[h][r] = init[h];
#pragma GCC unroll 8
        for (int g = g0; g < g0 + T::kSub / 4; ++g) {
          __m512i x[kP];
          for (int h = 0; h < kP; ++h) x[h] = _mm512_load_si512(ap[h] + 64 * g);
#pragma GCC unroll 8
          for (int r = 0; r < kPanelRows; ++r) {
            const __m512i w = bcast_i32(&p.q[r][32 * b + 4 * g]);
            for (int h = 0; h < kP; ++h) s[h][r] = _mm512_dpbusd_epi32(s[h][r], w, x[h]);
          }
        }
      };
      // acc += sums x (row scale x the tokens' da)
      const auto scale = [&](const __m512i(&s)[kP][kPanelRows], int sub) {
        for (int h = 0; h < kP; ++h)
          for (int r = 0; r < kPanelRows; ++r)
            acc[h][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[h][r]),
                                        _mm512_mul_ps(da[h], _mm512_set1_ps(p.scale[r][sub])), acc[h][r]);
      };
      __m512i s[kP][kPanelRows], init[kP];
      if constexpr (T::kSub == 32) {
        for (int h = 0; h < kP; ++h) init[h] = neg_offset<T::kOffsetShift>(ap[h] + kPanelSum);
        sums(0, init, s);
        scale(s, static_cast<int>(b));
      } else {  // 16-element sub-blocks: two sums per block
        for (int h = 0; h < kP; ++h) init[h] = neg_offset<T::kOffsetShift>(ap[h] + kPanelSumLo);
        sums(0, init, s);
        scale(s, static_cast<int>(2 * b));
        for (int h = 0; h < kP; ++h)
          init[h] = _mm512_sub_epi32(neg_offset<T::kOffsetShift>(ap[h] + kPanelSum), init[h]);
        sums(4, init, s);
        scale(s, static_cast<int>(2 * b + 1));
      }
      for (int h = 0; h < kP; ++h) {
        if constexpr (T::kMin && T::kSub == 32) {
          const __m512 das = _mm512_load_ps(reinterpret_cast<const float*>(ap[h] + kPanelDas));
          for (int r = 0; r < kPanelRows; ++r)
            acc[h][r] = _mm512_fnmadd_ps(das, _mm512_set1_ps(p.min[r][b]), acc[h][r]);
        } else if constexpr (T::kMin) {  // a min per 16: da times each half's sum
          const __m512i sum = _mm512_load_si512(ap[h] + kPanelSum),
                        lo = _mm512_load_si512(ap[h] + kPanelSumLo);
          const __m512 das_lo = _mm512_mul_ps(da[h], _mm512_cvtepi32_ps(lo));
          const __m512 das_hi = _mm512_mul_ps(da[h], _mm512_cvtepi32_ps(_mm512_sub_epi32(sum, lo)));
          for (int r = 0; r < kPanelRows; ++r) {
            acc[h][r] = _mm512_fnmadd_ps(das_lo, _mm512_set1_ps(p.min[r][2 * b]), acc[h][r]);
            acc[h][r] = _mm512_fnmadd_ps(das_hi, _mm512_set1_ps(p.min[r][2 * b + 1]), acc[h][r]);
          }
        }
      }
    }
    for (int h = 0; h < kP; ++h)
      for (int r = 0; r < kPanelRows; ++r) _mm512_store_ps(out[h][r], acc[h][r]);
  }
};

// ---- activation packing ----------------------------------------------------------------------------

void pack_panel_avx512(DType act, const uint8_t* x, size_t x_row_bytes, int64_t cols, int64_t n_tokens,
                       int64_t panel, uint8_t* out) {
  const int64_t t0 = panel * kPanelTokens;
  const int nt = static_cast<int>(std::min<int64_t>(kPanelTokens, n_tokens - t0));
  const __mmask16 live = static_cast<__mmask16>((1u << nt) - 1);
  const __m512i row_off =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int>(x_row_bytes)));
  const __m512i ones = _mm512_set1_epi8(1);
  const uint8_t* base = x + static_cast<size_t>(t0) * x_row_bytes;
  const int64_t nb = cols / 32;
  for (int64_t b = 0; b < nb; ++b) {
    size_t q_off;  // the block's quants within a row
    alignas(64) float d[kPanelTokens] = {}, s[kPanelTokens] = {};
    if (act == DType::Q8_0) {
      q_off = static_cast<size_t>(b) * sizeof(block_q8_0) + offsetof(block_q8_0, qs);
      for (int t = 0; t < nt; ++t) {
        const auto* blk = reinterpret_cast<const block_q8_0*>(base + t * x_row_bytes) + b;
        d[t] = f16(blk->d);
      }
    } else if (act == DType::Q8_1) {  // das is the block's own s (ggml's vec_dot uses it)
      q_off = static_cast<size_t>(b) * sizeof(block_q8_1) + offsetof(block_q8_1, qs);
      for (int t = 0; t < nt; ++t) {
        const auto* blk = reinterpret_cast<const block_q8_1*>(base + t * x_row_bytes) + b;
        d[t] = f16(blk->d);
        s[t] = f16(blk->s);
      }
    } else {  // Q8_K
      const int64_t sb = b / 8;
      q_off = static_cast<size_t>(sb) * sizeof(block_q8_K) + offsetof(block_q8_K, qs) +
              static_cast<size_t>(b % 8) * 32;
      for (int t = 0; t < nt; ++t) {
        const auto* blk = reinterpret_cast<const block_q8_K*>(base + t * x_row_bytes) + sb;
        d[t] = blk->d;
      }
    }
    uint8_t* dst = out + static_cast<size_t>(b) * kPanelBlockBytes;
    __m512i sum = _mm512_setzero_si512(), sum_lo = sum;
    for (int g = 0; g < 8; ++g) {
      const __m512i v =
          _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, row_off, base + q_off + 4 * g, 1);
      sum = _mm512_dpbusd_epi32(sum, ones, v);
      if (g == 3) sum_lo = sum;
      _mm512_store_si512(dst + 64 * g, v);
    }
    const __m512 da = _mm512_load_ps(d);
    _mm512_store_ps(reinterpret_cast<float*>(dst + kPanelDa), da);
    const __m512 das = act == DType::Q8_1 ? _mm512_load_ps(s) : _mm512_mul_ps(da, _mm512_cvtepi32_ps(sum));
    _mm512_store_ps(reinterpret_cast<float*>(dst + kPanelDas), das);
    _mm512_store_si512(dst + kPanelSum, sum);
    _mm512_store_si512(dst + kPanelSumLo, sum_lo);
  }
}

}  // namespace
}  // namespace slm::kernels::x86
