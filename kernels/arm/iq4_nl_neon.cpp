// IQ4_NL weights . Q8_0 activations: each nibble (layout as Q4_0) indexes the 16 non-linear int8
// levels with one table lookup (TBL), then two SDOTs give the exact block sum, float across blocks.
#include "kernels/arm/neon_kernels.h"
#include "kernels/blocks.h"

namespace slm::kernels::neon {
namespace {

float vec_dot_iq4_nl_q8_0(const void* vw, const void* vx, int64_t n) {
  const auto* w = static_cast<const block_iq4_nl*>(vw);
  const auto* x = static_cast<const block_q8_0*>(vx);
  const int8x16_t values = vld1q_s8(kvalues_iq4nl);
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t ib = 0; ib < n / QK4_NL; ++ib) {
    const uint8x16_t packed = vld1q_u8(w[ib].qs);
    const int8x16_t lo = vqtbl1q_s8(values, vandq_u8(packed, vdupq_n_u8(0x0F)));
    const int8x16_t hi = vqtbl1q_s8(values, vshrq_n_u8(packed, 4));
    int32x4_t s = vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(x[ib].qs));
    s = vdotq_s32(s, hi, vld1q_s8(x[ib].qs + 16));
    acc = vmlaq_n_f32(acc, vcvtq_f32_s32(s), half_to_float(x[ib].d) * half_to_float(w[ib].d));
  }
  return vaddvq_f32(acc);
}

}  // namespace

void matmul_iq4_nl(const MatmulArgs& args, int64_t row_begin, int64_t row_end) {
  matmul_rows<vec_dot_iq4_nl_q8_0>(args, row_begin, row_end);
}

}  // namespace slm::kernels::neon
