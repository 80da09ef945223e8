// Block kernels (see tile_driver.h) of the K-quants paired with Q8_K activations: Q4_K, Q5_K, and
// the 16-element sub-block family Q2_K, Q3_K, Q6_K.
// A 256-element super-block is decoded to 8 ymm of unsigned levels (Q4_K 0..15, Q5_K 0..31, Q6_K
// 0..63), so maddubs(levels, x) gives exact int16 pair sums; madd with the sub-block scales (int16)
// folds in the 6/8-bit scales, all in int32. The offsets never touch the levels: Q4_K/Q5_K's mins
// and Q6_K's -32 come from the activation's bsums (sum of x per 16 elements) in one more madd.
// The block's int32 lanes are scaled by d_w * d_x (and dmin_w * d_x) and accumulated in float.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/scalar/scalar.h"
#include "kernels/x86/simd_util.h"

namespace slm::kernels::x86 {
namespace {

// Q4_K and Q5_K after decoding: one scale per 32 elements, one min per 32 (as 16 int16 lanes, the
// min of each 16-element bsum group).
struct KBlock4 {
  __m256i q[8];          // levels of elements 32j .. 32j+31
  __m256i mins16;        // min[g / 2] for bsum group g (16 lanes)
  int16_t scales[8];
  float d, dmin;
};

// The 12 packed bytes hold 8 6-bit scales and 8 6-bit mins (see scalar::get_scale_min_k4); ggml's
// word-level unpacking puts the scales in bytes 0-7 and the mins in bytes 8-15 of `words`.
inline void unpack_k4_scales(const uint8_t* packed, KBlock4& w) {
  uint32_t words[4];
  scalar::k4_scale_words(packed, words);
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(words));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(w.scales), _mm_cvtepu8_epi16(bytes));
  const __m128i mins = _mm_srli_si128(bytes, 8);
  w.mins16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mins, mins));  // each min twice: per 16 elements
}

struct KQuant4Dot {
  static constexpr int kBlock = 256;
  using XBlock = block_q8_K;
  using W = KBlock4;
  struct Acc {
    __m256 sum;
  };
  static Acc zero() { return {_mm256_setzero_ps()}; }
  static void accumulate(const W& w, const XBlock& x, Acc& acc) {
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * j));
      const __m256i p16 = _mm256_maddubs_epi16(w.q[j], xq);  // <= 2 * 31 * 127: no saturation
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p16, _mm256_set1_epi16(w.scales[j])));
    }
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums));
    const __m256i mins = _mm256_madd_epi16(bsums, w.mins16);
    acc.sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(w.d * x.d), acc.sum);
    acc.sum = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_set1_ps(w.dmin * x.d), acc.sum);
  }
  static float reduce(const Acc& acc) { return hsum(acc.sum); }
};

struct Q4_KKernel : KQuant4Dot {
  using WBlock = block_q4_K;
  static W load(const WBlock& b) {
    W w;
    const __m256i low = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < 4; ++c) {  // 32 bytes: low nibbles are sub-block 2c, high ones 2c + 1
      const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c));
      w.q[2 * c] = _mm256_and_si256(bytes, low);
      w.q[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low);
    }
    unpack_k4_scales(b.scales, w);
    w.d = fp16_scalar(b.d);
    w.dmin = fp16_scalar(b.dmin);
    return w;
  }
};

struct Q5_KKernel : KQuant4Dot {
  using WBlock = block_q5_K;
  static W load(const WBlock& b) {
    W w;
    const __m256i low = _mm256_set1_epi8(0x0F);
    const __m256i one = _mm256_set1_epi8(1);
    const __m256i hbits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh));
    for (int c = 0; c < 4; ++c) {
      const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * c));
      // bit j of qh[l] is the 5th bit of element 32j + l; a 16-bit shift then a byte mask keeps
      // each byte's own bit
      const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(hbits, 2 * c), one);
      const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(hbits, 2 * c + 1), one);
      w.q[2 * c] = _mm256_or_si256(_mm256_and_si256(bytes, low), _mm256_slli_epi16(h0, 4));
      w.q[2 * c + 1] =
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), low), _mm256_slli_epi16(h1, 4));
    }
    unpack_k4_scales(b.scales, w);
    w.d = fp16_scalar(b.d);
    w.dmin = fp16_scalar(b.dmin);
    return w;
  }
};

// Q2_K, Q3_K and Q6_K: 16 sub-blocks of 16 elements with a scale each (Q2_K also a min), levels
// 0..3, 0..7 and 0..63 standing for level - offset (Q3_K: 4, Q6_K: 32; Q2_K: none, its min instead).
struct K16Block {
  __m256i q[8];            // levels of elements 32j .. 32j+31
  __m256i scales16;        // scale of sub-block g in lane g (int16)
  __m256i pair_scales[8];  // chunk j: scale 2j in lanes 0-7, scale 2j + 1 in lanes 8-15
  __m256i mins16;          // Q2_K: min of sub-block g in lane g
  float d, dmin;
};

