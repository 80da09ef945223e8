// The NEON level's kernels (ARMv8.2-A + dotprod + fp16), declared for table_neon.cpp to collect.
//
// Included only by kernels/arm/*_neon.cpp, which cmake/SlmOptions.cmake compiles with
// -march=armv8.2-a+dotprod+fp16 on aarch64 builds only; dispatch.cpp runs them only where hwcaps
// report ASIMD, ASIMDDP and ASIMDHP.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"

namespace slm::kernels::neon {

// ---- matmul by weight type (one file each: q8_0_neon.cpp, q4_0_neon.cpp, ...) -------------------
void matmul_q8_0(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_q4_0(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_q4_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_q6_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_q5_0(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_q5_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_iq4_nl(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_q4_1(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_q5_1(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_q2_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_q3_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
// float weights (float_matmul_neon.cpp)
void matmul_f32(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_f16(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_bf16(const MatmulArgs& args, int64_t row_begin, int64_t row_end);

// ---- token-panel products and their packer (panel_neon.cpp; kernels.h, "token panels") ------------
void matmul_panels_q4_0(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_panels_q4_1(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_panels_q5_0(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_panels_q5_1(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_panels_q8_0(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_panels_iq4_nl(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_panels_q2_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_panels_q3_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_panels_q4_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_panels_q5_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void matmul_panels_q6_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
void pack_panel(DType act, const uint8_t* x, size_t x_row_bytes, int64_t cols, int64_t n_tokens,
                int64_t panel, uint8_t* out);

// ---- activation quantizers (quantize_act_neon.cpp) -------------------------------------------------
void quantize_act_q8_0(const float* x, void* out, int64_t n);
void quantize_act_q8_1(const float* x, void* out, int64_t n);
void quantize_act_q8_K(const float* x, void* out, int64_t n);

// ---- float ops (float_ops_neon.cpp) and the F16 KV-cache helpers (f16_neon.cpp) -----------------------
void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps, float w_offset);
void softmax(float* x, int64_t n);
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
void gelu_tanh_mul(const float* gate, const float* up, float* out, int64_t n);
// rope_neon.cpp
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dim, const float* cos, const float* sin,
          bool neox);
float dot_f16_f32(const uint16_t* a, const float* b, int64_t n);
void dot_f16_rows(const uint16_t* k, size_t stride, const float* q, int64_t hd, int64_t n, float* out);
void dot_f16_rows_multi(const uint16_t* k, size_t stride, const float* const* q, int64_t nq, int64_t hd, int64_t n,
                        float* const* out);
void axpy_f16_f32(float alpha, const uint16_t* x, float* y, int64_t n);
void axpy_f16_rows_multi(float* const* acc, const float* const* p, int64_t nq, const uint16_t* v,
                         size_t stride, int64_t n, int64_t hd);
void f32_to_f16_row(const float* x, uint16_t* y, int64_t n);
void f16_to_f32_row(const uint16_t* x, float* y, int64_t n);

// ---- helpers ----------------------------------------------------------------------------------------

// fp16 bits <-> float through the FCVT instruction (exact one way, round-to-nearest-even the other,
// as kernels/fp16.h's portable versions).
inline float half_to_float(uint16_t h) noexcept {
  __fp16 v;
  std::memcpy(&v, &h, sizeof(v));
  return static_cast<float>(v);
}
inline uint16_t float_to_half(float f) noexcept {
  const __fp16 v = static_cast<__fp16>(f);
  uint16_t h;
  std::memcpy(&h, &v, sizeof(h));
  return h;
}

// 16 lanes from 16 bits (lane j from bit j of `bits`, little-endian): `value` where the bit is set,
// 0 elsewhere. Spreads the 5th bits of Q5_0 / Q5_1 blocks over their levels.
inline uint8x16_t bits_to_lanes(uint16_t bits, uint8_t value) noexcept {
  static constexpr uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t spread = vcombine_u8(vdup_n_u8(static_cast<uint8_t>(bits)), vdup_n_u8(static_cast<uint8_t>(bits >> 8)));
  return vandq_u8(vtstq_u8(spread, vld1q_u8(kBit)), vdupq_n_u8(value));
}

// The matmul every quantized type shares: rows outside, tokens inside, so one weight row (a few KiB)
// stays in L1 while every token's activation row streams past it. `dot` is the type's vec_dot.
template <float (*dot)(const void* w, const void* x, int64_t n)>
void matmul_rows(const MatmulArgs& a, int64_t row_begin, int64_t row_end) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* w_row = a.w + static_cast<size_t>(r) * a.w_row_bytes;
    for (int64_t t = 0; t < a.n_tokens; ++t)
      a.y[t * a.ldy + r] = dot(w_row, a.x + static_cast<size_t>(t) * a.x_row_bytes, a.cols);
  }
}

}  // namespace slm::kernels::neon
