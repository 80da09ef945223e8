// Reference quantizers on random data: error per type, activation-format invariants, edge rows
// (zeros, one outlier, constant), and the capability queries.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "tests/kernels/kernel_test_util.h"

using namespace slm;
using namespace slm::kernels;

namespace {

// Relative RMSE a type must reach on unit-normal data: what ggml's reference quantizers reach on
// 64 rows of 1024 normal values (slm reproduces their bytes, see quant_zoo_test), plus 25% headroom
// for the smaller samples here. (The zoo's figures are lower for the types with mins because its
// rows include all-positive and offset ones; a broken quantizer misses these bars by far.)
double normal_data_bar(DType t) {
  constexpr double kHeadroom = 1.25;
  switch (t) {
    case DType::F32: return 0.0;
    case DType::F16: return 0.00021 * kHeadroom;
    case DType::BF16: return 0.00166 * kHeadroom;
    case DType::Q4_0: return 0.0859 * kHeadroom;
    case DType::Q4_1: return 0.0780 * kHeadroom;
    case DType::Q5_0: return 0.0427 * kHeadroom;
    case DType::Q5_1: return 0.0378 * kHeadroom;
    case DType::Q8_0: return 0.00536 * kHeadroom;
    case DType::Q8_1: return 0.00536 * kHeadroom;
    case DType::Q2_K: return 0.2957 * kHeadroom;
    case DType::Q3_K: return 0.1508 * kHeadroom;
    case DType::Q4_K: return 0.0712 * kHeadroom;
    case DType::Q5_K: return 0.0360 * kHeadroom;
    case DType::Q6_K: return 0.0178 * kHeadroom;
    case DType::Q8_K: return 0.00693 * kHeadroom;
    default: return 0.0;
  }
}

const std::vector<DType>& quantizable_types() {
  static const std::vector<DType> types = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                                           DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q8_1, DType::Q2_K,
                                           DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K};
  return types;
}

}  // namespace

TEST_CASE("capability queries") {
  for (DType t : quantizable_types()) {
    CHECK(can_quantize(t));
    CHECK(can_dequantize(t));
  }
  CHECK(can_dequantize(DType::IQ4_NL));
  CHECK_FALSE(can_quantize(DType::IQ4_NL));
  for (DType t : test::weight_types()) CHECK(has_matmul(t));
  CHECK_FALSE(has_matmul(DType::Q8_1));
  CHECK_FALSE(has_matmul(DType::Q8_K));
  for (DType t : {DType::IQ2_XXS, DType::IQ4_XS, DType::I32, DType::F64, DType::MXFP4, DType::TQ2_0}) {
    CHECK_FALSE(can_dequantize(t));
    CHECK_FALSE(can_quantize(t));
    CHECK_FALSE(has_matmul(t));
    float sentinel = 42.0f;
    const uint8_t bytes[64] = {};
    CHECK_FALSE(dequantize_row(t, bytes, &sentinel, 0));
    CHECK(sentinel == 42.0f);
    CHECK(std::isnan(vec_dot(t, bytes, bytes, 256)));
  }
  CHECK(activation_type(DType::F32) == DType::F32);
  CHECK(activation_type(DType::F16) == DType::F16);
  CHECK(activation_type(DType::BF16) == DType::BF16);
  CHECK(activation_type(DType::Q4_0) == DType::Q8_0);
  CHECK(activation_type(DType::Q5_0) == DType::Q8_0);
  CHECK(activation_type(DType::Q8_0) == DType::Q8_0);
  CHECK(activation_type(DType::IQ4_NL) == DType::Q8_0);
  CHECK(activation_type(DType::Q4_1) == DType::Q8_1);
  CHECK(activation_type(DType::Q5_1) == DType::Q8_1);
  for (DType t : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K})
    CHECK(activation_type(t) == DType::Q8_K);
}

