// Activation quantizers Q8_0, Q8_1 and Q8_K, byte-identical with the scalar reference: the rounding
// instructions match its rounding (FCVTAS = std::round, half away from zero, for Q8_0 and Q8_1; FCVTNS =
// ggml's nearest_int, half to even, for Q8_K), scales are computed by the same float operations, and
// the conversion of d to fp16 rounds to nearest even like f32_to_fp16.
#include <cmath>

#include "kernels/arm/neon_kernels.h"
#include "kernels/blocks.h"

namespace slm::kernels::neon {
namespace {

// Four int32x4 (16 values, already in int8 range) narrowed to one int8x16.
inline int8x16_t narrow16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
  const int16x8_t ab = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b));
  const int16x8_t cd = vcombine_s16(vqmovn_s32(c), vqmovn_s32(d));
  return vcombine_s8(vqmovn_s16(ab), vqmovn_s16(cd));
}

}  // namespace

void quantize_act_q8_0(const float* x, void* out, int64_t n) {
  auto* y = static_cast<block_q8_0*>(out);
  for (int64_t ib = 0; ib < n / QK8_0; ++ib, x += QK8_0) {
    float32x4_t v[8];
    for (int j = 0; j < 8; ++j) v[j] = vld1q_f32(x + 4 * j);
    float32x4_t amax4 = vabsq_f32(v[0]);
    for (int j = 1; j < 8; ++j) amax4 = vmaxq_f32(amax4, vabsq_f32(v[j]));
    const float amax = vmaxvq_f32(amax4);
    const float d = amax / ((1 << 7) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[ib].d = float_to_half(d);
    int32x4_t q[8];
    for (int j = 0; j < 8; ++j) q[j] = vcvtaq_s32_f32(vmulq_n_f32(v[j], id));
    vst1q_s8(y[ib].qs, narrow16(q[0], q[1], q[2], q[3]));
    vst1q_s8(y[ib].qs + 16, narrow16(q[4], q[5], q[6], q[7]));
  }
}

void quantize_act_q8_1(const float* x, void* out, int64_t n) {
  auto* y = static_cast<block_q8_1*>(out);
  for (int64_t ib = 0; ib < n / QK8_1; ++ib, x += QK8_1) {
    float32x4_t v[8];
    for (int j = 0; j < 8; ++j) v[j] = vld1q_f32(x + 4 * j);
    float32x4_t amax4 = vabsq_f32(v[0]);
    for (int j = 1; j < 8; ++j) amax4 = vmaxq_f32(amax4, vabsq_f32(v[j]));
    const float amax = vmaxvq_f32(amax4);
    const float d = amax / ((1 << 7) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[ib].d = float_to_half(d);
    int32x4_t q[8];
    for (int j = 0; j < 8; ++j) q[j] = vcvtaq_s32_f32(vmulq_n_f32(v[j], id));
    const int8x16_t q0 = narrow16(q[0], q[1], q[2], q[3]), q1 = narrow16(q[4], q[5], q[6], q[7]);
    vst1q_s8(y[ib].qs, q0);
    vst1q_s8(y[ib].qs + 16, q1);
    const int sum = vaddlvq_s8(q0) + vaddlvq_s8(q1);  // exact: |sum| <= 32 * 127
    y[ib].s = float_to_half(static_cast<float>(sum) * d);
  }
}

void quantize_act_q8_K(const float* x, void* out, int64_t n) {
  auto* y = static_cast<block_q8_K*>(out);
  for (int64_t ib = 0; ib < n / kQK_K; ++ib, x += kQK_K) {
    float32x4_t amax4 = vdupq_n_f32(0.0f);
    for (int j = 0; j < kQK_K; j += 4) amax4 = vmaxq_f32(amax4, vabsq_f32(vld1q_f32(x + j)));
    const float amax = vmaxvq_f32(amax4);
    if (amax == 0.0f) {
      std::memset(&y[ib], 0, sizeof(y[ib]));
      continue;
    }
    // the scale comes from the signed value of the first element of largest magnitude, as in ggml:
    // that element quantizes to exactly -127
    float max = amax;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) == amax) {
        max = x[j];
        break;
      }
    }
    const float iscale = -127.f / max;
    const int32x4_t top = vdupq_n_s32(127);
    for (int j = 0; j < kQK_K; j += 16) {
      int32x4_t q[4];
      for (int k = 0; k < 4; ++k) q[k] = vminq_s32(top, vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + j + 4 * k), iscale)));
      const int8x16_t q8 = narrow16(q[0], q[1], q[2], q[3]);
      vst1q_s8(y[ib].qs + j, q8);
      // sum of 16 int8 in int16: |sum| <= 16 * 128
      y[ib].bsums[j / 16] = static_cast<int16_t>(vaddlvq_s8(q8));
    }
    y[ib].d = 1 / iscale;
  }
}

}  // namespace slm::kernels::neon
