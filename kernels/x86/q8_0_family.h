// Block kernels (see tile_driver.h) of the weight types paired with Q8_0 activations: Q8_0, Q4_0,
// Q5_0 and IQ4_NL; and of Q4_1 / Q5_1 with Q8_1 activations (at the end). Each 32-element weight block is decoded to 32 signed levels in one ymm; the product
// with the activation uses the sign trick (|w| unsigned times x carrying w's sign), so one
// maddubs/madd (or one vpdpbusd with VNNI) gives the exact integer block sum in 8 lanes, which is
// then scaled by d_w * d_x and accumulated in float: per block as ggml does.
#pragma once

#include <immintrin.h>

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/x86/simd_util.h"

namespace slm::kernels::x86 {
namespace {

struct SignedBlock32 {
  __m256i abs_q;  // |level|, as unsigned bytes
  __m256i q;      // signed level (its sign goes onto the activation)
  float d;
};

struct Q8_0ActDot {
  static constexpr int kBlock = 32;
  using XBlock = block_q8_0;
  using W = SignedBlock32;
  using Acc = __m256;
  static Acc zero() { return _mm256_setzero_ps(); }
  static void accumulate(const W& w, const XBlock& x, Acc& acc) {
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs));
    const __m256i sums = dot_u8_s8(w.abs_q, _mm256_sign_epi8(xq, w.q));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(w.d * fp16_scalar(x.d)), acc);
  }
  static float reduce(const Acc& acc) { return hsum(acc); }
  static W make(__m256i q, uint16_t d) { return {_mm256_sign_epi8(q, q), q, fp16_scalar(d)}; }
};

struct Q8_0Kernel : Q8_0ActDot {
  using WBlock = block_q8_0;
  static W load(const WBlock& b) { return make(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)), b.d); }
};

// Nibbles: element j in the low half of byte j, element j + 16 in the high half.
inline __m256i unpack_nibbles_32(const uint8_t* qs) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(bytes, 4), bytes);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

struct Q4_0Kernel : Q8_0ActDot {
  using WBlock = block_q4_0;
  static W load(const WBlock& b) {
    return make(_mm256_sub_epi8(unpack_nibbles_32(b.qs), _mm256_set1_epi8(8)), b.d);
  }
};

// The 5th bit: bit j of qh (little-endian u32) belongs to element j. Spread each of the 32 bits to
// its byte (ggml's bytes_from_bits_32): shuffle the 4 qh bytes so byte j holds qh byte j / 8, then
// test bit j % 8.
inline __m256i bits_to_bytes_32(const uint8_t* qh) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof(bits));
  const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202,
                                          0x0303030303030303);
  __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
  const __m256i bit_mask = _mm256_set1_epi64x(static_cast<long long>(0x7fbfdfeff7fbfdfe));
  bytes = _mm256_or_si256(bytes, bit_mask);  // all ones exactly where the tested bit is set
  return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

struct Q5_0Kernel : Q8_0ActDot {
  using WBlock = block_q5_0;
  static W load(const WBlock& b) {
    const __m256i high = _mm256_and_si256(bits_to_bytes_32(b.qh), _mm256_set1_epi8(0x10));
    const __m256i q = _mm256_or_si256(unpack_nibbles_32(b.qs), high);
    return make(_mm256_sub_epi8(q, _mm256_set1_epi8(16)), b.d);
  }
};

// IQ4_NL: Q4_0's nibbles looked up in the 16 non-linear levels (-127 .. 113) with one pshufb.
struct IQ4_NLKernel : Q8_0ActDot {
  using WBlock = block_iq4_nl;
  static W load(const WBlock& b) {
    const __m128i table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kvalues_iq4nl));
    const __m256i levels = _mm256_shuffle_epi8(_mm256_set_m128i(table, table), unpack_nibbles_32(b.qs));
    return make(levels, b.d);
  }
};

// Q4_1 and Q5_1 (w = d * level + m, levels unsigned) with Q8_1 activations (x = d_x * q, and s =
// d_x * sum(q) stored with the block): per block ggml's d_w * d_x * sum(level * q) + m * s. The
// levels are unsigned already, so they meet the signed activation bytes without the sign trick.
struct MinBlock32 {
  __m256i q;  // levels 0..15 or 0..31
  float d, m;
};

struct Q8_1ActDot {
  static constexpr int kBlock = 32;
  using XBlock = block_q8_1;
  using W = MinBlock32;
  struct Acc {
    __m256 v;  // the scaled integer sums, per lane
    float m;   // the min terms
  };
  static Acc zero() { return {_mm256_setzero_ps(), 0.0f}; }
  static void accumulate(const W& w, const XBlock& x, Acc& acc) {
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs));
    const __m256i sums = dot_u8_s8(w.q, xq);
    acc.v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(w.d * fp16_scalar(x.d)), acc.v);
    acc.m += w.m * fp16_scalar(x.s);
  }
  static float reduce(const Acc& acc) { return hsum(acc.v) + acc.m; }
};

struct Q4_1Kernel : Q8_1ActDot {
  using WBlock = block_q4_1;
  static W load(const WBlock& b) { return {unpack_nibbles_32(b.qs), fp16_scalar(b.d), fp16_scalar(b.m)}; }
};

struct Q5_1Kernel : Q8_1ActDot {
  using WBlock = block_q5_1;
  static W load(const WBlock& b) {
    const __m256i high = _mm256_and_si256(bits_to_bytes_32(b.qh), _mm256_set1_epi8(0x10));
    return {_mm256_or_si256(unpack_nibbles_32(b.qs), high), fp16_scalar(b.d), fp16_scalar(b.m)};
  }
};

}  // namespace
}  // namespace slm::kernels::x86
