// Token-panel products (kernels.h, "token panels"), the part every x86 level shares: weight
// unpacking and the driver. The inner loops live in panel_avx512.h and panel_avx2.h.
//
// The weights are unpacked, kPanelRows rows by kPanelChunk columns at a time, into unsigned levels
// with one float scale (and min) per sub-block: the "(level - offset) * scale - min" form every type
// shares (Q4_0: nibble, offset 8, scale d; Q4_K: nibble, scale d * sc, min dmin * m; Q6_K: 6 bits,
// offset 32, 16-element scales; ...). That costs a few instructions per 32 weights once per row
// chunk, and every token panel reuses it. An inner loop then sums level x activation in integers,
// starting from -offset * sum(x) (the panel holds the sums) so the offset cancels exactly, and
// applies scale x da and min x das in float per sub-block. Integer sums are exact; only the float
// summation order differs from the scalar reference.
//
// Per type: kBlock (elements per weight block), kSub (elements per scale), kOffsetShift (offset =
// 1 << it; -1: none), kLevelMax (largest level: bounds the int16 sums of the AVX2 loop), kMin (has
// a min term), unpack(block, levels, scales, mins).
// Uses AVX2 and F16C only; included by one *_avx2.cpp / *_avx512.cpp at a time (internal linkage,
// see tile_driver.h).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/blocks.h"
#include "kernels/kernels.h"
#include "kernels/scalar/scalar.h"

namespace slm::kernels::x86 {
namespace {

// Rows unpacked together: the AVX-512 loop keeps 8 rows x 16 tokens of accumulators, 8 activation
// groups of a block and 8 running integer sums in 24 of its 32 zmm registers.
constexpr int kPanelRows = 8;
// Columns unpacked at a time: 8 rows x 2048 levels (16 KiB) stay in L1 beside the activation stream.
constexpr int64_t kPanelChunk = 2048;

// One chunk of kPanelRows weight rows as unsigned levels with per-sub-block (kSub elements) scales.
template <int kSub>
struct PanelRows {
  static constexpr int64_t kSubs = kPanelChunk / kSub;
  alignas(64) uint8_t q[kPanelRows][kPanelChunk];
  alignas(64) float scale[kPanelRows][kSubs];
  alignas(64) float min[kPanelRows][kSubs];  // per sub-block, types with a min only
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

// The 8 scales and 8 mins of a Q4_K / Q5_K super-block as floats, d * sc and dmin * m: the bits of
// scalar::k4_scales_mins, from ggml's word-level unpacking of the 12 packed bytes
// (scalar::k4_scale_words: scales to bytes 0-7, mins to bytes 8-15) and one vector product each,
// where the per-value scalar decode took most of a one-panel product's unpacking time.
template <class KBlock>
inline void k4_scales_mins_vec(const KBlock& b, float* scale, float* min) {
  uint32_t w[4];
  scalar::k4_scale_words(b.scales, w);
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w));
  const __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
  const __m256 m = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
  _mm256_storeu_ps(scale, _mm256_mul_ps(_mm256_set1_ps(f16(b.d)), sc));
  _mm256_storeu_ps(min, _mm256_mul_ps(_mm256_set1_ps(f16(b.dmin)), m));
}

// ---- unpackers: one weight block -> levels q[kBlock], scale[kBlock / kSub], min[kBlock / kSub] -----

struct PanelQ4_0 {
  using WBlock = block_q4_0;
  static constexpr int kBlock = 32, kSub = 32, kOffsetShift = 3, kLevelMax = 15;  // offset 8
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float*) {
    unpack_nibbles<16>(b.qs, q, q + 16);
    scale[0] = f16(b.d);
  }
};

// Q4_0_R4 (kernels.h): Q4_0's blocks, 4 rows interleaved per 4-block step; unpack_rows reads each
// row's 4-block pieces where the layout keeps them.
struct PanelQ4_0R4 : PanelQ4_0 {
  static constexpr bool kRows4 = true;
};
template <class T>
constexpr bool panel_rows4() {
  if constexpr (requires { T::kRows4; })
    return T::kRows4;
  else
    return false;
}

struct PanelQ4_1 {
  using WBlock = block_q4_1;
  static constexpr int kBlock = 32, kSub = 32, kOffsetShift = -1, kLevelMax = 15;  // no offset
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

struct PanelQ5_0 {
  using WBlock = block_q5_0;
  static constexpr int kBlock = 32, kSub = 32, kOffsetShift = 4, kLevelMax = 31;  // offset 16
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float*) {
    unpack_q5_levels(b.qs, b.qh, q);
    scale[0] = f16(b.d);
  }
};

