// Q8_0 weights . Q8_0 activations: per 32-element block, two SDOT instructions (vdotq_s32) give the
// exact int32 sum of the 32 int8 products in 4 lanes; the lanes are scaled by d_w * d_x and
// accumulated in float across blocks, as ggml does (integer inside a block, float across blocks).
#include "kernels/arm/neon_kernels.h"
#include "kernels/blocks.h"

namespace slm::kernels::neon {
namespace {

float vec_dot_q8_0_q8_0(const void* vw, const void* vx, int64_t n) {
  const auto* w = static_cast<const block_q8_0*>(vw);
  const auto* x = static_cast<const block_q8_0*>(vx);
  const int64_t nb = n / QK8_0;
  // two independent accumulators so consecutive blocks do not wait on each other's add
  float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
  int64_t ib = 0;
  for (; ib + 1 < nb; ib += 2) {
    const block_q8_0& w0 = w[ib];
    const block_q8_0& w1 = w[ib + 1];
    const block_q8_0& x0 = x[ib];
    const block_q8_0& x1 = x[ib + 1];
    int32x4_t s0 = vdotq_s32(vdupq_n_s32(0), vld1q_s8(w0.qs), vld1q_s8(x0.qs));
    s0 = vdotq_s32(s0, vld1q_s8(w0.qs + 16), vld1q_s8(x0.qs + 16));
    int32x4_t s1 = vdotq_s32(vdupq_n_s32(0), vld1q_s8(w1.qs), vld1q_s8(x1.qs));
    s1 = vdotq_s32(s1, vld1q_s8(w1.qs + 16), vld1q_s8(x1.qs + 16));
    acc0 = vmlaq_n_f32(acc0, vcvtq_f32_s32(s0), half_to_float(w0.d) * half_to_float(x0.d));
    acc1 = vmlaq_n_f32(acc1, vcvtq_f32_s32(s1), half_to_float(w1.d) * half_to_float(x1.d));
  }
  for (; ib < nb; ++ib) {
    int32x4_t s = vdotq_s32(vdupq_n_s32(0), vld1q_s8(w[ib].qs), vld1q_s8(x[ib].qs));
    s = vdotq_s32(s, vld1q_s8(w[ib].qs + 16), vld1q_s8(x[ib].qs + 16));
    acc0 = vmlaq_n_f32(acc0, vcvtq_f32_s32(s), half_to_float(w[ib].d) * half_to_float(x[ib].d));
  }
  return vaddvq_f32(vaddq_f32(acc0, acc1));
}

}  // namespace

void matmul_q8_0(const MatmulArgs& args, int64_t row_begin, int64_t row_end) {
  matmul_rows<vec_dot_q8_0_q8_0>(args, row_begin, row_end);
}

}  // namespace slm::kernels::neon
