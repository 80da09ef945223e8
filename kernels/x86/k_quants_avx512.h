// AVX-512 matmul kernels for Q4_K and Q6_K weights with Q8_K activations: matrix-vector (one
// token) in tiles of their own, several tokens as block kernels for tile_driver.h.
//
// A whole 256-element super-block is handled in zmm registers: its levels (unsigned) meet the
// activation bytes (signed) in vpdpbusd, each int32 lane then holding 4 products of one sub-block.
// Two such results are packed to int16 (|lane| <= 4 * 63 * 128 < 32768: exact) and vpdpwssd
// multiplies them by the sub-block scales (int16), so a super-block costs 4 vpdpbusd + 2 packs + 2
// vpdpwssd and one int -> float conversion per row. The offsets (Q4_K's mins, Q6_K's -32) come from
// the activation's bsums. Integer sums are exact; only the float summation order differs from the
// scalar reference.
//
// Matrix-vector: the activation block is loaded (and for Q4_K rearranged) once per super-block and
// used for NR rows side by side; the rows' next blocks are prefetched. Several tokens: each weight
// block is decoded once per tile and used for NT tokens. Every load stays inside its block.
//
// Needs AVX-512 F/BW/VL/VNNI and VBMI (vpermb), which the avx512 table requires at dispatch.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/blocks.h"
#include "kernels/kernels.h"
#include "kernels/x86/prepared_activations.h"
#include "kernels/x86/row_streams.h"
#include "kernels/x86/simd_util.h"
#include "kernels/x86/tile_driver.h"

namespace slm::kernels::x86 {
namespace {

// Matrix-vector tiles: 8 rows side by side (measured best of 4, 6, 8, 12 at 4096x14336), each row's
// blocks prefetched 4 super-blocks ahead (576 / 840 bytes): without the prefetch one thread streams
// ~16 GB/s, with it ~26-28 GB/s, the machine's single-thread read bandwidth.
constexpr int kMatvecRows = 8;
constexpr int kPrefetchBlocks = 4;
// Several tokens (tile_driver.h): 4 rows x 8 tokens (measured against 2..6 rows x 3..8 tokens at
// 256x2048 x 128 tokens).
constexpr int kMatmulRows = 4;
constexpr int kMatmulTokens = 8;

// ---- Q4_K ------------------------------------------------------------------------------------------
// qs byte c * 32 + l holds element 64c + l (low nibble) and 64c + 32 + l (high nibble). A 64-byte
// load covers chunks c and c + 1: its low nibbles are elements [64c, 64c+32) ++ [64c+64, 64c+96),
// the high ones [64c+32, 64c+64) ++ [64c+96, 64c+128). The activation is rearranged to match.

struct Q4KAct {
  __m512i x[4];     // Q8_K bytes in the order of the 4 level vectors (see above)
  __m256i bsums;    // 16 sums of 16 activations
  __m128 d;         // x.d in every lane
};

inline Q4KAct q4k_act(const block_q8_K& b) {
  Q4KAct a;
  const __m512i x0 = _mm512_loadu_si512(b.qs);
  const __m512i x1 = _mm512_loadu_si512(b.qs + 64);
  const __m512i x2 = _mm512_loadu_si512(b.qs + 128);
  const __m512i x3 = _mm512_loadu_si512(b.qs + 192);
  a.x[0] = _mm512_shuffle_i64x2(x0, x1, 0x44);  // x0 lanes 0,1 then x1 lanes 0,1
  a.x[1] = _mm512_shuffle_i64x2(x0, x1, 0xEE);  // x0 lanes 2,3 then x1 lanes 2,3
  a.x[2] = _mm512_shuffle_i64x2(x2, x3, 0x44);
  a.x[3] = _mm512_shuffle_i64x2(x2, x3, 0xEE);
  a.bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.bsums));
  a.d = _mm_set1_ps(b.d);
  return a;
}

