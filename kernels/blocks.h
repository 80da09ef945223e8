// Quantized block formats, byte-exact with ggml (ggml-common.h).
//
// A row of a quantized tensor is an array of these blocks, back to back, with no padding. Every
// struct here holds only bytes and uint16_t halves (IEEE fp16 bit patterns; see kernels/fp16.h),
// except block_q8_K whose scale is a float, as in ggml. Sizes are asserted: a wrong layout does not
// compile. Multi-byte fields are little-endian in files; slm runs only on little-endian hosts.
//
// Naming follows ggml: QK* are elements per block; in the K-quants a 256-element super-block is
// split into sub-blocks of 16 or 32 elements, each with its own quantized scale (and min).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/types.h"  // QK_K

namespace slm::kernels {

using fp16_t = uint16_t;  // IEEE binary16 bits

inline constexpr int QK4_0 = 32;
inline constexpr int QK4_1 = 32;
inline constexpr int QK5_0 = 32;
inline constexpr int QK5_1 = 32;
inline constexpr int QK8_0 = 32;
inline constexpr int QK8_1 = 32;
inline constexpr int QK4_NL = 32;
inline constexpr int kQK_K = static_cast<int>(QK_K);  // 256
inline constexpr int K_SCALE_SIZE = 12;                // packed 6-bit scales + mins of Q4_K / Q5_K

// x = d * (q - 8), q in [0, 15]. qs[j] holds element j (low nibble) and j + 16 (high nibble).
struct block_q4_0 {
  fp16_t d;
  uint8_t qs[QK4_0 / 2];
};
static_assert(sizeof(block_q4_0) == 2 + QK4_0 / 2, "block_q4_0 size");

// x = d * q + m, q in [0, 15]; same nibble layout as Q4_0.
struct block_q4_1 {
  fp16_t d;
  fp16_t m;
  uint8_t qs[QK4_1 / 2];
};
static_assert(sizeof(block_q4_1) == 4 + QK4_1 / 2, "block_q4_1 size");

// x = d * (q - 16), q in [0, 31]: low 4 bits as Q4_0, bit 4 of element j is bit j of qh (LE u32).
struct block_q5_0 {
  fp16_t d;
  uint8_t qh[4];
  uint8_t qs[QK5_0 / 2];
};
static_assert(sizeof(block_q5_0) == 2 + 4 + QK5_0 / 2, "block_q5_0 size");

// x = d * q + m, q in [0, 31]; bits as Q5_0.
struct block_q5_1 {
  fp16_t d;
  fp16_t m;
  uint8_t qh[4];
  uint8_t qs[QK5_1 / 2];
};
static_assert(sizeof(block_q5_1) == 4 + 4 + QK5_1 / 2, "block_q5_1 size");

// x = d * q, q in [-127, 127].
struct block_q8_0 {
  fp16_t d;
  int8_t qs[QK8_0];
};
static_assert(sizeof(block_q8_0) == 2 + QK8_0, "block_q8_0 size");

// Activation format for Q4_1 / Q5_1: x = d * q, and s = d * sum(q) so the weight's min term costs
// one multiply per block.
struct block_q8_1 {
  fp16_t d;
  fp16_t s;
  int8_t qs[QK8_1];
};
static_assert(sizeof(block_q8_1) == 4 + QK8_1, "block_q8_1 size");

// 16 sub-blocks of 16: x = d * (scales[i] & 15) * q - dmin * (scales[i] >> 4), q in [0, 3].
// qs: 2 bits per element; byte l of each 32-byte group holds elements l, l+32, l+64, l+96 of a
// 128-element half (bits 0-1, 2-3, 4-5, 6-7).
struct block_q2_K {
  uint8_t scales[QK_K / 16];
  uint8_t qs[QK_K / 4];
  fp16_t d;
  fp16_t dmin;
};
static_assert(sizeof(block_q2_K) == 2 * 2 + QK_K / 16 + QK_K / 4, "block_q2_K size");

// 16 sub-blocks of 16: x = d * (scale6[i] - 32) * (q - 4 * !hbit), q low 2 bits in qs (as Q2_K),
// high bit in hmask (bit k of hmask[l] belongs to element 32k + l). 6-bit scales packed in 12 bytes.
struct block_q3_K {
  uint8_t hmask[QK_K / 8];
  uint8_t qs[QK_K / 4];
  uint8_t scales[12];
  fp16_t d;
};
static_assert(sizeof(block_q3_K) == 2 + QK_K / 4 + QK_K / 8 + 12, "block_q3_K size");

// 8 sub-blocks of 32: x = d * sc[i] * q - dmin * m[i], q in [0, 15]; 6-bit sc and m packed in
// scales[12] (see get_scale_min_k4 in scalar/). qs: 32-byte groups, low nibbles are the first 32
// elements of a 64-element chunk, high nibbles the next 32.
struct block_q4_K {
  fp16_t d;
  fp16_t dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q4_K) == 2 * 2 + K_SCALE_SIZE + QK_K / 2, "block_q4_K size");

// As Q4_K with a 5th bit: bit 2c (first 32) / 2c+1 (next 32) of qh[l] for 64-element chunk c.
struct block_q5_K {
  fp16_t d;
  fp16_t dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qh[QK_K / 8];
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q5_K) == 2 * 2 + K_SCALE_SIZE + QK_K / 8 + QK_K / 2, "block_q5_K size");

// 16 sub-blocks of 16: x = d * scales[i] * (q - 32), q in [0, 63]: low 4 bits in ql, high 2 in qh.
struct block_q6_K {
  uint8_t ql[QK_K / 2];
  uint8_t qh[QK_K / 4];
  int8_t scales[QK_K / 16];
  fp16_t d;
};
static_assert(sizeof(block_q6_K) == 2 + QK_K / 16 + 3 * QK_K / 4, "block_q6_K size");

// Activation format of the K-quants: x = d * q; bsums[i] = sum of q over elements 16i .. 16i+15,
// which the weight's min terms need.
struct block_q8_K {
  float d;
  int8_t qs[QK_K];
  int16_t bsums[QK_K / 16];
};
static_assert(sizeof(block_q8_K) == 4 + QK_K + QK_K / 16 * 2, "block_q8_K size");

// Non-linear 4-bit: x = d * kvalues_iq4nl[q], nibble layout as Q4_0.
struct block_iq4_nl {
  fp16_t d;
  uint8_t qs[QK4_NL / 2];
};
static_assert(sizeof(block_iq4_nl) == 2 + QK4_NL / 2, "block_iq4_nl size");

// The 16 levels of IQ4_NL (ggml's kvalues_iq4nl).
inline constexpr int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                             1,    13,   25,  38,  53,  69,  89,  113};

// The layouts are plain bytes: alignment 1 or 2 (4 for Q8_K), so rows of blocks pack tightly.
static_assert(alignof(block_q4_0) <= 2 && alignof(block_q2_K) <= 2 && alignof(block_q8_K) == 4);
static_assert(offsetof(block_q2_K, d) == QK_K / 16 + QK_K / 4, "block_q2_K: d after scales and qs");
static_assert(offsetof(block_q6_K, d) == 3 * QK_K / 4 + QK_K / 16, "block_q6_K: d last");

}  // namespace slm::kernels
