// The reference entry points of kernels.h: type pairing, capability queries, and the type-dispatched
// scalar dequantize_row / quantize_row / vec_dot used by loaders, the quantizer and tests.
#include <cassert>
#include <limits>

#include "kernels/kernels.h"
#include "kernels/scalar/scalar.h"

namespace slm::kernels {

DType activation_type(DType weight) noexcept {
  switch (weight) {
    case DType::Q4_0:
    case DType::Q4_0_R4:
    case DType::Q5_0:
    case DType::Q8_0:
    case DType::IQ4_NL: return DType::Q8_0;
    case DType::Q4_1:
    case DType::Q5_1: return DType::Q8_1;
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: return DType::Q8_K;
    default: return weight;  // F32, F16, BF16 pair with themselves
  }
}

bool can_dequantize(DType t) noexcept { return scalar::dequantize_fn(t) != nullptr; }
bool can_quantize(DType t) noexcept { return scalar::quantize_fn(t) != nullptr; }
bool has_matmul(DType wtype) noexcept { return scalar::vec_dot_fn(wtype) != nullptr; }

bool dequantize_row(DType t, const void* src, float* dst, int64_t n) noexcept {
  const auto fn = scalar::dequantize_fn(t);
  if (!fn) return false;
  assert(n % block_size(t) == 0);
  fn(src, dst, n);
  return true;
}

bool quantize_row(DType t, const float* src, void* dst, int64_t n) noexcept {
  const auto fn = scalar::quantize_fn(t);
  if (!fn) return false;
  assert(n % block_size(t) == 0);
  fn(src, dst, n);
  return true;
}

float vec_dot(DType wtype, const void* w, const void* x, int64_t n) noexcept {
  const auto fn = scalar::vec_dot_fn(wtype);
  if (!fn) return std::numeric_limits<float>::quiet_NaN();
  assert(n % block_size(wtype) == 0);
  return fn(w, x, n);
}

}  // namespace slm::kernels
