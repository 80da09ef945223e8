// Q2_K weights . Q8_K activations. A 256-element super-block is two halves of 128; in each, the 32
// bytes of qs hold four 2-bit levels per byte (bit pair j: elements 32j + l for byte l). Each group of
// 16 levels (0..3) is one SDOT against 16 activations, weighted by its sub-block's 4-bit scale; the
// 4-bit mins meet the activation sums (bsums) in integers. As the scalar reference: d * sum(scale *
// dot) - dmin * sum(min * bsum) per super-block.
#include "kernels/arm/neon_kernels.h"
#include "kernels/blocks.h"

namespace slm::kernels::neon {
namespace {

inline int32_t dot16(uint8x16_t levels, const int8_t* q8) {
  return vaddvq_s32(vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(levels), vld1q_s8(q8)));
}

float vec_dot_q2_K_q8_K(const void* vw, const void* vx, int64_t n) {
  const auto* w = static_cast<const block_q2_K*>(vw);
  const auto* x = static_cast<const block_q8_K*>(vx);
  const uint8x16_t m3 = vdupq_n_u8(0x03);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* sc = w[i].scales;
    int32_t summs = 0;
    for (int j = 0; j < 16; ++j) summs += x[i].bsums[j] * (sc[j] >> 4);
    const int8_t* q8 = x[i].qs;
    int32_t isum = 0;
    for (int half = 0; half < 2; ++half) {
      const uint8x16_t q0 = vld1q_u8(w[i].qs + 32 * half), q1 = vld1q_u8(w[i].qs + 32 * half + 16);
      for (int j = 0; j < 4; ++j, q8 += 32, sc += 2) {
        const int8x16_t shift = vdupq_n_s8(static_cast<int8_t>(-2 * j));  // vshlq by a negative count: right
        isum += (sc[0] & 0xF) * dot16(vandq_u8(vshlq_u8(q0, shift), m3), q8) +
                (sc[1] & 0xF) * dot16(vandq_u8(vshlq_u8(q1, shift), m3), q8 + 16);
      }
    }
    const float dall = x[i].d * half_to_float(w[i].d), dmin = x[i].d * half_to_float(w[i].dmin);
    sumf += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
  }
  return sumf;
}

}  // namespace

void matmul_q2_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end) {
  matmul_rows<vec_dot_q2_K_q8_K>(args, row_begin, row_end);
}

}  // namespace slm::kernels::neon