struct Q4KConsts {
  __m512i m4 = _mm512_set1_epi8(0x0F);
  // packs(p1, p2) puts, in 128-bit lane k, 4 int16 of p1 then 4 of p2. Matrix-vector: p1 = sub-
  // blocks (0 | 2) in lanes (0,1 | 2,3), p2 = (1 | 3); p3, p4 the same plus 4. Several tokens (levels
  // in element order): p1 = (0 | 1), p2 = (2 | 3). Byte 2w of an index picks the scale of word w (odd
  // bytes are zeroed by the mask: int16 scales).
  __m512i idx_s0, idx_s1;  // matrix-vector order
  __m512i idx_e0, idx_e1;  // element order
  __m256i idx_m;      // word w: min of sub-block w / 2 (byte 8 + w / 2 of the decoded scales)
  __m128i shuf_a = _mm_setr_epi8(4, 5, 6, 7, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
  __m128i shuf_b = _mm_setr_epi8(-1, -1, -1, -1, 4, 5, 6, 7, -1, -1, -1, -1, 8, 9, 10, 11);
  __m128i low_mask = _mm_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15);
  Q4KConsts() {
    alignas(64) int8_t s0[64], s1[64], e0[64], e1[64];
    alignas(32) int8_t m[32];
    for (int i = 0; i < 64; ++i) {
      const int w = i / 2, k = w / 8, second = w % 8 >= 4 ? 1 : 0;
      const int sub = second + (k >= 2 ? 2 : 0), sub_e = (k >= 2 ? 1 : 0) + 2 * second;
      s0[i] = static_cast<int8_t>(sub);
      s1[i] = static_cast<int8_t>(sub + 4);
      e0[i] = static_cast<int8_t>(sub_e);
      e1[i] = static_cast<int8_t>(sub_e + 4);
    }
    for (int i = 0; i < 32; ++i) m[i] = static_cast<int8_t>(8 + i / 4);
    idx_s0 = _mm512_load_si512(s0);
    idx_s1 = _mm512_load_si512(s1);
    idx_e0 = _mm512_load_si512(e0);
    idx_e1 = _mm512_load_si512(e1);
    idx_m = _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
  }
};

// The 8 scales (bytes 0-7) and 8 mins (bytes 8-15) of a Q4_K block (scalar::get_scale_min_k4), from
// its first 16 bytes h (d, dmin, the 12 packed bytes q[k] = h[4 + k]):
//   j < 4: sc = q[j] & 63,                          m = q[j+4] & 63
//   j >= 4: sc = (q[j+4] & 15) | (q[j-4] >> 6) << 4, m = (q[j+4] >> 4) | (q[j] >> 6) << 4
inline __m128i q4k_decode_scales(__m128i h, const Q4KConsts& c) {
  const __m128i sa = _mm_shuffle_epi8(h, c.shuf_a);
  const __m128i sa2 = _mm_mask_srli_epi16(sa, 0xC0, sa, 4);  // bytes 12-15: the high nibbles
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(_mm_shuffle_epi8(h, c.shuf_b), 2), _mm_set1_epi8(0x30));
  return _mm_ternarylogic_epi32(sa2, c.low_mask, hi, 0xEA);  // (sa2 & low_mask) | hi
}

// Built on first use (never at start-up: the constructors use AVX-512).
inline const Q4KConsts& q4k_consts() {
  static const Q4KConsts c;
  return c;
}

