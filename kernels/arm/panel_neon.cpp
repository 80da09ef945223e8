// NEON token-panel products (kernels.h, "token panels"): the prompt path of the NEON level, and its
// activation packer. The same plan as kernels/x86/panel_common.h, shaped for SDOT:
//
// The weights are unpacked, kRows = 4 rows by kChunk columns at a time, into SIGNED levels (level -
// offset fits int8 for every type, so no "-offset * sum(x)" start is needed) with one float scale
// (and min) per sub-block, interleaved so that one 16-byte load holds the same 4-column group of the
// 4 rows. vdotq_laneq_s32 then multiplies lane r of that register (row r's 4 levels) with one
// activation register of the panel (4 tokens x the same 4 columns): one instruction, 16 products.
// Each row group's chunk is unpacked once and reused by every token panel.
//
// Accumulators: 4 rows x 8 tokens of int32 block sums and as many float sums (16 of 32 registers),
// so a panel's 16 tokens take two passes over the unpacked rows (which sit in L1). Per 32-column
// block, a block sum is converted, scaled by row scale x token da and added in float; types with a
// min (Q4_1, Q5_1, Q4_K, Q5_K, Q2_K) subtract min x das. Integer sums are exact; only the float
// summation order differs from the scalar reference.
//
// Compiled with dotprod (cmake/SlmOptions.cmake), which the NEON level requires wherever it runs.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/arm/neon_kernels.h"
#include "kernels/blocks.h"
#include "kernels/scalar/scalar.h"

namespace slm::kernels::neon {
namespace {

// Rows unpacked together: one lane each of an SDOT's weight operand.
constexpr int kRows = 4;
// Columns unpacked at a time: 4 rows x 2048 levels (8 KiB) stay in L1 beside one block of activations.
constexpr int64_t kChunk = 2048;

// One chunk of kRows weight rows. Levels: 4-column group g of row r at q[(g * kRows + r) * 4].
// Scales and mins: sub-block s of row r at [s * kRows + r], so one load gives the 4 rows'.
template <int kSub>
struct PanelRows {
  static constexpr int64_t kSubs = kChunk / kSub;
  alignas(64) int8_t q[kChunk * kRows];
  alignas(64) float scale[kSubs * kRows];
  alignas(64) float min[kSubs * kRows];  // types with a min only
};

// Low and high nibbles of 16 bytes, minus `offset`, to lo[0, 16) and hi[0, 16).
inline void unpack_nibbles16(const uint8_t* qs, int8_t* lo, int8_t* hi, int8_t offset) {
  const uint8x16_t v = vld1q_u8(qs);
  const int8x16_t off = vdupq_n_s8(offset);
  vst1q_s8(lo, vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F))), off));
  vst1q_s8(hi, vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), off));
}

// Q5_0 / Q5_1 levels minus `offset`: nibbles of qs plus bit l (element l) / l + 16 of the 32-bit qh.
inline void unpack_q5_levels(const uint8_t* qs, const uint8_t* qh_bytes, int8_t* q, int8_t offset) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof(qh));
  const uint8x16_t v = vld1q_u8(qs);
  const int8x16_t off = vdupq_n_s8(offset);
  const uint8x16_t lo =
      vorrq_u8(vandq_u8(v, vdupq_n_u8(0x0F)), bits_to_lanes(static_cast<uint16_t>(qh), 0x10));
  const uint8x16_t hi = vorrq_u8(vshrq_n_u8(v, 4), bits_to_lanes(static_cast<uint16_t>(qh >> 16), 0x10));
  vst1q_s8(q, vsubq_s8(vreinterpretq_s8_u8(lo), off));
  vst1q_s8(q + 16, vsubq_s8(vreinterpretq_s8_u8(hi), off));
}

// ---- unpackers: one weight block -> signed levels q[kBlock], scale[kBlock / kSub], min[...] ------
// A weight is scale * q - min (min only where kMin).

