// AVX-512 VNNI panel products: prompt processing for every block-quantized weight type with Q8_0,
// Q8_1 or Q8_K activations (kernels.h, "token panels").
//
// The tile kernels of q8_0_family_avx512.h / k_quants_avx512.h put one (row, token) pair in a
// register and spend a conversion, a scale product and an FMA on every 2-4 vpdpbusd. Here the 16
// lanes of a register are 16 tokens of one row, so a 32-column block costs, per row and 16 tokens:
//   8 vpdpbusd: the row's 4 levels of group g broadcast as unsigned bytes, times activation group g
//   (16 tokens x 4 signed bytes), started from -offset * sum(x) (one shift per block, shared by all
//   rows) so that the levels' offset (Q4_0: 8, Q8_0: 128, ...) cancels exactly;
//   one int -> float conversion, one scale product (row scale x the tokens' da), one FMA;
//   one more FNMADD for the types with a min (Q4_1, Q5_1, Q4_K, Q5_K: min x das).
// Q6_K's 16-element scales take two such sums of 4 vpdpbusd each.
//
// The weights are first unpacked, kPanelRows rows by kPanelChunk columns at a time, into unsigned
// levels with one float scale (and min) per sub-block: the "(level - offset) * scale - min" form every
// type shares (Q4_0: nibble, offset 8, scale d; Q4_K: nibble, scale d * sc, min dmin * m; ...). That
// costs a few instructions per 32 weights once per row chunk, and every token panel reuses it. The
// integer sums are exact; only the float summation order differs from the scalar reference.
//
// Needs AVX-512 F/BW/VL/VNNI and F16C.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "kernels/scalar/scalar.h"

namespace slm::kernels::x86 {
namespace {

// 8 rows x 16 tokens of accumulators, 8 activation groups of a block, 8 running integer sums: 24 of
// the 32 zmm registers. Measured against 4 and 6 rows at 2048 x 2048 x 128 tokens.
constexpr int kPanelRows = 8;
// Columns unpacked at a time: 8 rows x 2048 levels (16 KiB) stay in L1 beside the activation stream.
constexpr int64_t kPanelChunk = 2048;

// One chunk of kPanelRows weight rows as unsigned levels with per-sub-block (kSub elements) scales.
template <int kSub>
struct PanelRows {
  static constexpr int64_t kSubs = kPanelChunk / kSub;
  alignas(64) uint8_t q[kPanelRows][kPanelChunk];
  alignas(64) float scale[kPanelRows][kSubs];
  alignas(64) float min[kPanelRows][kPanelChunk / 32];
};

inline float f16(fp16_t h) { return _cvtsh_ss(h); }

// The low and high nibbles of n (16 or 32) bytes to lo[0, n) and hi[0, n).
template <int n>
inline void unpack_nibbles(const uint8_t* qs, uint8_t* lo, uint8_t* hi) {
  if constexpr (n == 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i m = _mm_set1_epi8(0x0F);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(lo), _mm_and_si128(v, m));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(hi), _mm_and_si128(_mm_srli_epi16(v, 4), m));
  } else {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs));
    const __m256i m = _mm256_set1_epi8(0x0F);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo), _mm256_and_si256(v, m));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi), _mm256_and_si256(_mm256_srli_epi16(v, 4), m));
  }
}

// ---- unpackers: one weight block -> levels q[kBlock], scale[kBlock / kSub], min[kBlock / 32] ------

struct PanelQ4_0 {
  using WBlock = block_q4_0;
  static constexpr int kBlock = 32, kSub = 32, kOffsetShift = 3;  // offset 8
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float*) {
    unpack_nibbles<16>(b.qs, q, q + 16);
    scale[0] = f16(b.d);
  }
};

struct PanelQ4_1 {
  using WBlock = block_q4_1;
  static constexpr int kBlock = 32, kSub = 32, kOffsetShift = -1;  // no offset
  static constexpr bool kMin = true;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float* min) {
    unpack_nibbles<16>(b.qs, q, q + 16);
    scale[0] = f16(b.d);
    min[0] = -f16(b.m);  // w = d q + m
  }
};