// acc += d_w * d_x * sum(sc * q * x) - dmin_w * d_x * sum(m * bsum) over one super-block.
inline void q4k_row_block(const block_q4_K& b, const Q4KAct& a, const Q4KConsts& c, __m512& acc) {
  // d, dmin and the 12 packed scale bytes: exactly the block's first 16 bytes
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&b));
  const __m128i sm = q4k_decode_scales(h, c);
  const __m512i sm512 = _mm512_castsi128_si512(sm);
  const __m512i s0 = _mm512_maskz_permutexvar_epi8(0x5555555555555555ULL, c.idx_s0, sm512);
  const __m512i s1 = _mm512_maskz_permutexvar_epi8(0x5555555555555555ULL, c.idx_s1, sm512);
  const __m256i mins = _mm256_maskz_permutexvar_epi8(0x55555555U, c.idx_m, _mm256_castsi128_si256(sm));

  const __m512i q0 = _mm512_loadu_si512(b.qs);
  const __m512i q1 = _mm512_loadu_si512(b.qs + 64);
  const __m512i zero = _mm512_setzero_si512();
  const __m512i p1 = _mm512_dpbusd_epi32(zero, _mm512_and_si512(q0, c.m4), a.x[0]);
  const __m512i p2 = _mm512_dpbusd_epi32(zero, _mm512_and_si512(_mm512_srli_epi16(q0, 4), c.m4), a.x[1]);
  const __m512i p3 = _mm512_dpbusd_epi32(zero, _mm512_and_si512(q1, c.m4), a.x[2]);
  const __m512i p4 = _mm512_dpbusd_epi32(zero, _mm512_and_si512(_mm512_srli_epi16(q1, 4), c.m4), a.x[3]);
  __m512i sumi = _mm512_dpwssd_epi32(zero, _mm512_packs_epi32(p1, p2), s0);
  sumi = _mm512_dpwssd_epi32(sumi, _mm512_packs_epi32(p3, p4), s1);
  const __m256i summ = _mm256_madd_epi16(a.bsums, mins);

  const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(h), a.d);  // d_w * d_x, dmin_w * d_x in lanes 0, 1
  const __m512 dd512 = _mm512_castps128_ps512(dd);
  acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_broadcastss_ps(dd), acc);
  acc = _mm512_fnmadd_ps(_mm512_zextps256_ps512(_mm256_cvtepi32_ps(summ)),
                         _mm512_permutexvar_ps(_mm512_set1_epi32(1), dd512), acc);
}

// Several tokens: a block kernel for tile_driver.h. Each decoded weight block serves NT tokens, so
// the weight side is rearranged instead of the activation: the levels come out in element order.
struct Q4_KKernel512 {
  static constexpr int kBlock = 256;
  using WBlock = block_q4_K;
  using XBlock = block_q8_K;
  struct W {
    __m512i q[4];    // levels of elements 64j .. 64j+63
    __m512i s0, s1;  // int16 scales in packs order
    __m256i mins;    // min of sub-block g / 2 in word g
    float d, dmin;
  };
  using Acc = __m512;
  static W load(const WBlock& b) {
    const Q4KConsts& c = q4k_consts();
    W w;
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&b));
    const __m128i sm = q4k_decode_scales(h, c);
    const __m512i sm512 = _mm512_castsi128_si512(sm);
    w.s0 = _mm512_maskz_permutexvar_epi8(0x5555555555555555ULL, c.idx_e0, sm512);
    w.s1 = _mm512_maskz_permutexvar_epi8(0x5555555555555555ULL, c.idx_e1, sm512);
    w.mins = _mm256_maskz_permutexvar_epi8(0x55555555U, c.idx_m, _mm256_castsi128_si256(sm));
    for (int i = 0; i < 2; ++i) {
      const __m512i q = _mm512_loadu_si512(b.qs + 64 * i);
      const __m512i lo = _mm512_and_si512(q, c.m4), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), c.m4);
      w.q[2 * i] = _mm512_shuffle_i64x2(lo, hi, 0x44);
      w.q[2 * i + 1] = _mm512_shuffle_i64x2(lo, hi, 0xEE);
    }
    w.d = fp16_scalar(b.d);
    w.dmin = fp16_scalar(b.dmin);
    return w;
  }
  static Acc zero() { return _mm512_setzero_ps(); }
  static void accumulate(const W& w, const XBlock& x, Acc& acc) {
    const __m512i zero = _mm512_setzero_si512();
    __m512i p[4];
    for (int j = 0; j < 4; ++j) p[j] = _mm512_dpbusd_epi32(zero, w.q[j], _mm512_loadu_si512(x.qs + 64 * j));
    __m512i sumi = _mm512_dpwssd_epi32(zero, _mm512_packs_epi32(p[0], p[1]), w.s0);
    sumi = _mm512_dpwssd_epi32(sumi, _mm512_packs_epi32(p[2], p[3]), w.s1);
    const __m256i summ =
        _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums)), w.mins);
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(w.d * x.d), acc);
    acc = _mm512_fnmadd_ps(_mm512_zextps256_ps512(_mm256_cvtepi32_ps(summ)), _mm512_set1_ps(w.dmin * x.d), acc);
  }
  static float reduce(const Acc& acc) { return _mm512_reduce_add_ps(acc); }
};

