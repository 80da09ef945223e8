// The scalar reference kernels, by type: what every SIMD table is tested against.
//
// Internal to kernels/: users go through kernels/kernels.h (the dispatch table, or the reference
// dequantize_row / quantize_row / vec_dot there). Row functions take n elements, a multiple of the
// type's block size, and untyped pointers so they fit one table slot per type.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/fp16.h"
#include "kernels/kernels.h"

namespace slm::kernels::scalar {

using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
using VecDotFn = float (*)(const void* w, const void* x, int64_t n);

// nullptr when the type has no such kernel.
DequantizeRowFn dequantize_fn(DType t) noexcept;
QuantizeRowFn quantize_fn(DType t) noexcept;
VecDotFn vec_dot_fn(DType wtype) noexcept;  // x in activation_type(wtype)
MatmulFn matmul_fn(DType wtype) noexcept;   // rows x tokens of vec_dot_fn(wtype)

// ---- quantizers (quantize.cpp: plain formats and activations; quantize_k.cpp: K-quants) ---------
void quantize_row_f32(const float* x, void* y, int64_t n);
void quantize_row_f16(const float* x, void* y, int64_t n);
void quantize_row_bf16(const float* x, void* y, int64_t n);
void quantize_row_q4_0(const float* x, void* y, int64_t n);
void quantize_row_q4_1(const float* x, void* y, int64_t n);
void quantize_row_q5_0(const float* x, void* y, int64_t n);
void quantize_row_q5_1(const float* x, void* y, int64_t n);
void quantize_row_q8_0(const float* x, void* y, int64_t n);
void quantize_row_q8_1(const float* x, void* y, int64_t n);
void quantize_row_q2_K(const float* x, void* y, int64_t n);
void quantize_row_q3_K(const float* x, void* y, int64_t n);
void quantize_row_q4_K(const float* x, void* y, int64_t n);
void quantize_row_q5_K(const float* x, void* y, int64_t n);
void quantize_row_q6_K(const float* x, void* y, int64_t n);
void quantize_row_q8_K(const float* x, void* y, int64_t n);

// ---- float ops (float_ops.cpp) ---------------------------------------------------------------------
void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps, float w_offset);
void softmax(float* x, int64_t n);
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
void gelu_tanh_mul(const float* gate, const float* up, float* out, int64_t n);
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dim, const float* cos, const float* sin,
          bool neox);
// One head's rotation for angles [i, half) (half = rope_dim / 2): the reference's arithmetic, and the
// tail of the SIMD versions.
inline void rope_pairs(float* v, int64_t i, int64_t half, const float* cos, const float* sin, bool neox) {
  for (; i < half; ++i) {
    // the pair rotated by angle i: adjacent dims (GPT-J style) or dims half apart (GPT-NeoX style)
    const int64_t i0 = neox ? i : 2 * i;
    const int64_t i1 = neox ? i + half : 2 * i + 1;
    const float x0 = v[i0], x1 = v[i1];
    v[i0] = x0 * cos[i] - x1 * sin[i];
    v[i1] = x0 * sin[i] + x1 * cos[i];
  }
}
float dot_f16_f32(const uint16_t* a, const float* b, int64_t n);
void axpy_f16_f32(float alpha, const uint16_t* x, float* y, int64_t n);
void exp_f32(const float* x, float* y, int64_t n);
void softmax_factors(const float* score, int64_t n, float scale, float m, float* m_out, float* ms, float* vs);
void mad_f16(uint16_t* acc, const uint16_t* v, float s, int64_t n);
void scale_f16(uint16_t* acc, float s, int64_t n);
void dot_f16_rows(const uint16_t* k, size_t stride, const float* q, int64_t hd, int64_t n, float* out);
void dot_f16_rows_multi(const uint16_t* k, size_t stride, const float* const* q, int64_t nq, int64_t hd, int64_t n,
                        float* const* out);
void mad_f16_rows(uint16_t* acc, const uint16_t* v, size_t stride, const float* ms, const float* vs, int64_t n,
                  int64_t hd);
void mad_f16_rows_multi(uint16_t* const* acc, const float* const* ms, const float* const* vs, int64_t nq,
                        const uint16_t* v, size_t stride, int64_t n, int64_t hd);
void axpy_f16_rows_multi(float* const* acc, const float* const* p, int64_t nq, const uint16_t* v,
                         size_t stride, int64_t n, int64_t hd);
void f32_to_f16_row(const float* x, uint16_t* y, int64_t n);
void f16_to_f32_row(const uint16_t* x, float* y, int64_t n);
// The token-panel packer (kernels.h), for Q8_0, Q8_1 and Q8_K activations.
void pack_panel(DType act, const uint8_t* x, size_t x_row_bytes, int64_t cols, int64_t n_tokens, int64_t panel,
                uint8_t* out);

// ---- helpers shared by the reference sources ---------------------------------------------------------

// ggml's nearest_int: round half to even through the float adder (|fval| <= 2^22). Kept bit for bit
// because quantizers must reproduce ggml's bytes, ties included.
inline int nearest_int(float fval) noexcept {
  const float val = fval + 12582912.f;  // 1.5 * 2^23: the integer lands in the low mantissa bits
  int i;
  std::memcpy(&i, &val, sizeof(int));
  return (i & 0x007fffff) - 0x00400000;
}

// The j-th (0..7) 6-bit scale and min of a Q4_K / Q5_K super-block, from its 12 packed bytes:
// sub-blocks 0-3 keep theirs in the low 6 bits of bytes j and j+4; 4-7 split them into a nibble of
// byte j+4 and the top 2 bits of bytes j-4 (scale) and j (min).
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) noexcept {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

// All 8 scales and 8 mins of a Q4_K / Q5_K super-block at once, ggml's word-level unpacking of the
// 12 packed bytes: the scales (get_scale_min_k4's d, j = 0..7) in bytes 0-7 of words, the mins in
// bytes 8-15. The SIMD kernels widen these 16 bytes with vector instructions.
inline void k4_scale_words(const uint8_t* packed, uint32_t (&words)[4]) noexcept {
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  std::memcpy(words, packed, 12);
  words[3] = ((words[2] >> 4) & kLow4) | (((words[1] >> 6) & kLow2) << 4);
  const uint32_t mins_low = words[1] & kLow6;
  words[1] = (words[2] & kLow4) | (((words[0] >> 6) & kLow2) << 4);
  words[2] = mins_low;
  words[0] &= kLow6;
}

// A Q4_K / Q5_K super-block's 8 sub-block scales d * sc and mins dmin * m, as floats (the
// unpacking of the NEON token-panel kernels; x86 widens k4_scale_words in vectors, same bits).
template <class KBlock>
inline void k4_scales_mins(const KBlock& b, float* scale, float* min) noexcept {
  const float d = fp16_to_f32(b.d), dmin = fp16_to_f32(b.dmin);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    get_scale_min_k4(j, b.scales, &sc, &m);
    scale[j] = d * sc;
    min[j] = dmin * m;
  }
}

// The 16 signed 6-bit scales of a Q3_K super-block (-32 .. 31), unpacked from its 12 bytes: low
// nibbles in bytes 0-7 (sub-blocks 0-7 low, 8-15 high nibble), top 2 bits in bytes 8-11.
inline void unpack_q3_K_scales(const uint8_t* packed, int8_t* scales) noexcept {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (packed[j] & 0xF) : (packed[j - 8] >> 4);
    const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    scales[j] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
}

}  // namespace slm::kernels::scalar