TEST_CASE("quantize -> dequantize error on random rows of odd counts") {
  for (DType t : quantizable_types()) {
    const int64_t bs = block_size(t) == 1 ? 32 : block_size(t);
    for (int64_t rows : {1, 3, 7}) {
      for (int64_t blocks : {1, 3}) {
        const int64_t cols = bs * blocks * (block_size(t) == 256 ? 1 : 4);
        INFO(dtype_name(t) << " rows " << rows << " cols " << cols);
        const auto x = test::random_floats(static_cast<size_t>(rows * cols), static_cast<uint32_t>(rows * 131 + cols));
        const auto q = test::quantize_rows(t, x.data(), rows, cols);
        const auto back = test::dequantize_rows(t, q.data(), rows, cols);
        const double rmse = test::relative_rmse(back.data(), x.data(), x.size());
        CHECK(rmse <= normal_data_bar(t));
        if (t != DType::F32) CHECK(rmse > 0.0);  // it did quantize
      }
    }
  }
}

TEST_CASE("edge rows: all zero, one outlier, constant, tiny values") {
  for (DType t : quantizable_types()) {
    const int64_t n = 512;
    INFO(dtype_name(t));
    std::vector<uint8_t> q(test::bytes_of(t, n));
    std::vector<float> back(n);

    std::vector<float> zeros(n, 0.0f);
    REQUIRE(quantize_row(t, zeros.data(), q.data(), n));
    REQUIRE(dequantize_row(t, q.data(), back.data(), n));
    for (float v : back) REQUIRE(v == 0.0f);

    // one large outlier in a block of small values: it must survive, the rest stay finite
    auto x = test::random_floats(n, 99, 0.01f);
    x[37] = 50.0f;
    quantize_row(t, x.data(), q.data(), n);
    dequantize_row(t, q.data(), back.data(), n);
    for (float v : back) REQUIRE(std::isfinite(v));
    CHECK(std::fabs(back[37] - 50.0f) <= 50.0f * 0.1f);

    std::vector<float> constant(n, -3.25f);
    quantize_row(t, constant.data(), q.data(), n);
    dequantize_row(t, q.data(), back.data(), n);
    CHECK(test::relative_rmse(back.data(), constant.data(), n) <= 0.15);

    auto tiny = test::random_floats(n, 5, 1e-6f);
    quantize_row(t, tiny.data(), q.data(), n);
    dequantize_row(t, q.data(), back.data(), n);
    for (float v : back) REQUIRE(std::isfinite(v));
  }
}

TEST_CASE("activation formats carry consistent side data") {
  const int64_t n = 1024;
  const auto x = test::random_floats(n, 2024, 3.0f);

  std::vector<block_q8_1> q81(n / QK8_1);
  quantize_row(DType::Q8_1, x.data(), q81.data(), n);
  for (const auto& b : q81) {
    int sum = 0;
    for (int8_t v : b.qs) sum += v;
    const float expected_s = fp16_to_f32(f32_to_fp16(static_cast<float>(sum) * fp16_to_f32(b.d)));
    // s is sum * d rounded from the unrounded d: within one fp16 ulp of the value recomputed here
    CHECK(std::fabs(fp16_to_f32(b.s) - expected_s) <= std::fabs(expected_s) * 2e-3f + 1e-6f);
  }

  std::vector<block_q8_K> q8k(n / QK_K);
  quantize_row(DType::Q8_K, x.data(), q8k.data(), n);
  for (const auto& b : q8k) {
    int8_t extreme = 0;
    for (int j = 0; j < static_cast<int>(QK_K); ++j) {
      if (std::abs(b.qs[j]) > std::abs(extreme)) extreme = b.qs[j];
    }
    CHECK(std::abs(extreme) == 127);  // the largest magnitude maps to +-127 exactly
    for (int g = 0; g < static_cast<int>(QK_K / 16); ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += b.qs[16 * g + l];
      REQUIRE(b.bsums[g] == sum);
    }
  }

  std::vector<block_q8_0> q80(n / QK8_0);
  quantize_row(DType::Q8_0, x.data(), q80.data(), n);
  for (const auto& b : q80) {
    int amax = 0;
    for (int8_t v : b.qs) amax = std::max(amax, std::abs(static_cast<int>(v)));
    CHECK(amax == 127);
  }
}