struct PanelQ4_0 {
  using WBlock = block_q4_0;
  static constexpr int kBlock = 32, kSub = 32;
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, int8_t* q, float* scale, float*) {
    unpack_nibbles16(b.qs, q, q + 16, 8);
    scale[0] = half_to_float(b.d);
  }
};

struct PanelQ4_1 {
  using WBlock = block_q4_1;
  static constexpr int kBlock = 32, kSub = 32;
  static constexpr bool kMin = true;
  static void unpack(const WBlock& b, int8_t* q, float* scale, float* min) {
    unpack_nibbles16(b.qs, q, q + 16, 0);
    scale[0] = half_to_float(b.d);
    min[0] = -half_to_float(b.m);  // w = d q + m
  }
};

struct PanelQ5_0 {
  using WBlock = block_q5_0;
  static constexpr int kBlock = 32, kSub = 32;
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, int8_t* q, float* scale, float*) {
    unpack_q5_levels(b.qs, b.qh, q, 16);
    scale[0] = half_to_float(b.d);
  }
};

struct PanelQ5_1 {
  using WBlock = block_q5_1;
  static constexpr int kBlock = 32, kSub = 32;
  static constexpr bool kMin = true;
  static void unpack(const WBlock& b, int8_t* q, float* scale, float* min) {
    unpack_q5_levels(b.qs, b.qh, q, 0);
    scale[0] = half_to_float(b.d);
    min[0] = -half_to_float(b.m);
  }
};

struct PanelQ8_0 {
  using WBlock = block_q8_0;
  static constexpr int kBlock = 32, kSub = 32;
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, int8_t* q, float* scale, float*) {
    vst1q_s8(q, vld1q_s8(b.qs));
    vst1q_s8(q + 16, vld1q_s8(b.qs + 16));
    scale[0] = half_to_float(b.d);
  }
};

// IQ4_NL: the nibbles index the 16 non-linear levels (-127 .. 113), already signed bytes.
struct PanelIQ4_NL {
  using WBlock = block_iq4_nl;
  static constexpr int kBlock = 32, kSub = 32;
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, int8_t* q, float* scale, float*) {
    const int8x16_t table = vld1q_s8(kvalues_iq4nl);
    const uint8x16_t v = vld1q_u8(b.qs);
    vst1q_s8(q, vqtbl1q_s8(table, vandq_u8(v, vdupq_n_u8(0x0F))));
    vst1q_s8(q + 16, vqtbl1q_s8(table, vshrq_n_u8(v, 4)));
    scale[0] = half_to_float(b.d);
  }
};

struct PanelQ4_K {
  using WBlock = block_q4_K;
  static constexpr int kBlock = 256, kSub = 32;
  static constexpr bool kMin = true;
  static void unpack(const WBlock& b, int8_t* q, float* scale, float* min) {
    // qs[32c + l]: element 64c + l (low nibble), 64c + 32 + l (high)
    for (int c = 0; c < 4; ++c)
      for (int k = 0; k < 2; ++k)
        unpack_nibbles16(b.qs + 32 * c + 16 * k, q + 64 * c + 16 * k, q + 64 * c + 32 + 16 * k, 0);
    scalar::k4_scales_mins(b, scale, min);
  }
};

struct PanelQ5_K {
  using WBlock = block_q5_K;
  static constexpr int kBlock = 256, kSub = 32;
  static constexpr bool kMin = true;
  static void unpack(const WBlock& b, int8_t* q, float* scale, float* min) {
    // like Q4_K, plus bit 2c (low nibbles) and 2c + 1 (high) of qh[l] as the fifth bit
    const uint8x16_t m4 = vdupq_n_u8(0x0F), sixteen = vdupq_n_u8(0x10);
    for (int k = 0; k < 2; ++k) {
      const uint8x16_t qh = vld1q_u8(b.qh + 16 * k);
      for (int c = 0; c < 4; ++c) {
        const uint8x16_t v = vld1q_u8(b.qs + 32 * c + 16 * k);
        const uint8x16_t h0 =
            vandq_u8(vtstq_u8(qh, vdupq_n_u8(static_cast<uint8_t>(1u << (2 * c)))), sixteen);
        const uint8x16_t h1 =
            vandq_u8(vtstq_u8(qh, vdupq_n_u8(static_cast<uint8_t>(2u << (2 * c)))), sixteen);
        vst1q_u8(reinterpret_cast<uint8_t*>(q + 64 * c + 16 * k), vorrq_u8(vandq_u8(v, m4), h0));
        vst1q_u8(reinterpret_cast<uint8_t*>(q + 64 * c + 32 + 16 * k), vorrq_u8(vshrq_n_u8(v, 4), h1));
      }
    }
    scalar::k4_scales_mins(b, scale, min);
  }
};