// Q5_0 / Q5_1 levels (0..31): nibbles of qs plus bit l (element l) / l + 16 of the 32-bit qh.
inline void unpack_q5_levels(const uint8_t* qs, const uint8_t* qh_bytes, uint8_t* q) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof(qh));
  for (int l = 0; l < 16; ++l) {
    const int h0 = static_cast<int>((qh >> l) << 4 & 0x10), h1 = static_cast<int>((qh >> (l + 12)) & 0x10);
    q[l] = static_cast<uint8_t>((qs[l] & 0x0F) | h0);
    q[l + 16] = static_cast<uint8_t>((qs[l] >> 4) | h1);
  }
}

// Q4_K / Q5_K sub-block scales d * sc and mins dmin * m (the 6-bit pairs of scalar::get_scale_min_k4).
template <class KBlock>
inline void k4_scales_mins(const KBlock& b, float* scale, float* min) {
  const float d = f16(b.d), dmin = f16(b.dmin);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    scalar::get_scale_min_k4(j, b.scales, &sc, &m);
    scale[j] = d * sc;
    min[j] = dmin * m;
  }
}

struct PanelQ5_0 {
  using WBlock = block_q5_0;
  static constexpr int kBlock = 32, kSub = 32, kOffsetShift = 4;  // offset 16
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float*) {
    unpack_q5_levels(b.qs, b.qh, q);
    scale[0] = f16(b.d);
  }
};

struct PanelQ5_1 {
  using WBlock = block_q5_1;
  static constexpr int kBlock = 32, kSub = 32, kOffsetShift = -1;
  static constexpr bool kMin = true;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float* min) {
    unpack_q5_levels(b.qs, b.qh, q);
    scale[0] = f16(b.d);
    min[0] = -f16(b.m);
  }
};

struct PanelQ8_0 {
  using WBlock = block_q8_0;
  static constexpr int kBlock = 32, kSub = 32, kOffsetShift = 7;  // q + 128
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float*) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), _mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(0x80))));
    scale[0] = f16(b.d);
  }
};

struct PanelQ4_K {
  using WBlock = block_q4_K;
  static constexpr int kBlock = 256, kSub = 32, kOffsetShift = -1;
  static constexpr bool kMin = true;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float* min) {
    // qs[32c + l]: element 64c + l (low nibble), 64c + 32 + l (high)
    for (int c = 0; c < 4; ++c) unpack_nibbles<32>(b.qs + 32 * c, q + 64 * c, q + 64 * c + 32);
    k4_scales_mins(b, scale, min);
  }
};

struct PanelQ5_K {
  using WBlock = block_q5_K;
  static constexpr int kBlock = 256, kSub = 32, kOffsetShift = -1;
  static constexpr bool kMin = true;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float* min) {
    // like Q4_K, plus bit 2c (low nibbles) and 2c + 1 (high) of qh[l] as the fifth bit
    const __m256i m4 = _mm256_set1_epi8(0x0F), m1 = _mm256_set1_epi8(1);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh));
    for (int c = 0; c < 4; ++c) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c));
      const __m256i h0 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c)), m1);
      const __m256i h1 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c + 1)), m1);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 64 * c),
                          _mm256_or_si256(_mm256_and_si256(v, m4), _mm256_slli_epi16(h0, 4)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 64 * c + 32),
                          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), _mm256_slli_epi16(h1, 4)));
    }
    k4_scales_mins(b, scale, min);
  }
};