struct PanelQ5_1 {
  using WBlock = block_q5_1;
  static constexpr int kBlock = 32, kSub = 32, kOffsetShift = -1, kLevelMax = 31;
  static constexpr bool kMin = true;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float* min) {
    unpack_q5_levels(b.qs, b.qh, q);
    scale[0] = f16(b.d);
    min[0] = -f16(b.m);
  }
};

struct PanelQ8_0 {
  using WBlock = block_q8_0;
  static constexpr int kBlock = 32, kSub = 32, kOffsetShift = 7, kLevelMax = 255;  // q + 128
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float*) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q),
                        _mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(0x80))));
    scale[0] = f16(b.d);
  }
};

struct PanelQ4_K {
  using WBlock = block_q4_K;
  static constexpr int kBlock = 256, kSub = 32, kOffsetShift = -1, kLevelMax = 15;
  static constexpr bool kMin = true;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float* min) {
    // qs[32c + l]: element 64c + l (low nibble), 64c + 32 + l (high)
    for (int c = 0; c < 4; ++c) unpack_nibbles<32>(b.qs + 32 * c, q + 64 * c, q + 64 * c + 32);
    k4_scales_mins_vec(b, scale, min);
  }
};

struct PanelQ5_K {
  using WBlock = block_q5_K;
  static constexpr int kBlock = 256, kSub = 32, kOffsetShift = -1, kLevelMax = 31;
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
      _mm256_storeu_si256(
          reinterpret_cast<__m256i*>(q + 64 * c + 32),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), _mm256_slli_epi16(h1, 4)));
    }
    k4_scales_mins_vec(b, scale, min);
  }
};

struct PanelQ6_K {
  using WBlock = block_q6_K;
  static constexpr int kBlock = 256, kSub = 16, kOffsetShift = 5, kLevelMax = 63;  // offset 32
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
                             _mm256_and_si256(_mm256_srli_epi16(a, 4), m4),
                             _mm256_and_si256(_mm256_srli_epi16(c, 4), m4)};
      const __m256i hi[4] = {_mm256_and_si256(h, m3), _mm256_and_si256(_mm256_srli_epi16(h, 2), m3),
                             _mm256_and_si256(_mm256_srli_epi16(h, 4), m3),
                             _mm256_and_si256(_mm256_srli_epi16(h, 6), m3)};
      for (int k = 0; k < 4; ++k)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 128 * n + 32 * k),
                            _mm256_or_si256(lo[k], _mm256_slli_epi16(hi[k], 4)));
    }
    const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));  // 16 signed scales
    const __m256 dv = _mm256_set1_ps(d);
    _mm256_storeu_ps(scale, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc))));
    _mm256_storeu_ps(scale + 8, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc, 8)))));
  }
};

// Q2_K: 16 sub-blocks of 16, levels 0..3 (2 bits of qs at shift 2j), 4-bit scale and min per
// sub-block. Sub-block s = 8n + 2j + h covers elements 128n + 32j + 16h + l, from qs[32n + 16h + l].
struct PanelQ2_K {
  using WBlock = block_q2_K;
  static constexpr int kBlock = 256, kSub = 16, kOffsetShift = -1, kLevelMax = 3;
  static constexpr bool kMin = true;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float* min) {
    const float d = f16(b.d), dmin = f16(b.dmin);
    const __m128i m3 = _mm_set1_epi8(3);
    for (int n = 0; n < 2; ++n)
      for (int h = 0; h < 2; ++h) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 32 * n + 16 * h));
        for (int j = 0; j < 4; ++j)
          _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 128 * n + 32 * j + 16 * h),
                           _mm_and_si128(_mm_srl_epi16(v, _mm_cvtsi32_si128(2 * j)), m3));
      }
    for (int sb = 0; sb < 16; ++sb) {
      scale[sb] = d * static_cast<float>(b.scales[sb] & 0xF);
      min[sb] = dmin * static_cast<float>(b.scales[sb] >> 4);
    }
  }
};

// Q3_K: as Q2_K's layout, plus a third bit from hmask (bit 4n + j of hmask[16h + l]); level
// (2 bits) + 4 * bit in 0..7 with offset 4; 16 signed 6-bit scales, no min.
struct PanelQ3_K {
  using WBlock = block_q3_K;
  static constexpr int kBlock = 256, kSub = 16, kOffsetShift = 2, kLevelMax = 7;  // offset 4
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float*) {
    const float d = f16(b.d);
    const __m128i m3 = _mm_set1_epi8(3), four = _mm_set1_epi8(4);
    for (int h = 0; h < 2; ++h) {
      const __m128i hm = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.hmask + 16 * h));
      for (int n = 0; n < 2; ++n) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 32 * n + 16 * h));
        for (int j = 0; j < 4; ++j) {
          const __m128i bit = _mm_set1_epi8(static_cast<char>(1 << (4 * n + j)));
          const __m128i high = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(hm, bit), bit), four);
          const __m128i low = _mm_and_si128(_mm_srl_epi16(v, _mm_cvtsi32_si128(2 * j)), m3);
          _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 128 * n + 32 * j + 16 * h),
                           _mm_or_si128(low, high));
        }
      }
    }
    int8_t sc[16];
    scalar::unpack_q3_K_scales(b.scales, sc);
    for (int sb = 0; sb < 16; ++sb) scale[sb] = d * static_cast<float>(sc[sb]);
  }
};