struct PanelQ6_K {
  using WBlock = block_q6_K;
  static constexpr int kBlock = 256, kSub = 16;
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, int8_t* q, float* scale, float*) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m30 = vdupq_n_u8(0x30);
    const int8x16_t off = vdupq_n_s8(32);
    // element 128n + l: ql[64n + l] low | qh bits 0-1; + 32: ql[64n + 32 + l] low | bits 2-3;
    // + 64: ql[64n + l] high | bits 4-5; + 96: ql[64n + 32 + l] high | bits 6-7 (qh[32n + l], l < 32)
    for (int n = 0; n < 2; ++n)
      for (int k = 0; k < 2; ++k) {
        const uint8x16_t a = vld1q_u8(b.ql + 64 * n + 16 * k), c = vld1q_u8(b.ql + 64 * n + 32 + 16 * k);
        const uint8x16_t h = vld1q_u8(b.qh + 32 * n + 16 * k);
        const uint8x16_t lv[4] = {
            vorrq_u8(vandq_u8(a, m4), vandq_u8(vshlq_n_u8(h, 4), m30)),
            vorrq_u8(vandq_u8(c, m4), vandq_u8(vshlq_n_u8(h, 2), m30)),
            vorrq_u8(vshrq_n_u8(a, 4), vandq_u8(h, m30)),
            vorrq_u8(vshrq_n_u8(c, 4), vandq_u8(vshrq_n_u8(h, 2), m30)),
        };
        for (int j = 0; j < 4; ++j)
          vst1q_s8(q + 128 * n + 32 * j + 16 * k, vsubq_s8(vreinterpretq_s8_u8(lv[j]), off));
      }
    const float d = half_to_float(b.d);
    for (int j = 0; j < 16; ++j) scale[j] = d * b.scales[j];
  }
};

// Q2_K: 16 sub-blocks of 16, levels 0..3 (2 bits of qs at shift 2j), 4-bit scale and min per
// sub-block. Sub-block s = 8n + 2j + h covers elements 128n + 32j + 16h + l, from qs[32n + 16h + l].
struct PanelQ2_K {
  using WBlock = block_q2_K;
  static constexpr int kBlock = 256, kSub = 16;
  static constexpr bool kMin = true;
  static void unpack(const WBlock& b, int8_t* q, float* scale, float* min) {
    const uint8x16_t m3 = vdupq_n_u8(3);
    for (int n = 0; n < 2; ++n)
      for (int h = 0; h < 2; ++h) {
        const uint8x16_t v = vld1q_u8(b.qs + 32 * n + 16 * h);
        uint8_t* dst = reinterpret_cast<uint8_t*>(q + 128 * n + 16 * h);
        vst1q_u8(dst, vandq_u8(v, m3));
        vst1q_u8(dst + 32, vandq_u8(vshrq_n_u8(v, 2), m3));
        vst1q_u8(dst + 64, vandq_u8(vshrq_n_u8(v, 4), m3));
        vst1q_u8(dst + 96, vshrq_n_u8(v, 6));
      }
    const float d = half_to_float(b.d), dmin = half_to_float(b.dmin);
    for (int sb = 0; sb < 16; ++sb) {
      scale[sb] = d * static_cast<float>(b.scales[sb] & 0xF);
      min[sb] = dmin * static_cast<float>(b.scales[sb] >> 4);
    }
  }
};