struct PanelQ6_K {
  using WBlock = block_q6_K;
  static constexpr int kBlock = 256, kSub = 16, kOffsetShift = 5;  // offset 32
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float*) {
    const float d = f16(b.d);
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
    for (int n = 0; n < 2; ++n) {  // halves of 128: ql[64 n ..], qh[32 n ..]
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * n));
      const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.ql + 64 * n + 32));
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * n));
      // element l: ql[l] low | qh bits 0-1; l + 32: ql[l + 32] low | bits 2-3; l + 64: ql[l] high |
      // bits 4-5; l + 96: ql[l + 32] high | bits 6-7 (l < 32)
      const __m256i lo[4] = {_mm256_and_si256(a, m4), _mm256_and_si256(c, m4),
                             _mm256_and_si256(_mm256_srli_epi16(a, 4), m4), _mm256_and_si256(_mm256_srli_epi16(c, 4), m4)};
      const __m256i hi[4] = {_mm256_and_si256(h, m3), _mm256_and_si256(_mm256_srli_epi16(h, 2), m3),
                             _mm256_and_si256(_mm256_srli_epi16(h, 4), m3), _mm256_and_si256(_mm256_srli_epi16(h, 6), m3)};
      for (int k = 0; k < 4; ++k)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 128 * n + 32 * k),
                            _mm256_or_si256(lo[k], _mm256_slli_epi16(hi[k], 4)));
    }
    for (int j = 0; j < 16; ++j) scale[j] = d * b.scales[j];
  }
};

// Rows [r0, r0 + nr) (nr <= kPanelRows), columns [c0, c0 + kc): unpacked into p. Rows past nr are
// zero (their outputs are never stored).
template <class T>
inline void unpack_rows(const MatmulArgs& a, int64_t r0, int nr, int64_t c0, int64_t kc, PanelRows<T::kSub>& p) {
  const int64_t nb = kc / T::kBlock;
  constexpr int kSubsPerBlock = T::kBlock / T::kSub;
  constexpr int kMinsPerBlock = T::kBlock / 32;
  for (int r = 0; r < kPanelRows; ++r) {
    if (r >= nr) {
      std::memset(p.q[r], 0, static_cast<size_t>(kc));
      std::fill_n(p.scale[r], kc / T::kSub, 0.0f);
      std::fill_n(p.min[r], kc / 32, 0.0f);
      continue;
    }
    const auto* blocks = reinterpret_cast<const typename T::WBlock*>(a.w + static_cast<size_t>(r0 + r) * a.w_row_bytes) +
                         c0 / T::kBlock;
    for (int64_t b = 0; b < nb; ++b)
      T::unpack(blocks[b], p.q[r] + b * T::kBlock, p.scale[r] + b * kSubsPerBlock, p.min[r] + b * kMinsPerBlock);
  }
}

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

// acc[r] += the chunk's products of row r with the 16 tokens of one panel (its chunk at xp).
template <class T>
inline void panel_chunk(const PanelRows<T::kSub>& p, int64_t kc, const uint8_t* xp, __m512 (&acc)[kPanelRows]) {
  const int64_t nb = kc / 32;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* ap = xp + static_cast<size_t>(b) * kPanelBlockBytes;
    __m512i x[8];
    for (int g = 0; g < 8; ++g) x[g] = _mm512_load_si512(ap + 64 * g);
    const __m512 da = _mm512_load_ps(reinterpret_cast<const float*>(ap + kPanelDa));
    if constexpr (T::kSub == 32) {
      const __m512i init = neg_offset<T::kOffsetShift>(ap + kPanelSum);
      __m512i s[kPanelRows];
      for (int r = 0; r < kPanelRows; ++r) s[r] = init;
      for (int g = 0; g < 8; ++g)
        for (int r = 0; r < kPanelRows; ++r) s[r] = _mm512_dpbusd_epi32(s[r], bcast_i32(&p.q[r][32 * b + 4 * g]), x[g]);
      for (int r = 0; r < kPanelRows; ++r)
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[r]), _mm512_mul_ps(da, _mm512_set1_ps(p.scale[r][b])), acc[r]);
    } else {  // 16-element sub-blocks: two sums per block
      const __m512i init_lo = neg_offset<T::kOffsetShift>(ap + kPanelSumLo);
      const __m512i init_hi = _mm512_sub_epi32(neg_offset<T::kOffsetShift>(ap + kPanelSum), init_lo);
      for (int h = 0; h < 2; ++h) {
        __m512i s[kPanelRows];
        for (int r = 0; r < kPanelRows; ++r) s[r] = h == 0 ? init_lo : init_hi;
        for (int g = 4 * h; g < 4 * h + 4; ++g)
          for (int r = 0; r < kPanelRows; ++r)
            s[r] = _mm512_dpbusd_epi32(s[r], bcast_i32(&p.q[r][32 * b + 4 * g]), x[g]);
        for (int r = 0; r < kPanelRows; ++r)
          acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[r]), _mm512_mul_ps(da, _mm512_set1_ps(p.scale[r][2 * b + h])),
                                   acc[r]);
      }
    }
    if constexpr (T::kMin) {
      const __m512 das = _mm512_load_ps(reinterpret_cast<const float*>(ap + kPanelDas));
      for (int r = 0; r < kPanelRows; ++r) acc[r] = _mm512_fnmadd_ps(das, _mm512_set1_ps(p.min[r][b]), acc[r]);
    }
  }
}

