// vec_dot of every weight type against its activation format, checked against the dot of the two
// dequantized rows in double; and the scalar matmul against per-row vec_dot.
#include <doctest/doctest.h>

#include <bit>
#include <cstddef>
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

// Columns: a few blocks of the type (odd counts), at least one full K super-block.
std::vector<int64_t> test_cols(DType t) {
  const int64_t bs = block_size(t) == 1 ? 32 : block_size(t);
  if (bs == 256) return {256, 768, 1280};
  return {32, 96, 224, 1056};
}

// Q4_1 / Q5_1 against Q8_1: the weight's min m multiplies the activation block's s, which is
// d * sum(q) rounded to fp16 by design (ggml's format), not the sum of the dequantized values.
// Returns sum over blocks of m * (s - d * sum(q)), what the kernel adds on top of the plain dot.
double q8_1_min_term_correction(DType wt, const uint8_t* w, const uint8_t* x, int64_t cols) {
  const auto* xb = reinterpret_cast<const block_q8_1*>(x);
  double corr = 0;
  for (int64_t b = 0; b < cols / QK8_1; ++b) {
    const uint8_t* wb = w + b * block_bytes(wt);
    uint16_t m_bits;
    std::memcpy(&m_bits, wb + offsetof(block_q4_1, m), sizeof(m_bits));
    static_assert(offsetof(block_q4_1, m) == offsetof(block_q5_1, m));
    int sum = 0;
    for (int8_t q : xb[b].qs) sum += q;
    corr += static_cast<double>(fp16_to_f32(m_bits)) *
            (static_cast<double>(fp16_to_f32(xb[b].s)) - static_cast<double>(fp16_to_f32(xb[b].d)) * sum);
  }
  return corr;
}

}  // namespace

TEST_CASE("vec_dot equals the double-precision dot of the dequantized rows") {
  // Inside a block the kernels sum integers exactly; the only rounding is in the per-block float
  // scales (d_w * d_x, and mins for Q4_1/Q5_1/K-quants), the dequantized values of the reference,
  // and float accumulation across at most cols/32 blocks: a few units of 2^-24 relative to each
  // term, summed. Bounding by 1e-5 * sum |w_i x_i| leaves > 10x headroom for that (also where the
  // min terms cancel, which is at most ~3x here) while any wrong bit layout errs by ~1/sqrt(cols)
  // (> 3e-2) relative. For Q8_1 the reference adds the min term exactly as the format defines it
  // (through the stored fp16 s; see q8_1_min_term_correction).
  for (DType wt : test::weight_types()) {
    const DType at = activation_type(wt);
    for (int64_t cols : test_cols(wt)) {
      INFO(dtype_name(wt) << " x " << dtype_name(at) << ", cols " << cols);
      const auto w = test::random_weight_rows(wt, 1, cols, static_cast<uint32_t>(cols) * 7 + 1);
      const auto xf = test::random_floats(static_cast<size_t>(cols), static_cast<uint32_t>(cols) * 13 + 5);
      const auto x = test::quantize_rows(at, xf.data(), 1, cols);
      const auto wd = test::dequantize_rows(wt, w.data(), 1, cols);
      const auto xd = test::dequantize_rows(at, x.data(), 1, cols);
      double ref = 0, mag = 0;
      for (int64_t i = 0; i < cols; ++i) {
        ref += static_cast<double>(wd[i]) * xd[i];
        mag += std::fabs(static_cast<double>(wd[i]) * xd[i]);
      }
      if (at == DType::Q8_1) ref += q8_1_min_term_correction(wt, w.data(), x.data(), cols);
      const float got = vec_dot(wt, w.data(), x.data(), cols);
      CHECK(std::fabs(got - ref) <= 1e-5 * mag + 1e-6);
      // and the quantization of the activations costs what its format promises: the dot with
      // unquantized x is close too (a sanity check of the pairing, loose by design)
      double exact = 0;
      for (int64_t i = 0; i < cols; ++i) exact += static_cast<double>(wd[i]) * xf[i];
      CHECK(std::fabs(got - exact) <= 0.05 * mag + 1e-6);
    }
  }
}

TEST_CASE("vec_dot of a zero weight row is exactly zero") {
  for (DType wt : test::weight_types()) {
    if (!can_quantize(wt)) continue;
    const DType at = activation_type(wt);
    const int64_t cols = block_size(wt) == 256 ? 512 : 128;
    INFO(dtype_name(wt));
    std::vector<float> zeros(cols, 0.0f);
    const auto wz = test::quantize_rows(wt, zeros.data(), 1, cols);
    const auto xf = test::random_floats(cols, 3);
    const auto x = test::quantize_rows(at, xf.data(), 1, cols);
    CHECK(vec_dot(wt, wz.data(), x.data(), cols) == 0.0f);
  }
}

TEST_CASE("scalar matmul over a row range equals per-row vec_dot") {
  const KernelTable& scalar = *table_for("scalar");
  for (DType wt : test::weight_types()) {
    const DType at = activation_type(wt);
    const int64_t cols = block_size(wt) == 256 ? 512 : 96;
    const int64_t rows = 13, n_tokens = 3;
    INFO(dtype_name(wt));
    REQUIRE(static_cast<bool>(scalar.matmul[slot(wt)]));
    REQUIRE(static_cast<bool>(scalar.quantize_act[slot(at)]));

    // rows and activations padded past their natural size, outputs strided: strides must be honoured
    const size_t wrb = test::bytes_of(wt, cols), xrb = test::bytes_of(at, cols);
    const size_t w_stride = wrb + 64, x_stride = xrb + 32;
    const auto w_dense = test::random_weight_rows(wt, rows, cols, 11);
    std::vector<uint8_t> w(w_stride * rows, 0xAB), x(x_stride * n_tokens, 0xCD);
    for (int64_t r = 0; r < rows; ++r) std::memcpy(&w[r * w_stride], &w_dense[r * wrb], wrb);
    const auto xf = test::random_floats(static_cast<size_t>(cols * n_tokens), 12);
    for (int64_t t = 0; t < n_tokens; ++t) scalar.quantize_act[slot(at)](&xf[t * cols], &x[t * x_stride], cols);

    const int64_t ldy = rows + 5;
    std::vector<float> y(static_cast<size_t>(ldy * n_tokens), -777.0f);
    MatmulArgs args{wt, w.data(), w_stride, rows, cols, x.data(), x_stride, n_tokens, y.data(), ldy};
    const int64_t begin = 2, end = 11;
    scalar.matmul[slot(wt)](args, begin, end);
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t r = 0; r < ldy; ++r) {
        const float got = y[t * ldy + r];
        if (r < begin || r >= end) {
          REQUIRE(got == -777.0f);  // outside the range: untouched
        } else {
          const float expected = vec_dot(wt, &w[r * w_stride], &x[t * x_stride], cols);
          REQUIRE(std::bit_cast<uint32_t>(got) == std::bit_cast<uint32_t>(expected));
        }
      }
    }
  }
}
