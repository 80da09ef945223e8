// Rotary embedding in NEON, 4 angles per step. GPT-J style pairs (2i, 2i+1) are de-interleaved with
// LD2 and re-interleaved with ST2; NeoX style pairs (i, i + rope_dim/2) are two plain loads. Each
// output is x0 cos - x1 sin or x0 sin + x1 cos with separately rounded products, as the reference.
#include "kernels/arm/neon_kernels.h"
#include "kernels/scalar/scalar.h"

namespace slm::kernels::neon {
namespace {

inline void rotate4(float32x4_t x0, float32x4_t x1, float32x4_t c, float32x4_t s, float32x4_t& r0,
                    float32x4_t& r1) {
  r0 = vsubq_f32(vmulq_f32(x0, c), vmulq_f32(x1, s));
  r1 = vaddq_f32(vmulq_f32(x0, s), vmulq_f32(x1, c));
}

}  // namespace

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dim, const float* cos, const float* sin,
          bool neox) {
  const int64_t half = rope_dim / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    int64_t i = 0;
    for (; i + 4 <= half; i += 4) {
      const float32x4_t c = vld1q_f32(cos + i), s = vld1q_f32(sin + i);
      if (neox) {
        float32x4_t r0, r1;
        rotate4(vld1q_f32(v + i), vld1q_f32(v + i + half), c, s, r0, r1);
        vst1q_f32(v + i, r0);
        vst1q_f32(v + i + half, r1);
      } else {
        const float32x4x2_t pairs = vld2q_f32(v + 2 * i);
        float32x4x2_t out;
        rotate4(pairs.val[0], pairs.val[1], c, s, out.val[0], out.val[1]);
        vst2q_f32(v + 2 * i, out);
      }
    }
    scalar::rope_pairs(v, i, half, cos, sin, neox);
  }
}

}  // namespace slm::kernels::neon