// The MatmulFn of the panel path (a.xp set). Chunks of kPanelChunk columns outermost, so the
// activations of one chunk (kPanelChunk / 32 x 640 bytes per 16 tokens) stay in L2 while every row
// group of the range passes over them; each row group's chunk is unpacked once and used for every
// token panel. Later chunks add their partial sums into y.
template <class T>
void matmul_panels(const MatmulArgs& a, int64_t row_begin, int64_t row_end) {
  PanelRows<T::kSub> p;
  const size_t per_panel = panel_bytes(a.cols);
  const int64_t panels = panel_count(a.n_tokens);
  for (int64_t c0 = 0; c0 < a.cols; c0 += kPanelChunk) {
    const int64_t kc = std::min(kPanelChunk, a.cols - c0);
    for (int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
      const int nr = static_cast<int>(std::min<int64_t>(kPanelRows, row_end - r0));
      unpack_rows<T>(a, r0, nr, c0, kc, p);
      for (int64_t tp = 0; tp < panels; ++tp) {
        __m512 acc[kPanelRows];
        for (auto& v : acc) v = _mm512_setzero_ps();
        panel_chunk<T>(p, kc, a.xp + per_panel * static_cast<size_t>(tp) + static_cast<size_t>(c0 / 32) * kPanelBlockBytes,
                       acc);
        const int64_t t0 = tp * kPanelTokens;
        const int nt = static_cast<int>(std::min<int64_t>(kPanelTokens, a.n_tokens - t0));
        alignas(64) float out[kPanelTokens];
        for (int r = 0; r < nr; ++r) {
          _mm512_store_ps(out, acc[r]);
          float* y = a.y + t0 * a.ldy + r0 + r;
          if (c0 == 0) {
            for (int t = 0; t < nt; ++t) y[t * a.ldy] = out[t];
          } else {
            for (int t = 0; t < nt; ++t) y[t * a.ldy] += out[t];
          }
        }
      }
    }
  }
}

// ---- activation packing ----------------------------------------------------------------------------

void pack_panel_avx512(DType act, const uint8_t* x, size_t x_row_bytes, int64_t cols, int64_t n_tokens,
                       int64_t panel, uint8_t* out) {
  const int64_t t0 = panel * kPanelTokens;
  const int nt = static_cast<int>(std::min<int64_t>(kPanelTokens, n_tokens - t0));
  const __mmask16 live = static_cast<__mmask16>((1u << nt) - 1);
  const __m512i row_off = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
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
      q_off = static_cast<size_t>(sb) * sizeof(block_q8_K) + offsetof(block_q8_K, qs) + static_cast<size_t>(b % 8) * 32;
      for (int t = 0; t < nt; ++t) {
        const auto* blk = reinterpret_cast<const block_q8_K*>(base + t * x_row_bytes) + sb;
        d[t] = blk->d;
      }
    }
    uint8_t* dst = out + static_cast<size_t>(b) * kPanelBlockBytes;
    __m512i sum = _mm512_setzero_si512(), sum_lo = sum;
    for (int g = 0; g < 8; ++g) {
      const __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, row_off, base + q_off + 4 * g, 1);
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