// The operations matvec_tile and matmul_kquant_avx512 need from one type.
struct Q4KOps {
  using Block = block_q4_K;
  using Act = Q4KAct;
  using Consts = Q4KConsts;
  using Kernel512 = Q4_KKernel512;
  static Act act(const block_q8_K& x) { return q4k_act(x); }
  static void row_block(const Block& w, const Act& x, const Consts& c, __m512& acc) { q4k_row_block(w, x, c, acc); }
  static const Consts& consts() { return q4k_consts(); }
};

// ---- Q6_K ------------------------------------------------------------------------------------------
// Half h (128 elements) of a super-block: ql[64h .. 64h+64) and qh[32h .. 32h+32). Element
// 128h + 32k + l (k = 0..3, l = 0..31) has bits 2k, 2k+1 of qh[32h + l] as its high bits and as
// its low 4 bits (ql relative to ql + 64h):
//   k = 0: ql[l] & 15        k = 1: ql[l + 32] & 15      (the low nibbles of the 64 ql bytes)
//   k = 2: ql[l] >> 4        k = 3: ql[l + 32] >> 4      (their high nibbles)
// so the low nibbles of one 64-byte ql load are elements [128h, 128h+64) in order, the high ones
// [128h+64, 128h+128): the activation needs no rearranging. The 32 qh bytes are broadcast to both
// 256-bit halves and each half shifted by its own count.

struct Q6KAct {
  __m512i x[4];       // Q8_K bytes 0-63, 64-127, 128-191, 192-255
  __m512i neg_bsums;  // -bsums (16 int16), upper half zero
  float d;
};

inline Q6KAct q6k_act(const block_q8_K& b) {
  Q6KAct a;
  for (int i = 0; i < 4; ++i) a.x[i] = _mm512_loadu_si512(b.qs + 64 * i);
  const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.bsums));
  a.neg_bsums = _mm512_zextsi256_si512(_mm256_sub_epi16(_mm256_setzero_si256(), bsums));
  a.d = b.d;
  return a;
}

struct Q6KConsts {
  __m512i m4 = _mm512_set1_epi8(0x0F);
  __m512i m30 = _mm512_set1_epi8(0x30);
  // qh bits 2k, 2k+1 to bits 4, 5: k = 0, 1 (first 64 elements) shift left by 4, 2; k = 2, 3 right
  // by 0, 2 (per 16-bit word: bits crossing a byte are masked off by m30)
  __m512i shl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  __m512i shr = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  // packs(p1, p2) for half h: 128-bit lane k holds 4 sums of sub-block 8h + k, then 4 of 8h + 4 + k
  __m512i idx_s0, idx_s1;  // word indices into the 16 sign-extended scales
  Q6KConsts() {
    alignas(64) int16_t s0[32], s1[32];
    for (int w = 0; w < 32; ++w) {
      const int k = w / 8, sub = k + (w % 8 >= 4 ? 4 : 0);
      s0[w] = static_cast<int16_t>(sub);
      s1[w] = static_cast<int16_t>(8 + sub);
    }
    idx_s0 = _mm512_load_si512(s0);
    idx_s1 = _mm512_load_si512(s1);
  }
};

