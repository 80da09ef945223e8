// Q4_0 weights . Q8_0 activations: the 16 bytes of a block unpack to 32 signed levels (low nibbles
// are elements 0-15, high nibbles 16-31, each minus 8) in two NEON registers; two SDOTs against the
// activation block give the exact int32 block sum, scaled by d_w * d_x and accumulated in float.
#include "kernels/arm/neon_kernels.h"
#include "kernels/blocks.h"

namespace slm::kernels::neon {
namespace {

// The exact int32 sum (in 4 lanes) of one Q4_0 block times one Q8_0 block.
inline int32x4_t block_dot(const block_q4_0& w, const block_q8_0& x) {
  const uint8x16_t packed = vld1q_u8(w.qs);
  const int8x16_t eight = vdupq_n_s8(8);
  const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(packed, vdupq_n_u8(0x0F))), eight);
  const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(packed, 4)), eight);
  const int32x4_t s = vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(x.qs));
  return vdotq_s32(s, hi, vld1q_s8(x.qs + 16));
}

float vec_dot_q4_0_q8_0(const void* vw, const void* vx, int64_t n) {
  const auto* w = static_cast<const block_q4_0*>(vw);
  const auto* x = static_cast<const block_q8_0*>(vx);
  const int64_t nb = n / QK8_0;
  float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
  int64_t ib = 0;
  for (; ib + 1 < nb; ib += 2) {
    const int32x4_t s0 = block_dot(w[ib], x[ib]);
    const int32x4_t s1 = block_dot(w[ib + 1], x[ib + 1]);
    acc0 = vmlaq_n_f32(acc0, vcvtq_f32_s32(s0), half_to_float(w[ib].d) * half_to_float(x[ib].d));
    acc1 = vmlaq_n_f32(acc1, vcvtq_f32_s32(s1), half_to_float(w[ib + 1].d) * half_to_float(x[ib + 1].d));
  }
  for (; ib < nb; ++ib)
    acc0 = vmlaq_n_f32(acc0, vcvtq_f32_s32(block_dot(w[ib], x[ib])), half_to_float(w[ib].d) * half_to_float(x[ib].d));
  return vaddvq_f32(vaddq_f32(acc0, acc1));
}

}  // namespace

void matmul_q4_0(const MatmulArgs& args, int64_t row_begin, int64_t row_end) {
  matmul_rows<vec_dot_q4_0_q8_0>(args, row_begin, row_end);
}

}  // namespace slm::kernels::neon