// Q3_K: as Q2_K's layout, plus a third bit from hmask (bit 4n + j of hmask[16h + l]): the level is
// the 2 low bits, minus 4 where that bit is clear; 16 signed 6-bit scales, no min.
struct PanelQ3_K {
  using WBlock = block_q3_K;
  static constexpr int kBlock = 256, kSub = 16;
  static constexpr bool kMin = false;
  static void unpack(const WBlock& b, int8_t* q, float* scale, float*) {
    const uint8x16_t m3 = vdupq_n_u8(3), four = vdupq_n_u8(4);
    for (int h = 0; h < 2; ++h) {
      const uint8x16_t hm = vld1q_u8(b.hmask + 16 * h);
      for (int n = 0; n < 2; ++n) {
        const uint8x16_t v = vld1q_u8(b.qs + 32 * n + 16 * h);
        const uint8x16_t low[4] = {vandq_u8(v, m3), vandq_u8(vshrq_n_u8(v, 2), m3),
                                   vandq_u8(vshrq_n_u8(v, 4), m3), vshrq_n_u8(v, 6)};
        for (int j = 0; j < 4; ++j) {
          const uint8x16_t set = vtstq_u8(hm, vdupq_n_u8(static_cast<uint8_t>(1u << (4 * n + j))));
          vst1q_s8(q + 128 * n + 32 * j + 16 * h,
                   vsubq_s8(vreinterpretq_s8_u8(low[j]), vreinterpretq_s8_u8(vbicq_u8(four, set))));
        }
      }
    }
    int8_t sc[16];
    scalar::unpack_q3_K_scales(b.scales, sc);
    const float d = half_to_float(b.d);
    for (int sb = 0; sb < 16; ++sb) scale[sb] = d * static_cast<float>(sc[sb]);
  }
};

// Rows [r0, r0 + nr) (nr <= kRows), columns [c0, c0 + kc): unpacked into p block by block (each
// row's levels into tmp, then 4-byte groups of the 4 rows interleaved with one vst4q per 16
// columns). Rows past nr are zero (their outputs are never stored).
template <class T>
inline void unpack_rows(const MatmulArgs& a, int64_t r0, int nr, int64_t c0, int64_t kc,
                        PanelRows<T::kSub>& p) {
  constexpr int kSubsPerBlock = T::kBlock / T::kSub;
  alignas(16) int8_t tmp[kRows][T::kBlock];
  float scale[kRows][kSubsPerBlock], min[kRows][kSubsPerBlock];
  for (int r = nr; r < kRows; ++r) {
    std::memset(tmp[r], 0, sizeof(tmp[r]));
    std::fill_n(scale[r], kSubsPerBlock, 0.0f);
    std::fill_n(min[r], kSubsPerBlock, 0.0f);
  }
  const typename T::WBlock* rows[kRows] = {};
  for (int r = 0; r < nr; ++r)
    rows[r] = reinterpret_cast<const typename T::WBlock*>(a.w + static_cast<size_t>(r0 + r) * a.w_row_bytes) +
              c0 / T::kBlock;
  const int64_t nb = kc / T::kBlock;
  for (int64_t b = 0; b < nb; ++b) {
    for (int r = 0; r < nr; ++r) T::unpack(rows[r][b], tmp[r], scale[r], min[r]);
    auto* dst = reinterpret_cast<uint32_t*>(p.q + b * T::kBlock * kRows);
    for (int i = 0; i < T::kBlock / 16; ++i) {
      uint32x4x4_t v;
      v.val[0] = vreinterpretq_u32_s8(vld1q_s8(tmp[0] + 16 * i));
      v.val[1] = vreinterpretq_u32_s8(vld1q_s8(tmp[1] + 16 * i));
      v.val[2] = vreinterpretq_u32_s8(vld1q_s8(tmp[2] + 16 * i));
      v.val[3] = vreinterpretq_u32_s8(vld1q_s8(tmp[3] + 16 * i));
      vst4q_u32(dst + 16 * i, v);
    }
    for (int s = 0; s < kSubsPerBlock; ++s)
      for (int r = 0; r < kRows; ++r) {
        p.scale[(b * kSubsPerBlock + s) * kRows + r] = scale[r][s];
        if constexpr (T::kMin) p.min[(b * kSubsPerBlock + s) * kRows + r] = min[r][s];
      }
  }
}