// Built on first use (never at start-up: the constructors use AVX-512).
inline const Q6KConsts& q6k_consts() {
  static const Q6KConsts c;
  return c;
}

// acc += d_w * d_x * sum(sc * (q - 32) * x) over one super-block.
inline void q6k_row_block(const block_q6_K& b, const Q6KAct& a, const Q6KConsts& c, __m512& acc) {
  const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
  const __m512i sc512 = _mm512_castsi256_si512(sc16);
  const __m512i s[2] = {_mm512_permutexvar_epi16(c.idx_s0, sc512), _mm512_permutexvar_epi16(c.idx_s1, sc512)};
  const __m512i zero = _mm512_setzero_si512();
  // the -32 offset: sum of (32 * sc) * (-bsum), |32 * sc| <= 4096 and |bsum| <= 2048 fit int16
  __m512i sumi = _mm512_dpwssd_epi32(zero, _mm512_zextsi256_si512(_mm256_slli_epi16(sc16, 5)), a.neg_bsums);
  for (int h = 0; h < 2; ++h) {
    const __m512i ql = _mm512_loadu_si512(b.ql + 64 * h);
    const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h)));
    const __m512i hi0 = _mm512_and_si512(_mm512_sllv_epi16(qh, c.shl), c.m30);
    const __m512i hi1 = _mm512_and_si512(_mm512_srlv_epi16(qh, c.shr), c.m30);
    const __m512i v0 = _mm512_ternarylogic_epi32(ql, c.m4, hi0, 0xEA);                         // (ql & 15) | hi0
    const __m512i v1 = _mm512_ternarylogic_epi32(_mm512_srli_epi16(ql, 4), c.m4, hi1, 0xEA);  // (ql >> 4) | hi1
    const __m512i p1 = _mm512_dpbusd_epi32(zero, v0, a.x[2 * h]);
    const __m512i p2 = _mm512_dpbusd_epi32(zero, v1, a.x[2 * h + 1]);
    sumi = _mm512_dpwssd_epi32(sumi, _mm512_packs_epi32(p1, p2), s[h]);
  }
  acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(fp16_scalar(b.d) * a.d), acc);
}

// Several tokens: a block kernel for tile_driver.h (the levels are in element order already).
struct Q6_KKernel512 {
  static constexpr int kBlock = 256;
  using WBlock = block_q6_K;
  using XBlock = block_q8_K;
  struct W {
    __m512i q[4];    // levels of elements 64j .. 64j+63
    __m512i s0, s1;  // int16 scales in packs order
    __m512i off;     // -32 * scale of sub-block g in word g (g < 16), zero above
    float d;
  };
  using Acc = __m512;
  static W load(const WBlock& b) {
    const Q6KConsts& c = q6k_consts();
    W w;
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    const __m512i sc512 = _mm512_castsi256_si512(sc16);
    w.s0 = _mm512_permutexvar_epi16(c.idx_s0, sc512);
    w.s1 = _mm512_permutexvar_epi16(c.idx_s1, sc512);
    w.off = _mm512_zextsi256_si512(_mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(sc16, 5)));
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(b.ql + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h)));
      const __m512i hi0 = _mm512_and_si512(_mm512_sllv_epi16(qh, c.shl), c.m30);
      const __m512i hi1 = _mm512_and_si512(_mm512_srlv_epi16(qh, c.shr), c.m30);
      w.q[2 * h] = _mm512_ternarylogic_epi32(ql, c.m4, hi0, 0xEA);
      w.q[2 * h + 1] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(ql, 4), c.m4, hi1, 0xEA);
    }
    w.d = fp16_scalar(b.d);
    return w;
  }
  static Acc zero() { return _mm512_setzero_ps(); }
  static void accumulate(const W& w, const XBlock& x, Acc& acc) {
    const __m512i zero = _mm512_setzero_si512();
    __m512i p[4];
    for (int j = 0; j < 4; ++j) p[j] = _mm512_dpbusd_epi32(zero, w.q[j], _mm512_loadu_si512(x.qs + 64 * j));
    const __m512i bsums = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums)));
    __m512i sumi = _mm512_dpwssd_epi32(zero, bsums, w.off);
    sumi = _mm512_dpwssd_epi32(sumi, _mm512_packs_epi32(p[0], p[1]), w.s0);
    sumi = _mm512_dpwssd_epi32(sumi, _mm512_packs_epi32(p[2], p[3]), w.s1);
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(w.d * x.d), acc);
  }
  static float reduce(const Acc& acc) { return _mm512_reduce_add_ps(acc); }
};

