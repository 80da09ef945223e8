// Matmul with F32, F16 and BF16 weights (activations in the same format, as ggml pairs them): each
// element widened to float (FCVTL for fp16, a 16-bit shift for bf16), products accumulated with FMA in
// four 4-lane float accumulators. The scalar reference sums in double; the equivalence test bounds
// the difference by the reassociation error of `cols` terms.
#include <bit>

#include "kernels/arm/neon_kernels.h"

namespace slm::kernels::neon {
namespace {

// Widening loads: 4 elements of each format as float32x4.
struct F32Load {
  using Elem = float;
  static float32x4_t load4(const float* p) { return vld1q_f32(p); }
  static float one(const float* p) {
    float v;
    std::memcpy(&v, p, sizeof(v));  // rows may be padded to any byte count: no aligned access
    return v;
  }
};
struct F16Load {
  using Elem = uint16_t;
  static float32x4_t load4(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static float one(const uint16_t* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof(h));
    return half_to_float(h);
  }
};
struct BF16Load {
  using Elem = uint16_t;
  static float32x4_t load4(const uint16_t* p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
  static float one(const uint16_t* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof(h));
    return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
  }
};

template <class L>
float vec_dot_float(const void* vw, const void* vx, int64_t n) {
  const auto* w = static_cast<const typename L::Elem*>(vw);
  const auto* x = static_cast<const typename L::Elem*>(vx);
  float32x4_t acc[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int k = 0; k < 4; ++k) acc[k] = vfmaq_f32(acc[k], L::load4(w + i + 4 * k), L::load4(x + i + 4 * k));
  for (; i + 4 <= n; i += 4) acc[0] = vfmaq_f32(acc[0], L::load4(w + i), L::load4(x + i));
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
  for (; i < n; ++i) sum += L::one(w + i) * L::one(x + i);
  return sum;
}

}  // namespace

void matmul_f32(const MatmulArgs& args, int64_t row_begin, int64_t row_end) {
  matmul_rows<vec_dot_float<F32Load>>(args, row_begin, row_end);
}
void matmul_f16(const MatmulArgs& args, int64_t row_begin, int64_t row_end) {
  matmul_rows<vec_dot_float<F16Load>>(args, row_begin, row_end);
}
void matmul_bf16(const MatmulArgs& args, int64_t row_begin, int64_t row_end) {
  matmul_rows<vec_dot_float<BF16Load>>(args, row_begin, row_end);
}

}  // namespace slm::kernels::neon