// IQ4_NL: the 16 non-linear levels (-127 .. 113) + 128 as unsigned bytes, offset 128. Levels up to
// 241 do not fit the AVX2 loop's int16 sums: AVX-512 only.
struct PanelIQ4_NL {
  using WBlock = block_iq4_nl;
  static constexpr int kBlock = 32, kSub = 32, kOffsetShift = 7, kLevelMax = 241;
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, uint8_t* q, float* scale, float*) {
    alignas(16) uint8_t table[16];
    for (int i = 0; i < 16; ++i) table[i] = static_cast<uint8_t>(kvalues_iq4nl[i] + 128);
    const __m128i t = _mm_load_si128(reinterpret_cast<const __m128i*>(table));
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs)), m4 = _mm_set1_epi8(0x0F);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm_shuffle_epi8(t, _mm_and_si128(v, m4)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16),
                     _mm_shuffle_epi8(t, _mm_and_si128(_mm_srli_epi16(v, 4), m4)));
    scale[0] = f16(b.d);
  }
};

// One row's blocks [0, nb) into levels q, scales and mins, block by block (T::unpack). An inner loop
// may bring a wider unpacker of its own for some types (Avx512Panel::unpack_row), with the same
// results.
struct BlockUnpacker {
  template <class T>
  static void unpack_row(const typename T::WBlock* blocks, int64_t nb, uint8_t* q, float* scale, float* min) {
    constexpr int kSubsPerBlock = T::kBlock / T::kSub;
    for (int64_t b = 0; b < nb; ++b)
      T::unpack(blocks[b], q + b * T::kBlock, scale + b * kSubsPerBlock, min + b * kSubsPerBlock);
  }
};

// Rows [r0, r0 + nr) (nr <= kPanelRows), columns [c0, c0 + kc): unpacked into p. Rows past nr are
// zero (their outputs are never stored). Before each row, the same columns of row r + kPanelRows
// are prefetched into L2 when that row is below `prefetch_end`, so the next row group's unpacking
// finds its weights there; one row's lines at a time, as a burst for the whole group would fill the
// miss queue and stall. Prefetches never fault; their addresses are formed as integers.
template <class T, class Isa>
inline void unpack_rows(const MatmulArgs& a, int64_t r0, int nr, int64_t c0, int64_t kc, int64_t prefetch_end,
                        PanelRows<T::kSub>& p) {
  const int64_t nb = kc / T::kBlock;
  const size_t seg_bytes = static_cast<size_t>(nb) * sizeof(typename T::WBlock);
  const size_t seg_start = static_cast<size_t>(c0 / T::kBlock) * sizeof(typename T::WBlock);
  for (int r = 0; r < kPanelRows; ++r) {
    if (r >= nr) {
      std::memset(p.q[r], 0, static_cast<size_t>(kc));
      std::fill_n(p.scale[r], kc / T::kSub, 0.0f);
      std::fill_n(p.min[r], kc / T::kSub, 0.0f);
      continue;
    }
    if (r0 + kPanelRows + r < prefetch_end) {
      const int64_t rn = r0 + kPanelRows + r;
      // Q4_0_R4: the columns of a group of 4 rows are one run of 4 x seg_bytes; row rn takes a quarter
      uintptr_t next =
          reinterpret_cast<uintptr_t>(a.w) + static_cast<uintptr_t>(rn) * a.w_row_bytes + seg_start;
      if constexpr (panel_rows4<T>())
        next = reinterpret_cast<uintptr_t>(r4_row_step(a.w, a.w_row_bytes, rn - rn % kR4Rows, c0 / 128)) +
               static_cast<uintptr_t>(rn % kR4Rows) * seg_bytes;
      for (size_t l = 0; l < seg_bytes; l += 64)
        _mm_prefetch(reinterpret_cast<const char*>(next + l), _MM_HINT_T1);
    }
    if constexpr (panel_rows4<T>()) {  // 4 blocks (128 columns) at a time, from each step of the group
      for (int64_t i = 0; i < kc / 128; ++i) {
        const auto* piece =
            reinterpret_cast<const block_q4_0*>(r4_row_step(a.w, a.w_row_bytes, r0 + r, c0 / 128 + i));
        Isa::template unpack_row<PanelQ4_0>(piece, 4, p.q[r] + 128 * i, p.scale[r] + 4 * i, p.min[r] + 4 * i);
      }
    } else {
      const auto* blocks =
          reinterpret_cast<const typename T::WBlock*>(a.w + static_cast<size_t>(r0 + r) * a.w_row_bytes) +
          c0 / T::kBlock;
      Isa::template unpack_row<T>(blocks, nb, p.q[r], p.scale[r], p.min[r]);
    }
  }
}