struct Q6KOps {
  using Block = block_q6_K;
  using Act = Q6KAct;
  using Consts = Q6KConsts;
  using Kernel512 = Q6_KKernel512;
  static Act act(const block_q8_K& x) { return q6k_act(x); }
  static void row_block(const Block& w, const Act& x, const Consts& c, __m512& acc) { q6k_row_block(w, x, c, acc); }
  static const Consts& consts() { return q6k_consts(); }
};

// ---- matrix-vector tiles and the MatmulFn, for Q4KOps and Q6KOps ----------------------------------

// NR rows side by side for NT tokens (t0 .. t0 + NT - 1), the rows' streams prefetched PF blocks
// ahead (row_streams.h). One token: its activation block is prepared once per super-block for all
// the rows. Several tokens: their blocks come prepared (prepared[t * nb + b], kquant_matvec_rows) and
// are read as memory operands, since NT tokens' prepared blocks held in registers left too few for
// the accumulators. Each (row, token) sum takes exactly the steps of the one-token tile, so a few
// tokens together give the bits each gets alone, while the weights stream from memory once. The rows
// are r0 + k * stride (k < NR), and the tile read after this one starts next_tile_rows rows later
// (matvec_row_stride in kernels.h).
template <class Ops, int NR, int PF, int NT = 1>
inline void kquant_matvec_tile(const MatmulArgs& a, int64_t r0, const typename Ops::Consts& c, int64_t t0 = 0,
                               const typename Ops::Act* prepared = nullptr, int64_t stride = 1,
                               int64_t next_tile_rows = NR) {
  using Block = typename Ops::Block;
  const int64_t nb = a.cols / kQK_K;
  const uint8_t* rows[NR];
  __m512 acc[NT][NR];
  for (int r = 0; r < NR; ++r) {
    rows[r] = a.w + static_cast<size_t>(r0 + r * stride) * a.w_row_bytes;
    for (int t = 0; t < NT; ++t) acc[t][r] = _mm512_setzero_ps();
  }
  const block_q8_K* x = reinterpret_cast<const block_q8_K*>(a.x + static_cast<size_t>(t0) * a.x_row_bytes);
  for (int64_t b = 0; b < nb; ++b) {
    if constexpr (PF > 0)
      prefetch_row_streams<NR>(rows, a.w_row_bytes, static_cast<size_t>(b) * sizeof(Block), sizeof(Block),
                               PF * sizeof(Block), next_tile_rows);
    if constexpr (NT == 1) {
      const typename Ops::Act act = Ops::act(x[b]);
      for (int r = 0; r < NR; ++r) Ops::row_block(reinterpret_cast<const Block*>(rows[r])[b], act, c, acc[0][r]);
    } else {
      for (int r = 0; r < NR; ++r)
        for (int t = 0; t < NT; ++t)
          Ops::row_block(reinterpret_cast<const Block*>(rows[r])[b], prepared[t * nb + b], c, acc[t][r]);
    }
  }
  for (int t = 0; t < NT; ++t)
    for (int r = 0; r < NR; ++r) a.y[(t0 + t) * a.ldy + r0 + r * stride] = _mm512_reduce_add_ps(acc[t][r]);
}

