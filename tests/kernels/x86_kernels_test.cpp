// The x86 tables beyond isa_equivalence_test.cpp: that SLM_ISA can force each level here, that the
// levels really replace the scalar entries they claim, and matmul cases the generic test does not
// reach -- float rows whose length is not a multiple of the 8-float vector, padded weight rows,
// a wider output stride, odd pointer alignment, and every token count around the register tiles.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/kernels.h"
#include "tests/kernels/kernel_test_util.h"

using namespace slm;
using namespace slm::kernels;

namespace {

bool available(std::string_view isa) {
  const auto isas = available_isas();
  return std::find(isas.begin(), isas.end(), isa) != isas.end();
}

// The weight types the x86 levels implement themselves (the rest fall through to scalar).
const DType kX86Types[] = {DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q5_0,
                           DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

// Runs level `k` and scalar on the same operands, with rows padded by 12 bytes, y with stride
// rows + 3, and weights / activations 4 bytes past a 16-byte boundary (so no row is vector-aligned,
// while every block keeps its struct's alignment, as in a GGUF file); checks the tolerance of
// isa_equivalence_test.cpp and that the padding columns of y stay untouched.
void compare_matmul(const KernelTable& k, DType wt, int64_t rows, int64_t cols, int64_t n_tokens) {
  const KernelTable& s = *table_for("scalar");
  const DType at = activation_type(wt);
  const size_t wrb = test::bytes_of(wt, cols), xrb = test::bytes_of(at, cols);
  const size_t w_stride = wrb + 12, x_stride = xrb + 12;
  constexpr size_t kOffset = 4;
  const auto packed = test::random_weight_rows(wt, rows, cols, static_cast<uint32_t>(rows * 31 + cols));
  std::vector<uint8_t> wbuf(kOffset + w_stride * rows), xbuf(kOffset + x_stride * n_tokens);
  for (int64_t r = 0; r < rows; ++r) std::memcpy(&wbuf[kOffset + r * w_stride], &packed[r * wrb], wrb);
  const auto xf = test::random_floats(static_cast<size_t>(n_tokens * cols), static_cast<uint32_t>(cols + 11));
  for (int64_t t = 0; t < n_tokens; ++t) s.quantize_act[slot(at)](&xf[t * cols], &xbuf[kOffset + t * x_stride], cols);

  const int64_t ldy = rows + 3;
  std::vector<float> ys(ldy * n_tokens, -7.0f), yk(ldy * n_tokens, -7.0f);
  MatmulArgs a{wt, wbuf.data() + kOffset, w_stride, rows, cols, xbuf.data() + kOffset, x_stride, n_tokens, ys.data(), ldy};
  s.matmul[slot(wt)](a, 0, rows);
  a.y = yk.data();
  // ranges as the threaded caller cuts them: multiples of 16, the last one shorter
  for (int64_t r0 = 0; r0 < rows; r0 += 16) k.matmul[slot(wt)](a, r0, std::min(rows, r0 + 16));

  std::vector<float> wd(cols), xd(cols);
  for (int64_t t = 0; t < n_tokens; ++t) {
    dequantize_row(at, &xbuf[kOffset + t * x_stride], xd.data(), cols);
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_row(wt, &wbuf[kOffset + r * w_stride], wd.data(), cols);
      double mag = 0;
      for (int64_t i = 0; i < cols; ++i) mag += std::fabs(static_cast<double>(wd[i]) * xd[i]);
      const double tol = 4.0 * cols * mag / (1 << 24) + 1e-6;
      REQUIRE(std::fabs(yk[t * ldy + r] - ys[t * ldy + r]) <= tol);
    }
    for (int64_t r = rows; r < ldy; ++r) REQUIRE(yk[t * ldy + r] == -7.0f);
  }
}

}  // namespace

TEST_CASE("SLM_ISA can choose each x86 level this machine runs, and those levels replace scalar") {
  const auto isas = available_isas();
  for (std::string_view isa : {"avx2", "avx512"}) {
    if (!available(isa)) {
      MESSAGE("level " << isa << " not runnable here: skipped");
      continue;
    }
    INFO(isa);
    const IsaChoice c = choose_isa(std::string(isa).c_str(), isas);
    CHECK(c.isa == isa);
    CHECK(c.warning.empty());
    const KernelTable* k = table_for(isa);
    REQUIRE(k != nullptr);
    CHECK(std::string_view(k->isa) == isa);
    const KernelTable& s = *table_for("scalar");
    for (DType t : kX86Types) CHECK((k->matmul[slot(t)] != s.matmul[slot(t)]));
    for (DType t : {DType::Q8_0, DType::Q8_K, DType::F16, DType::BF16})
      CHECK((k->quantize_act[slot(t)] != s.quantize_act[slot(t)]));
    CHECK((k->softmax != s.softmax));
    CHECK((k->dot_f16_f32 != s.dot_f16_f32));
  }
}

TEST_CASE("x86 float matmuls handle rows of any length, strides and alignment") {
  for (std::string_view isa : {"avx2", "avx512"}) {
    if (!available(isa)) continue;
    const KernelTable& k = *table_for(isa);
    for (DType wt : {DType::F32, DType::F16, DType::BF16})
      for (int64_t cols : {1, 7, 9, 37, 100})
        for (int64_t n_tokens : {1, 2, 5}) {
          INFO(isa << " " << dtype_name(wt) << " cols " << cols << " tokens " << n_tokens);
          compare_matmul(k, wt, 21, cols, n_tokens);
        }
  }
}

TEST_CASE("x86 quantized matmuls: every token count around the tiles, padded rows, unaligned rows") {
  for (std::string_view isa : {"avx2", "avx512"}) {
    if (!available(isa)) continue;
    const KernelTable& k = *table_for(isa);
    for (DType wt : kX86Types) {
      if (block_size(wt) == 1) continue;
      const int64_t cols = block_size(wt) == 256 ? 512 : 160;
      for (int64_t n_tokens = 1; n_tokens <= 9; ++n_tokens) {
        INFO(isa << " " << dtype_name(wt) << " tokens " << n_tokens);
        compare_matmul(k, wt, 37, cols, n_tokens);
      }
    }
  }
}

TEST_CASE("x86 quantized matmuls of all-zero weights are exactly zero") {
  for (std::string_view isa : {"avx2", "avx512"}) {
    if (!available(isa)) continue;
    const KernelTable& k = *table_for(isa);
    for (DType wt : kX86Types) {
      INFO(isa << " " << dtype_name(wt));
      const int64_t cols = 256, rows = 5, n_tokens = 3;
      const DType at = activation_type(wt);
      const std::vector<float> zeros(rows * cols, 0.0f);
      const auto w = test::quantize_rows(wt, zeros.data(), rows, cols);
      const auto xf = test::random_floats(n_tokens * cols, 5);
      const auto x = test::quantize_rows(at, xf.data(), n_tokens, cols);
      std::vector<float> y(rows * n_tokens, NAN);
      MatmulArgs a{wt, w.data(), test::bytes_of(wt, cols), rows, cols, x.data(), test::bytes_of(at, cols),
                   n_tokens, y.data(), rows};
      k.matmul[slot(wt)](a, 0, rows);
      for (float v : y) CHECK(v == 0.0f);
    }
  }
}