// Prefetches the bytes of weight rows [r0, r_end) that columns [c0, c0 + kc) occupy, so the next row
// group's unpacking finds them in cache.
template <class T>
inline void prefetch_rows(const MatmulArgs& a, int64_t r0, int64_t r_end, int64_t c0, int64_t kc) {
  const size_t bytes = static_cast<size_t>(kc / T::kBlock) * sizeof(typename T::WBlock);
  const size_t start = static_cast<size_t>(c0 / T::kBlock) * sizeof(typename T::WBlock);
  for (int64_t r = r0; r < r_end; ++r) {
    const uint8_t* p = a.w + static_cast<size_t>(r) * a.w_row_bytes + start;
    for (size_t l = 0; l < bytes; l += 64) __builtin_prefetch(p + l, 0, 2);
  }
}

// s[r][j] += row r's 4 levels of one group (lane r of w) . tokens 4j .. 4j + 3 of the group (x[j]).
// The lane is a template argument: SDOT's lane index must be a constant.
template <int r>
inline void dot_row(int32x4_t (&s)[kRows][2], int8x16_t w, int8x16_t x0, int8x16_t x1) {
  s[r][0] = vdotq_laneq_s32(s[r][0], x0, w, r);
  s[r][1] = vdotq_laneq_s32(s[r][1], x1, w, r);
}

inline void dot_group(int32x4_t (&s)[kRows][2], const int8_t* w, const int8_t* x) {
  const int8x16_t wv = vld1q_s8(w), x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16);
  dot_row<0>(s, wv, x0, x1);
  dot_row<1>(s, wv, x0, x1);
  dot_row<2>(s, wv, x0, x1);
  dot_row<3>(s, wv, x0, x1);
}

// acc[r][j] += float(s[r][j]) * (scale[r] * da_j)
inline void add_scaled(float32x4_t (&acc)[kRows][2], const int32x4_t (&s)[kRows][2], float32x4_t da0,
                       float32x4_t da1, const float* scale) {
  for (int r = 0; r < kRows; ++r) {
    acc[r][0] = vfmaq_f32(acc[r][0], vcvtq_f32_s32(s[r][0]), vmulq_n_f32(da0, scale[r]));
    acc[r][1] = vfmaq_f32(acc[r][1], vcvtq_f32_s32(s[r][1]), vmulq_n_f32(da1, scale[r]));
  }
}

// acc[r][j] -= das_j * min[r]
inline void sub_min(float32x4_t (&acc)[kRows][2], float32x4_t das0, float32x4_t das1, const float* min) {
  for (int r = 0; r < kRows; ++r) {
    acc[r][0] = vfmsq_f32(acc[r][0], das0, vdupq_n_f32(min[r]));
    acc[r][1] = vfmsq_f32(acc[r][1], das1, vdupq_n_f32(min[r]));
  }
}

