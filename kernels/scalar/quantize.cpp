// Scalar quantizers of the plain and 32-element block formats, following ggml's quantize_row_*_ref
// step for step, so files slm writes are byte-identical to llama-quantize's reference output and
// activations match what llama.cpp feeds its dot products. (K-quants: quantize_k.cpp.)
#include <algorithm>
#include <cassert>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/scalar/scalar.h"
#include "kernels/scalar/strict_fp.h"

namespace slm::kernels::scalar {

void quantize_row_f32(const float* x, void* y, int64_t n) {
  std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}

void quantize_row_f16(const float* x, void* y, int64_t n) {
  auto* out = static_cast<uint16_t*>(y);
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_fp16(x[i]);
}

void quantize_row_bf16(const float* x, void* y, int64_t n) {
  auto* out = static_cast<uint16_t*>(y);
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_bf16(x[i]);
}

// The scale maps the element of largest magnitude to -8 exactly (sign included), so the range
// [-8, 7] is used fully on the side where the extreme lies.
void quantize_row_q4_0(const float* x, void* vy, int64_t n) {
  assert(n % QK4_0 == 0);
  auto* y = static_cast<block_q4_0*>(vy);
  for (int64_t i = 0; i < n / QK4_0; ++i, x += QK4_0) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK4_0; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    for (int j = 0; j < QK4_0 / 2; ++j) {
      // truncation toward zero of x/d + 8.5 is ggml's rounding (x/d in [-8, 8])
      const int xi0 = std::min(15, static_cast<int>(x[j] * id + 8.5f));
      const int xi1 = std::min(15, static_cast<int>(x[QK4_0 / 2 + j] * id + 8.5f));
      y[i].qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
  }
}

void quantize_row_q4_1(const float* x, void* vy, int64_t n) {
  assert(n % QK4_1 == 0);
  auto* y = static_cast<block_q4_1*>(vy);
  for (int64_t i = 0; i < n / QK4_1; ++i, x += QK4_1) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < QK4_1; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / ((1 << 4) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    y[i].m = f32_to_fp16(min);
    for (int j = 0; j < QK4_1 / 2; ++j) {
      const int xi0 = std::min(15, static_cast<int>((x[j] - min) * id + 0.5f));
      const int xi1 = std::min(15, static_cast<int>((x[QK4_1 / 2 + j] - min) * id + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
  }
}

void quantize_row_q5_0(const float* x, void* vy, int64_t n) {
  assert(n % QK5_0 == 0);
  auto* y = static_cast<block_q5_0*>(vy);
  for (int64_t i = 0; i < n / QK5_0; ++i, x += QK5_0) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK5_0; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < QK5_0 / 2; ++j) {
      const int xi0 = std::min(31, static_cast<int>(x[j] * id + 16.5f));
      const int xi1 = std::min(31, static_cast<int>(x[QK5_0 / 2 + j] * id + 16.5f));
      y[i].qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((static_cast<uint32_t>(xi0) & 0x10u) >> 4) << j;
      qh |= ((static_cast<uint32_t>(xi1) & 0x10u) >> 4) << (j + QK5_0 / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof(qh));
  }
}

void quantize_row_q5_1(const float* x, void* vy, int64_t n) {
  assert(n % QK5_1 == 0);
  auto* y = static_cast<block_q5_1*>(vy);
  for (int64_t i = 0; i < n / QK5_1; ++i, x += QK5_1) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < QK5_1; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / ((1 << 5) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    y[i].m = f32_to_fp16(min);
    uint32_t qh = 0;
    for (int j = 0; j < QK5_1 / 2; ++j) {
      // ggml does not clamp here: (x - min) / d + 0.5 <= 31.5 by construction
      const int xi0 = static_cast<int>((x[j] - min) * id + 0.5f);
      const int xi1 = static_cast<int>((x[QK5_1 / 2 + j] - min) * id + 0.5f);
      y[i].qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((static_cast<uint32_t>(xi0) & 0x10u) >> 4) << j;
      qh |= ((static_cast<uint32_t>(xi1) & 0x10u) >> 4) << (j + QK5_1 / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof(qh));
  }
}

void quantize_row_q8_0(const float* x, void* vy, int64_t n) {
  assert(n % QK8_0 == 0);
  auto* y = static_cast<block_q8_0*>(vy);
  for (int64_t i = 0; i < n / QK8_0; ++i, x += QK8_0) {
    float amax = 0.0f;
    for (int j = 0; j < QK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    for (int j = 0; j < QK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));  // half away from 0
  }
}

void quantize_row_q8_1(const float* x, void* vy, int64_t n) {
  assert(n % QK8_1 == 0);
  auto* y = static_cast<block_q8_1*>(vy);
  for (int64_t i = 0; i < n / QK8_1; ++i, x += QK8_1) {
    float amax = 0.0f;
    for (int j = 0; j < QK8_1; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < QK8_1; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
      sum += y[i].qs[j];
    }
    y[i].s = f32_to_fp16(static_cast<float>(sum) * d);
  }
}

// Q8_K keeps a float scale and maps the largest-magnitude element to -127 exactly; bsums let the
// K-quant dots subtract the weights' mins per 16 elements without touching qs again.
void quantize_row_q8_K(const float* x, void* vy, int64_t n) {
  assert(n % kQK_K == 0);
  auto* y = static_cast<block_q8_K*>(vy);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max = 0, amax = 0;
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      y[i].d = 0;
      std::memset(y[i].qs, 0, sizeof(y[i].qs));
      std::memset(y[i].bsums, 0, sizeof(y[i].bsums));  // ggml leaves them unset; they are 0
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < kQK_K; ++j) y[i].qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += y[i].qs[16 * j + l];
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = 1 / iscale;
  }
}

QuantizeRowFn quantize_fn(DType t) noexcept {
  switch (t) {
    case DType::F32: return quantize_row_f32;
    case DType::F16: return quantize_row_f16;
    case DType::BF16: return quantize_row_bf16;
    case DType::Q4_0: return quantize_row_q4_0;
    case DType::Q4_1: return quantize_row_q4_1;
    case DType::Q5_0: return quantize_row_q5_0;
    case DType::Q5_1: return quantize_row_q5_1;
    case DType::Q8_0: return quantize_row_q8_0;
    case DType::Q8_1: return quantize_row_q8_1;
    case DType::Q2_K: return quantize_row_q2_K;
    case DType::Q3_K: return quantize_row_q3_K;
    case DType::Q4_K: return quantize_row_q4_K;
    case DType::Q5_K: return quantize_row_q5_K;
    case DType::Q6_K: return quantize_row_q6_K;
    case DType::Q8_K: return quantize_row_q8_K;
    default: return nullptr;
  }
}

}  // namespace slm::kernels::scalar