// The 8 x 8 transpose of r (rows in, columns out).
inline void transpose8(__m256 (&r)[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// y[t * ldy + r] = (or +=, when add) out[r][t] for r < nr, t < nt: two 8 x 8 transposes, then one
// 8-float store per token instead of 8 strided scalar ones.
inline void store_panel(const float (&out)[kPanelRows][kPanelTokens], float* y, int64_t ldy, int nr, int nt,
                        bool add) {
  static_assert(kPanelRows == 8 && kPanelTokens == 16, "two 8 x 8 transposes");
  const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  for (int h = 0; h < 2 && 8 * h < nt; ++h) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_load_ps(&out[i][8 * h]);
    transpose8(r);
    const int tn = std::min(8, nt - 8 * h);
    for (int j = 0; j < tn; ++j) {
      float* dst = y + (8 * h + j) * ldy;
      if (nr == kPanelRows) {
        _mm256_storeu_ps(dst, add ? _mm256_add_ps(_mm256_loadu_ps(dst), r[j]) : r[j]);
      } else {
        _mm256_maskstore_ps(dst, mask, add ? _mm256_add_ps(_mm256_maskload_ps(dst, mask), r[j]) : r[j]);
      }
    }
  }
}

// The MatmulFn of the panel path (a.xp set), for an inner loop Isa::chunk<T, kP> (panel_avx512.h,
// panel_avx2.h) that multiplies kPanelRows unpacked rows with the chunks of kP <= Isa::kPanels token
// panels (at xp[h]) into out[h][row][token], for (at least) the live tokens. Chunks of kPanelChunk
// columns outermost, so the activations of one chunk (kPanelChunk / 32 x 768 bytes per 16 tokens)
// stay in L2 while every row group of the range passes over them; each row group's chunk is
// unpacked once and used for every token panel, while the next group's weights are prefetched.
// Later chunks add their partial sums into y.
template <class T, class Isa>
void matmul_panels(const MatmulArgs& a, int64_t row_begin, int64_t row_end) {
  PanelRows<T::kSub> p;
  alignas(64) float out[Isa::kPanels][kPanelRows][kPanelTokens];
  const size_t per_panel = panel_bytes(a.cols);
  const int64_t panels = panel_count(a.n_tokens);
  const auto live = [&](int64_t tp) {
    return static_cast<int>(std::min<int64_t>(kPanelTokens, a.n_tokens - tp * kPanelTokens));
  };
  for (int64_t c0 = 0; c0 < a.cols; c0 += kPanelChunk) {
    const int64_t kc = std::min(kPanelChunk, a.cols - c0);
    for (int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
      const int nr = static_cast<int>(std::min<int64_t>(kPanelRows, row_end - r0));
      unpack_rows<T, Isa>(a, r0, nr, c0, kc, row_end, p);
      // panels [tp, tp + kP) in one call (nt: the last one's live tokens), then their stores
      const auto run = [&](auto panels_per_call, int64_t tp) {
        constexpr int kP = decltype(panels_per_call)::value;
        const uint8_t* xp[kP];
        for (int h = 0; h < kP; ++h)
          xp[h] = a.xp + per_panel * static_cast<size_t>(tp + h) +
                  static_cast<size_t>(c0 / 32) * kPanelBlockBytes;
        Isa::template chunk<T, kP>(p, kc, xp, live(tp + kP - 1), out);
        for (int h = 0; h < kP; ++h)
          store_panel(out[h], a.y + (tp + h) * kPanelTokens * a.ldy + r0, a.ldy, nr, live(tp + h), c0 > 0);
      };
      int64_t tp = 0;
      if constexpr (Isa::kPanels == 2)
        for (; tp + 2 <= panels; tp += 2) run(std::integral_constant<int, 2>{}, tp);
      for (; tp < panels; ++tp) run(std::integral_constant<int, 1>{}, tp);
    }
  }
}

}  // namespace
}  // namespace slm::kernels::x86