// out[t][r] (t in [8 half, 8 half + 8)) = the chunk's products of row r with token t of one panel
// (its chunk at xp).
template <class T>
void chunk_half(const PanelRows<T::kSub>& p, int64_t kc, const uint8_t* xp, int half,
                float (&out)[kPanelTokens][kRows]) {
  float32x4_t acc[kRows][2];
  for (auto& row : acc) row[0] = row[1] = vdupq_n_f32(0.0f);
  const int64_t nb = kc / 32;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* ap = xp + static_cast<size_t>(b) * kPanelBlockBytes;
    const auto* xq = reinterpret_cast<const int8_t*>(ap) + 32 * half;  // group g at + 64 g
    const int8_t* wq = p.q + b * 32 * kRows;                           // group g at + 16 g
    const float* da = reinterpret_cast<const float*>(ap + kPanelDa) + 8 * half;
    const float32x4_t da0 = vld1q_f32(da), da1 = vld1q_f32(da + 4);
    int32x4_t s[kRows][2];
    if constexpr (T::kSub == 32) {
      for (auto& row : s) row[0] = row[1] = vdupq_n_s32(0);
      for (int g = 0; g < 8; ++g) dot_group(s, wq + 16 * g, xq + 64 * g);
      add_scaled(acc, s, da0, da1, p.scale + b * kRows);
    } else {  // 16-element sub-blocks: two sums per block
      for (int h = 0; h < 2; ++h) {
        for (auto& row : s) row[0] = row[1] = vdupq_n_s32(0);
        for (int g = 4 * h; g < 4 * h + 4; ++g) dot_group(s, wq + 16 * g, xq + 64 * g);
        add_scaled(acc, s, da0, da1, p.scale + (2 * b + h) * kRows);
      }
    }
    if constexpr (T::kMin && T::kSub == 32) {
      const float* das = reinterpret_cast<const float*>(ap + kPanelDas) + 8 * half;
      sub_min(acc, vld1q_f32(das), vld1q_f32(das + 4), p.min + b * kRows);
    } else if constexpr (T::kMin) {  // a min per 16: da times each half's sum
      const int32_t* sum = reinterpret_cast<const int32_t*>(ap + kPanelSum) + 8 * half;
      const int32_t* lo = reinterpret_cast<const int32_t*>(ap + kPanelSumLo) + 8 * half;
      const int32x4_t sum0 = vld1q_s32(sum), sum1 = vld1q_s32(sum + 4);
      const int32x4_t lo0 = vld1q_s32(lo), lo1 = vld1q_s32(lo + 4);
      sub_min(acc, vmulq_f32(da0, vcvtq_f32_s32(lo0)), vmulq_f32(da1, vcvtq_f32_s32(lo1)),
              p.min + 2 * b * kRows);
      sub_min(acc, vmulq_f32(da0, vcvtq_f32_s32(vsubq_s32(sum0, lo0))),
              vmulq_f32(da1, vcvtq_f32_s32(vsubq_s32(sum1, lo1))), p.min + (2 * b + 1) * kRows);
    }
  }
  // [row][token] registers to [token][row] memory: vst4q interleaves the 4 rows' lanes
  for (int j = 0; j < 2; ++j) {
    float32x4x4_t v;
    for (int r = 0; r < kRows; ++r) v.val[r] = acc[r][j];
    vst4q_f32(out[8 * half + 4 * j], v);
  }
}

// y[t * ldy + r] = (or +=, when add) out[t][r] for r < nr, t < nt.
inline void store_panel(const float (&out)[kPanelTokens][kRows], float* y, int64_t ldy, int nr, int nt,
                        bool add) {
  for (int t = 0; t < nt; ++t) {
    float* dst = y + t * ldy;
    if (nr == kRows) {
      const float32x4_t v = vld1q_f32(out[t]);
      vst1q_f32(dst, add ? vaddq_f32(vld1q_f32(dst), v) : v);
    } else {
      for (int r = 0; r < nr; ++r) dst[r] = add ? dst[r] + out[t][r] : out[t][r];
    }
  }
}