// Rows [row_begin, row_end) for NT tokens from t0: tiles of NR rows, then 4, then 1.
template <class Ops, int NR, int NT>
inline void kquant_matvec_rows(const MatmulArgs& a, int64_t row_begin, int64_t row_end, const typename Ops::Consts& c,
                               int64_t t0) {
  const typename Ops::Act* prepared = nullptr;
  if constexpr (NT > 1) {
    // The NT tokens' activation blocks, prepared once per call (prepared_activations.h; Q4_K: 320
    // bytes per token and super-block, 70 KiB for 4 tokens at K = 14336).
    prepared = prepare_activations<typename Ops::Act>(NT, a.cols / kQK_K, [&](int t, int64_t b) {
      return Ops::act(reinterpret_cast<const block_q8_K*>(a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes)[b]);
    });
  }
  int64_t r = row_begin;
  if constexpr (NT == 1) {  // groups of NR x s rows as s strided tiles (row_streams.h)
    const auto tile = [&](int64_t first, int64_t s, int64_t next) {
      kquant_matvec_tile<Ops, NR, kPrefetchBlocks, 1>(a, first, c, t0, nullptr, s, next);
    };
    r = strided_groups<NR>(r, row_end, matvec_row_stride(a.wtype, a.w_row_bytes), tile);
  }
  for (; r + NR <= row_end; r += NR) kquant_matvec_tile<Ops, NR, kPrefetchBlocks, NT>(a, r, c, t0, prepared);
  if constexpr (NR > 4) {
    if (r + 4 <= row_end) {
      kquant_matvec_tile<Ops, 4, kPrefetchBlocks, NT>(a, r, c, t0, prepared);
      r += 4;
    }
  }
  for (; r < row_end; ++r) kquant_matvec_tile<Ops, 1, 0, NT>(a, r, c, t0, prepared);
}

// The MatmulFn. One token: tiles of kMatvecRows rows. A few tokens (below kAvx512PanelMinTokens,
// where the graph does not use the panels: several sequences decoding together): the same tiles
// over groups of 8 tokens (8 rows), 4 (4 rows), then 2 (8 rows), then 1, so the weights stream once
// per group and each result has the one-token bits (alternated from DRAM, prepared activations
// against in-tile ones: Q4_K 4 tokens +10%, 2 tokens in 8 rows instead of 4 +12%; Q6_K within
// +-5%; 8 tokens: bench_decode 1B Q4_K_M 8 streams 61 ms per step with panels, 43-44 as one group
// of 8 or 4 rows). More tokens through tile_driver.h with the 512-bit block kernel.
template <class Ops>
void matmul_kquant_avx512(const MatmulArgs& a, int64_t row_begin, int64_t row_end) {
  const typename Ops::Consts& c = Ops::consts();
  if (a.n_tokens >= kAvx512PanelMinTokens) {
    matmul_tiled<typename Ops::Kernel512, kMatmulRows, kMatmulTokens>(a, row_begin, row_end);
    return;
  }
  int64_t t = 0;
  for (; t + 8 <= a.n_tokens; t += 8) kquant_matvec_rows<Ops, 8, 8>(a, row_begin, row_end, c, t);
  for (; t + 4 <= a.n_tokens; t += 4) kquant_matvec_rows<Ops, 4, 4>(a, row_begin, row_end, c, t);
  for (; t + 2 <= a.n_tokens; t += 2) kquant_matvec_rows<Ops, kMatvecRows, 2>(a, row_begin, row_end, c, t);
  if (t < a.n_tokens) kquant_matvec_rows<Ops, kMatvecRows, 1>(a, row_begin, row_end, c, t);
}

}  // namespace
}  // namespace slm::kernels::x86
