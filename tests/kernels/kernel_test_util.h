// Helpers shared by the kernel tests: seeded random data, row buffers of any type, error measures.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "kernels/types.h"

namespace slm::kernels::test {

// The weight types with kernels, and the activation formats.
inline const std::vector<DType>& weight_types() {
  static const std::vector<DType> types = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                                           DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                                           DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL};
  return types;
}
inline const std::vector<DType>& activation_types() {
  static const std::vector<DType> types = {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q8_1, DType::Q8_K};
  return types;
}

// n normal(0, sigma) floats, deterministic for a seed.
inline std::vector<float> random_floats(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline size_t bytes_of(DType t, int64_t n) { return static_cast<size_t>(*row_bytes(t, static_cast<uint64_t>(n))); }

// Quantizes `rows` rows of `cols` floats with the reference quantizer; returns the packed bytes.
inline std::vector<uint8_t> quantize_rows(DType t, const float* x, int64_t rows, int64_t cols) {
  const size_t rb = bytes_of(t, cols);
  std::vector<uint8_t> out(rb * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) quantize_row(t, x + r * cols, out.data() + r * rb, cols);
  return out;
}

inline std::vector<float> dequantize_rows(DType t, const uint8_t* q, int64_t rows, int64_t cols) {
  const size_t rb = bytes_of(t, cols);
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) dequantize_row(t, q + r * rb, out.data() + r * cols, cols);
  return out;
}

// `rows` rows of random weights of type t: quantized normal(0, 1) data, or for IQ4_NL (no
// quantizer) random level bytes with random positive scales.
inline std::vector<uint8_t> random_weight_rows(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  const auto x = random_floats(static_cast<size_t>(rows * cols), seed);
  if (can_quantize(t)) return quantize_rows(t, x.data(), rows, cols);
  std::vector<uint8_t> out(bytes_of(t, cols) * static_cast<size_t>(rows));
  std::mt19937 rng(seed);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  if (t == DType::IQ4_NL) {  // 18-byte blocks, fp16 d first
    std::uniform_real_distribution<float> d(0.002f, 0.02f);
    for (size_t off = 0; off < out.size(); off += block_bytes(t)) {
      const uint16_t h = f32_to_fp16(d(rng));
      std::memcpy(&out[off], &h, sizeof(h));
    }
  }
  return out;
}

// sqrt(sum (a-b)^2 / sum b^2): error of `a` relative to the signal `b`.
inline double relative_rmse(const float* a, const float* b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    num += d * d;
    den += static_cast<double>(b[i]) * b[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

}  // namespace slm::kernels::test
