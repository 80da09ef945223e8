// Q6_K weights . Q8_K activations. A 256-element super-block is two halves of 128; in each, 64 bytes of
// ql hold the low 4 bits (low nibbles: elements 0-63, high nibbles: 64-127) and 32 bytes of qh the top 2
// bits (bit pairs 0-1, 2-3, 4-5, 6-7 for elements l, l+32, l+64, l+96). Each group of 16 rebuilt
// levels (minus 32, so int8) is one SDOT against 16 activations, weighted by its sub-block's int8
// scale. Integer sums per super-block, float across them.
#include "kernels/arm/neon_kernels.h"
#include "kernels/blocks.h"

namespace slm::kernels::neon {
namespace {

// The exact int32 sum of 16 levels times 16 activations.
inline int32_t dot16(int8x16_t levels, const int8_t* q8) {
  return vaddvq_s32(vdotq_s32(vdupq_n_s32(0), levels, vld1q_s8(q8)));
}

// (low4 | top2 << 4) - 32: one register of 16 signed 6-bit levels.
inline int8x16_t levels(uint8x16_t low4, uint8x16_t top2) {
  return vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(low4, vshlq_n_u8(top2, 4))), vdupq_n_s8(32));
}

float vec_dot_q6_K_q8_K(const void* vw, const void* vx, int64_t n) {
  const auto* w = static_cast<const block_q6_K*>(vw);
  const auto* x = static_cast<const block_q8_K*>(vx);
  const uint8x16_t m4 = vdupq_n_u8(0x0F), m2 = vdupq_n_u8(0x03);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* ql = w[i].ql;
    const uint8_t* qh = w[i].qh;
    const int8_t* sc = w[i].scales;
    const int8_t* q8 = x[i].qs;
    int32_t sumi = 0;  // |sumi| <= 256 * 32 * 127 * 128: fits int32
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, q8 += 128, sc += 8) {
      const uint8x16_t h0 = vld1q_u8(qh), h1 = vld1q_u8(qh + 16);
      const uint8x16_t l0 = vld1q_u8(ql), l1 = vld1q_u8(ql + 16), l2 = vld1q_u8(ql + 32), l3 = vld1q_u8(ql + 48);
      // element e of this half lies in sub-block e / 16, scale sc[e / 16]
      const int8x16_t v0 = levels(vandq_u8(l0, m4), vandq_u8(h0, m2));                  // 0-15
      const int8x16_t v1 = levels(vandq_u8(l1, m4), vandq_u8(h1, m2));                  // 16-31
      const int8x16_t v2 = levels(vandq_u8(l2, m4), vandq_u8(vshrq_n_u8(h0, 2), m2));   // 32-47
      const int8x16_t v3 = levels(vandq_u8(l3, m4), vandq_u8(vshrq_n_u8(h1, 2), m2));   // 48-63
      const int8x16_t v4 = levels(vshrq_n_u8(l0, 4), vandq_u8(vshrq_n_u8(h0, 4), m2));  // 64-79
      const int8x16_t v5 = levels(vshrq_n_u8(l1, 4), vandq_u8(vshrq_n_u8(h1, 4), m2));  // 80-95
      const int8x16_t v6 = levels(vshrq_n_u8(l2, 4), vshrq_n_u8(h0, 6));                // 96-111
      const int8x16_t v7 = levels(vshrq_n_u8(l3, 4), vshrq_n_u8(h1, 6));                // 112-127
      sumi += dot16(v0, q8) * sc[0] + dot16(v1, q8 + 16) * sc[1] + dot16(v2, q8 + 32) * sc[2] +
              dot16(v3, q8 + 48) * sc[3] + dot16(v4, q8 + 64) * sc[4] + dot16(v5, q8 + 80) * sc[5] +
              dot16(v6, q8 + 96) * sc[6] + dot16(v7, q8 + 112) * sc[7];
    }
    sumf += half_to_float(w[i].d) * x[i].d * static_cast<float>(sumi);
  }
  return sumf;
}

}  // namespace

void matmul_q6_K(const MatmulArgs& args, int64_t row_begin, int64_t row_end) {
  matmul_rows<vec_dot_q6_K_q8_K>(args, row_begin, row_end);
}

}  // namespace slm::kernels::neon
