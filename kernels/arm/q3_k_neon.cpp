// Q3_K weights . Q8_K activations. Levels as Q2_K's 2-bit ones (bit pair j of qs[32n + l] for element
// 128n + 32j + l), minus 4 where bit 4n + j of hmask[l] is clear: -4..3, signed. Each group of 16 is
// one SDOT against 16 activations, weighted by its sub-block's 6-bit signed scale. Integer sums per
// super-block, float across them (the scalar reference sums in 8 float lanes: the same value up to
// float reassociation).
#include "kernels/arm/neon_kernels.h"
#include "kernels/blocks.h"
#include "kernels/scalar/scalar.h"

namespace slm::kernels::neon {
namespace {

inline int32_t dot16(int8x16_t levels, const int8_t* q8) {
  return vaddvq_s32(vdotq_s32(vdupq_n_s32(0), levels, vld1q_s8(q8)));
}

float vec_dot_q3_K_q8_K(const void* vw, const void* vx, int64_t n) {
  const auto* w = static_cast<const block_q3_K*>(vw);
  const auto* x = static_cast<const block_q8_K*>(vx);
  const uint8x16_t m3 = vdupq_n_u8(0x03), four = vdupq_n_u8(4);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t sc[16];
    scalar::unpack_q3_K_scales(w[i].scales, sc);
    const uint8x16_t hm0 = vld1q_u8(w[i].hmask), hm1 = vld1q_u8(w[i].hmask + 16);
    const int8_t* q8 = x[i].qs;
    int32_t isum = 0;  // |isum| <= 256 * 4 * 128 * 32: fits int32
    int s = 0;
    for (int half = 0; half < 2; ++half) {
      const uint8x16_t q0 = vld1q_u8(w[i].qs + 32 * half), q1 = vld1q_u8(w[i].qs + 32 * half + 16);
      for (int j = 0; j < 4; ++j, q8 += 32, s += 2) {
        const int8x16_t shift = vdupq_n_s8(static_cast<int8_t>(-2 * j));
        const uint8x16_t bit = vdupq_n_u8(static_cast<uint8_t>(1 << (4 * half + j)));
        // level - 4 where the high bit is clear: (low | 4 * bit) - 4
        auto levels = [&](uint8x16_t q, uint8x16_t hm) {
          const uint8x16_t l = vorrq_u8(vandq_u8(vshlq_u8(q, shift), m3), vandq_u8(vtstq_u8(hm, bit), four));
          return vsubq_s8(vreinterpretq_s8_u8(l), vreinterpretq_s8_u8(four));
        };
        const int8x16_t l0 = levels(q0, hm0), l1 = levels(q1, hm1);
        isum += sc[s] * dot16(l0, q8) + sc[s + 1] * dot16(l1, q8 + 16);
      }
    }
    sumf += half_to_float(w[i].d) * x[i].d * static_cast<float>(isum);
  }
  return sumf;
}

}  // namespace

void matmul_q3_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end) {
  matmul_rows<vec_dot_q3_K_q8_K>(args, row_begin, row_end);
}

}  // namespace slm::kernels::neon
