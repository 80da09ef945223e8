// Q4_1 weights . Q8_1 activations: unsigned levels 0-15 (low nibbles elements 0-15, high nibbles
// 16-31) against the int8 activations with SDOT (levels < 128 are valid int8); the weight's min
// costs one multiply per block with the activation's precomputed s = d_x * sum(q_x).
#include "kernels/arm/neon_kernels.h"
#include "kernels/blocks.h"

namespace slm::kernels::neon {
namespace {

float vec_dot_q4_1_q8_1(const void* vw, const void* vx, int64_t n) {
  const auto* w = static_cast<const block_q4_1*>(vw);
  const auto* x = static_cast<const block_q8_1*>(vx);
  float32x4_t acc = vdupq_n_f32(0.0f);
  float summs = 0.0f;
  for (int64_t ib = 0; ib < n / QK8_1; ++ib) {
    const uint8x16_t packed = vld1q_u8(w[ib].qs);
    const int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(packed, vdupq_n_u8(0x0F)));
    const int8x16_t hi = vreinterpretq_s8_u8(vshrq_n_u8(packed, 4));
    int32x4_t s = vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(x[ib].qs));
    s = vdotq_s32(s, hi, vld1q_s8(x[ib].qs + 16));
    acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), half_to_float(w[ib].d) * half_to_float(x[ib].d));
    summs += half_to_float(w[ib].m) * half_to_float(x[ib].s);
  }
  return vaddvq_f32(acc) + summs;
}

}  // namespace

void matmul_q4_1(const MatmulArgs& args, int64_t row_begin, int64_t row_end) {
  matmul_rows<vec_dot_q4_1_q8_1>(args, row_begin, row_end);
}

}  // namespace slm::kernels::neon
