// Q5_0 weights . Q8_0 activations: as Q4_0 (low nibbles elements 0-15, high nibbles 16-31) with the
// 5th bit of element j taken from bit j of the block's 32-bit qh, spread to lanes with a bit test;
// levels minus 16 are int8, two SDOTs give the exact block sum, float across blocks.
#include "kernels/arm/neon_kernels.h"
#include "kernels/blocks.h"

namespace slm::kernels::neon {
namespace {

float vec_dot_q5_0_q8_0(const void* vw, const void* vx, int64_t n) {
  const auto* w = static_cast<const block_q5_0*>(vw);
  const auto* x = static_cast<const block_q8_0*>(vx);
  const int8x16_t sixteen = vdupq_n_s8(16);
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t ib = 0; ib < n / QK8_0; ++ib) {
    uint32_t qh;
    std::memcpy(&qh, w[ib].qh, sizeof(qh));
    const uint8x16_t packed = vld1q_u8(w[ib].qs);
    const uint8x16_t lo = vorrq_u8(vandq_u8(packed, vdupq_n_u8(0x0F)), bits_to_lanes(static_cast<uint16_t>(qh), 0x10));
    const uint8x16_t hi = vorrq_u8(vshrq_n_u8(packed, 4), bits_to_lanes(static_cast<uint16_t>(qh >> 16), 0x10));
    int32x4_t s = vdotq_s32(vdupq_n_s32(0), vsubq_s8(vreinterpretq_s8_u8(lo), sixteen), vld1q_s8(x[ib].qs));
    s = vdotq_s32(s, vsubq_s8(vreinterpretq_s8_u8(hi), sixteen), vld1q_s8(x[ib].qs + 16));
    acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), half_to_float(w[ib].d) * half_to_float(x[ib].d));
  }
  return vaddvq_f32(acc);
}

}  // namespace

void matmul_q5_0(const MatmulArgs& args, int64_t row_begin, int64_t row_end) {
  matmul_rows<vec_dot_q5_0_q8_0>(args, row_begin, row_end);
}

}  // namespace slm::kernels::neon
