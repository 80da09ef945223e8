// Q5_K weights . Q8_K activations: Q4_K's super-block (8 sub-blocks of 32, 6-bit scales and mins,
// mins' share from the activation's bsums) with a 5th bit per element: for 64-element chunk c, bit 2c
// of qh[l] belongs to element l (low nibble), bit 2c+1 to element 32 + l (high nibble). Levels 0-31
// as int8 into SDOT; integer sums per super-block, float across them.
#include "kernels/arm/neon_kernels.h"
#include "kernels/blocks.h"
#include "kernels/scalar/scalar.h"  // get_scale_min_k4

namespace slm::kernels::neon {
namespace {

float vec_dot_q5_K_q8_K(const void* vw, const void* vx, int64_t n) {
  const auto* w = static_cast<const block_q5_K*>(vw);
  const auto* x = static_cast<const block_q8_K*>(vx);
  const uint8x16_t low4 = vdupq_n_u8(0x0F), bit4 = vdupq_n_u8(0x10);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint8_t scales[8], mins[8];
    for (int j = 0; j < 8; ++j) scalar::get_scale_min_k4(j, w[i].scales, &scales[j], &mins[j]);

    const int16x8_t q8sums = vpaddq_s16(vld1q_s16(x[i].bsums), vld1q_s16(x[i].bsums + 8));
    const int16x8_t mins16 = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mins)));
    const int32x4_t min_prod = vaddq_s32(vmull_s16(vget_low_s16(q8sums), vget_low_s16(mins16)),
                                         vmull_s16(vget_high_s16(q8sums), vget_high_s16(mins16)));
    const int32_t summins = vaddvq_s32(min_prod);

    const uint8x16_t qh0 = vld1q_u8(w[i].qh), qh1 = vld1q_u8(w[i].qh + 16);
    const uint8_t* q4 = w[i].qs;
    const int8_t* q8 = x[i].qs;
    int32_t sumi = 0;  // |sumi| <= 256 * 31 * 127 * 63: fits int32
    for (int c = 0; c < kQK_K / 64; ++c, q4 += 32, q8 += 64) {
      const uint8x16_t m_lo = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * c)));
      const uint8x16_t m_hi = vdupq_n_u8(static_cast<uint8_t>(1u << (2 * c + 1)));
      const uint8x16_t b0 = vld1q_u8(q4), b1 = vld1q_u8(q4 + 16);
      const int8x16_t lo0 = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(b0, low4), vandq_u8(vtstq_u8(qh0, m_lo), bit4)));
      const int8x16_t lo1 = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(b1, low4), vandq_u8(vtstq_u8(qh1, m_lo), bit4)));
      const int8x16_t hi0 = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(b0, 4), vandq_u8(vtstq_u8(qh0, m_hi), bit4)));
      const int8x16_t hi1 = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(b1, 4), vandq_u8(vtstq_u8(qh1, m_hi), bit4)));
      int32x4_t p_lo = vdotq_s32(vdupq_n_s32(0), lo0, vld1q_s8(q8));
      p_lo = vdotq_s32(p_lo, lo1, vld1q_s8(q8 + 16));
      int32x4_t p_hi = vdotq_s32(vdupq_n_s32(0), hi0, vld1q_s8(q8 + 32));
      p_hi = vdotq_s32(p_hi, hi1, vld1q_s8(q8 + 48));
      sumi += vaddvq_s32(p_lo) * scales[2 * c] + vaddvq_s32(p_hi) * scales[2 * c + 1];
    }
    const float d = half_to_float(w[i].d) * x[i].d;
    const float dmin = half_to_float(w[i].dmin) * x[i].d;
    sumf += d * static_cast<float>(sumi) - dmin * static_cast<float>(summins);
  }
  return sumf;
}

}  // namespace

void matmul_q5_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end) {
  matmul_rows<vec_dot_q5_K_q8_K>(args, row_begin, row_end);
}

}  // namespace slm::kernels::neon