inline void set_k16_scales(const int8_t* scales, K16Block& w) {
  w.scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales)));
  for (int j = 0; j < 8; ++j)
    w.pair_scales[j] = _mm256_setr_m128i(_mm_set1_epi16(scales[2 * j]), _mm_set1_epi16(scales[2 * j + 1]));
}

// d_w * d_x * (sum over sub-blocks of scale * sum(level * x) - offset * sum of scale * bsum), and for
// a min: - dmin_w * d_x * sum of min * bsum. bsum is the sum of x over 16 elements: one sub-block.
template <int kOffsetShift, bool kMin>  // offset = 1 << kOffsetShift; kOffsetShift < 0: none
struct K16Dot {
  static constexpr int kBlock = 256;
  using XBlock = block_q8_K;
  using W = K16Block;
  struct Acc {
    __m256 sum;
  };
  static Acc zero() { return {_mm256_setzero_ps()}; }
  static void accumulate(const W& w, const XBlock& x, Acc& acc) {
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * j));
      const __m256i p16 = _mm256_maddubs_epi16(w.q[j], xq);  // <= 2 * 63 * 128: no saturation
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p16, w.pair_scales[j]));
    }
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums));
    if constexpr (kOffsetShift >= 0)
      sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(_mm256_madd_epi16(bsums, w.scales16), kOffsetShift));
    acc.sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(w.d * x.d), acc.sum);
    if constexpr (kMin)
      acc.sum = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(bsums, w.mins16)), _mm256_set1_ps(w.dmin * x.d),
                                 acc.sum);
  }
  static float reduce(const Acc& acc) { return hsum(acc.sum); }
};

// Q6_K: levels 0..63 from 4 bits of ql and 2 of qh; signed 8-bit scales.
struct Q6_KKernel : K16Dot<5, false> {
  using WBlock = block_q6_K;
  static W load(const WBlock& b) {
    W w;
    const __m256i low = _mm256_set1_epi8(0x0F);
    const __m256i two = _mm256_set1_epi8(3);
    for (int half = 0; half < 2; ++half) {  // 128 elements: ql[64 * half ..], qh[32 * half ..]
      const uint8_t* ql = b.ql + 64 * half;
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * half));
      auto high = [&](int shift) {
        return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, shift), two), 4);
      };
      w.q[4 * half + 0] = _mm256_or_si256(_mm256_and_si256(l0, low), high(0));
      w.q[4 * half + 1] = _mm256_or_si256(_mm256_and_si256(l1, low), high(2));
      w.q[4 * half + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low), high(4));
      w.q[4 * half + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low), high(6));
    }
    set_k16_scales(b.scales, w);
    w.d = fp16_scalar(b.d);
    return w;
  }
};

// The 2-bit levels of Q2_K / Q3_K: chunk 4n + j (elements 128n + 32j + l) is bits 2j of qs[32n + l].
inline __m256i two_bit_levels(const uint8_t* qs, int n, int j) {
  const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * n));
  return _mm256_and_si256(_mm256_srl_epi16(bytes, _mm_cvtsi32_si128(2 * j)), _mm256_set1_epi8(3));
}

// Q3_K: 2-bit levels plus 4 where bit 4n + j of hmask[l] is set (0..7, offset 4); 6-bit signed scales.
struct Q3_KKernel : K16Dot<2, false> {
  using WBlock = block_q3_K;
  static W load(const WBlock& b) {
    W w;
    const __m256i hm = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.hmask));
    for (int n = 0; n < 2; ++n)
      for (int j = 0; j < 4; ++j) {
        const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << (4 * n + j)));
        const __m256i high = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit), _mm256_set1_epi8(4));
        w.q[4 * n + j] = _mm256_or_si256(two_bit_levels(b.qs, n, j), high);
      }
    int8_t scales[16];
    scalar::unpack_q3_K_scales(b.scales, scales);
    set_k16_scales(scales, w);
    w.d = fp16_scalar(b.d);
    return w;
  }
};

// Q2_K: 2-bit levels; a 4-bit scale (low nibble) and min (high nibble) per sub-block.
struct Q2_KKernel : K16Dot<-1, true> {
  using WBlock = block_q2_K;
  static W load(const WBlock& b) {
    W w;
    for (int n = 0; n < 2; ++n)
      for (int j = 0; j < 4; ++j) w.q[4 * n + j] = two_bit_levels(b.qs, n, j);
    const __m128i sm = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    alignas(16) int8_t scales[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(scales), _mm_and_si128(sm, _mm_set1_epi8(0x0F)));
    set_k16_scales(scales, w);
    w.mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), _mm_set1_epi8(0x0F)));
    w.d = fp16_scalar(b.d);
    w.dmin = fp16_scalar(b.dmin);
    return w;
  }
};

}  // namespace
}  // namespace slm::kernels::x86