// The MatmulFn of the panel path (a.xp set). Chunks of kChunk columns outermost, so one chunk's
// activations (kChunk / 32 x 768 bytes per 16 tokens) stay in cache while every row group of the
// range passes over them; each row group's chunk is unpacked once and used by every token panel,
// while the next group's weights are prefetched. Later chunks add their partial sums into y.
template <class T>
void matmul_panels(const MatmulArgs& a, int64_t row_begin, int64_t row_end) {
  PanelRows<T::kSub> p;
  alignas(16) float out[kPanelTokens][kRows];
  const size_t per_panel = panel_bytes(a.cols);
  const int64_t panels = panel_count(a.n_tokens);
  for (int64_t c0 = 0; c0 < a.cols; c0 += kChunk) {
    const int64_t kc = std::min(kChunk, a.cols - c0);
    for (int64_t r0 = row_begin; r0 < row_end; r0 += kRows) {
      const int nr = static_cast<int>(std::min<int64_t>(kRows, row_end - r0));
      unpack_rows<T>(a, r0, nr, c0, kc, p);
      if (r0 + kRows < row_end) prefetch_rows<T>(a, r0 + kRows, std::min(r0 + 2 * kRows, row_end), c0, kc);
      for (int64_t tp = 0; tp < panels; ++tp) {
        const int64_t t0 = tp * kPanelTokens;
        const int nt = static_cast<int>(std::min<int64_t>(kPanelTokens, a.n_tokens - t0));
        const uint8_t* xp =
            a.xp + per_panel * static_cast<size_t>(tp) + static_cast<size_t>(c0 / 32) * kPanelBlockBytes;
        // a second pass only where the panel has live tokens past the first 8 (padding is all zero)
        for (int half = 0; half < 2 && 8 * half < nt; ++half) chunk_half<T>(p, kc, xp, half, out);
        store_panel(out, a.y + t0 * a.ldy + r0, a.ldy, nr, nt, c0 > 0);
      }
    }
  }
}

}  // namespace

void matmul_panels_q4_0(const MatmulArgs& a, int64_t rb, int64_t re) { matmul_panels<PanelQ4_0>(a, rb, re); }
void matmul_panels_q4_1(const MatmulArgs& a, int64_t rb, int64_t re) { matmul_panels<PanelQ4_1>(a, rb, re); }
void matmul_panels_q5_0(const MatmulArgs& a, int64_t rb, int64_t re) { matmul_panels<PanelQ5_0>(a, rb, re); }
void matmul_panels_q5_1(const MatmulArgs& a, int64_t rb, int64_t re) { matmul_panels<PanelQ5_1>(a, rb, re); }
void matmul_panels_q8_0(const MatmulArgs& a, int64_t rb, int64_t re) { matmul_panels<PanelQ8_0>(a, rb, re); }
void matmul_panels_iq4_nl(const MatmulArgs& a, int64_t rb, int64_t re) {
  matmul_panels<PanelIQ4_NL>(a, rb, re);
}
void matmul_panels_q2_K(const MatmulArgs& a, int64_t rb, int64_t re) { matmul_panels<PanelQ2_K>(a, rb, re); }
void matmul_panels_q3_K(const MatmulArgs& a, int64_t rb, int64_t re) { matmul_panels<PanelQ3_K>(a, rb, re); }
void matmul_panels_q4_K(const MatmulArgs& a, int64_t rb, int64_t re) { matmul_panels<PanelQ4_K>(a, rb, re); }
void matmul_panels_q5_K(const MatmulArgs& a, int64_t rb, int64_t re) { matmul_panels<PanelQ5_K>(a, rb, re); }
void matmul_panels_q6_K(const MatmulArgs& a, int64_t rb, int64_t re) { matmul_panels<PanelQ6_K>(a, rb, re); }

// ---- activation packing ----------------------------------------------------------------------------
// Per block and 4 live tokens: each token's 32 quants in two registers (groups 0-3, 4-7), a 4 x 4
// transpose of 32-bit groups turns them into the panel's "group g of 4 tokens" registers, and SDOTs
// against ones give the per-token sums. Tokens past n_tokens are zero registers and zero scales, so
// every byte of the panel is written.
void pack_panel(DType act, const uint8_t* x, size_t x_row_bytes, int64_t cols, int64_t n_tokens,
                int64_t panel, uint8_t* out) {
  const int64_t t0 = panel * kPanelTokens;
  const int nt = static_cast<int>(std::min<int64_t>(kPanelTokens, n_tokens - t0));
  const uint8_t* base = x + static_cast<size_t>(t0) * x_row_bytes;
  const int8x16_t ones = vdupq_n_s8(1);
  const int64_t nb = cols / 32;
  for (int64_t b = 0; b < nb; ++b) {
    size_t q_off;  // the block's quants within a row
    alignas(16) float d[kPanelTokens] = {}, s[kPanelTokens] = {};
    if (act == DType::Q8_0) {
      q_off = static_cast<size_t>(b) * sizeof(block_q8_0) + offsetof(block_q8_0, qs);
      for (int t = 0; t < nt; ++t)
        d[t] = half_to_float((reinterpret_cast<const block_q8_0*>(base + t * x_row_bytes) + b)->d);
    } else if (act == DType::Q8_1) {  // das is the block's own s (ggml's vec_dot uses it)
      q_off = static_cast<size_t>(b) * sizeof(block_q8_1) + offsetof(block_q8_1, qs);
      for (int t = 0; t < nt; ++t) {
        const auto* blk = reinterpret_cast<const block_q8_1*>(base + t * x_row_bytes) + b;
        d[t] = half_to_float(blk->d);
        s[t] = half_to_float(blk->s);
      }
    } else {  // Q8_K: 8 blocks of 32 per super-block, one scale
      const int64_t sb = b / 8;
      q_off = static_cast<size_t>(sb) * sizeof(block_q8_K) + offsetof(block_q8_K, qs) +
              static_cast<size_t>(b % 8) * 32;
      for (int t = 0; t < nt; ++t)
        d[t] = (reinterpret_cast<const block_q8_K*>(base + t * x_row_bytes) + sb)->d;
    }
    uint8_t* dst = out + static_cast<size_t>(b) * kPanelBlockBytes;
    for (int tq = 0; tq < kPanelTokens / 4; ++tq) {
      int32x4_t sum = vdupq_n_s32(0), sum_lo = sum;
      for (int h = 0; h < 2; ++h) {  // groups 4h .. 4h + 3
        uint32x4_t v[4];
        for (int i = 0; i < 4; ++i) {
          const int t = 4 * tq + i;
          v[i] = t < nt ? vreinterpretq_u32_u8(vld1q_u8(base + t * x_row_bytes + q_off + 16 * h))
                        : vdupq_n_u32(0);
        }
        const uint32x4_t ab_lo = vtrn1q_u32(v[0], v[1]), ab_hi = vtrn2q_u32(v[0], v[1]);
        const uint32x4_t cd_lo = vtrn1q_u32(v[2], v[3]), cd_hi = vtrn2q_u32(v[2], v[3]);
        const uint32x4_t g[4] = {
            vreinterpretq_u32_u64(vtrn1q_u64(vreinterpretq_u64_u32(ab_lo), vreinterpretq_u64_u32(cd_lo))),
            vreinterpretq_u32_u64(vtrn1q_u64(vreinterpretq_u64_u32(ab_hi), vreinterpretq_u64_u32(cd_hi))),
            vreinterpretq_u32_u64(vtrn2q_u64(vreinterpretq_u64_u32(ab_lo), vreinterpretq_u64_u32(cd_lo))),
            vreinterpretq_u32_u64(vtrn2q_u64(vreinterpretq_u64_u32(ab_hi), vreinterpretq_u64_u32(cd_hi))),
        };
        for (int k = 0; k < 4; ++k) {
          vst1q_u32(reinterpret_cast<uint32_t*>(dst + 64 * (4 * h + k) + 16 * tq), g[k]);
          sum = vdotq_s32(sum, vreinterpretq_s8_u32(g[k]), ones);
        }
        if (h == 0) sum_lo = sum;
      }
      const float32x4_t da = vld1q_f32(d + 4 * tq);
      const float32x4_t das = act == DType::Q8_1 ? vld1q_f32(s + 4 * tq) : vmulq_f32(da, vcvtq_f32_s32(sum));
      vst1q_f32(reinterpret_cast<float*>(dst + kPanelDa) + 4 * tq, da);
      vst1q_f32(reinterpret_cast<float*>(dst + kPanelDas) + 4 * tq, das);
      vst1q_s32(reinterpret_cast<int32_t*>(dst + kPanelSum) + 4 * tq, sum);
      vst1q_s32(reinterpret_cast<int32_t*>(dst + kPanelSumLo) + 4 * tq, sum_lo);
    }
  }
}

}  // namespace slm::kernels::neon
