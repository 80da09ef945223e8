// Q4_0_R4 (kernels.h, "repacked layouts"): the in-place conversion, the type's place among the
// file types, and every level's products over it against the same level's Q4_0 products.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "tests/kernels/kernel_test_util.h"

using namespace slm;
using namespace slm::kernels;

namespace {

std::vector<uint8_t> repacked(std::vector<uint8_t> w, int64_t rows, size_t row_bytes) {
  std::vector<uint8_t> scratch(kR4Rows * row_bytes);
  repack_q4_0_r4(w.data(), rows, row_bytes, scratch.data());
  return w;
}

// The table entry that computes `type` at level k: the level's own, or the one it inherited.
const KernelTable& owner_of(const KernelTable& k, DType type) {
  for (std::string_view isa : available_isas()) {
    const KernelTable& t = *table_for(isa);
    if (t.matmul[slot(type)] == k.matmul[slot(type)]) return t;
  }
  return k;
}

}  // namespace

TEST_CASE("Q4_0_R4 is slm's own type: not a file type, Q4_0's blocks and activations") {
  CHECK_FALSE(dtype_traits(static_cast<uint32_t>(DType::Q4_0_R4)).has_value());
  CHECK_FALSE(dtype_from_name("Q4_0_R4").has_value());
  CHECK(traits(DType::Q4_0_R4).internal);
  CHECK(block_size(DType::Q4_0_R4) == 32);
  CHECK(block_bytes(DType::Q4_0_R4) == 18);
  CHECK(activation_type(DType::Q4_0_R4) == DType::Q8_0);
  CHECK(can_repack_r4(DType::Q4_0, 8, 256));
  CHECK_FALSE(can_repack_r4(DType::Q4_0, 6, 256));  // rows not in groups of 4
  CHECK_FALSE(can_repack_r4(DType::Q4_0, 8, 96));   // a step of 4 blocks left over
  CHECK_FALSE(can_repack_r4(DType::Q8_0, 8, 256));
  CHECK(matvec_row_group(DType::Q4_0_R4, 1152) == 256);
  if (const KernelTable* k = table_for("avx512")) {
    REQUIRE(static_cast<bool>(k->load_layout));
    CHECK(k->load_layout(DType::Q4_0, 8, 256) == DType::Q4_0_R4);
    CHECK(k->load_layout(DType::Q4_0, 6, 256) == DType::Q4_0);
    CHECK(k->load_layout(DType::Q4_K, 8, 256) == DType::Q4_K);
  }
  CHECK_FALSE(static_cast<bool>(table_for("scalar")->load_layout));
}

TEST_CASE("Q4_0_R4 repacking puts every 4-block piece where r4_row_step finds it, and unpacks back") {
  const int64_t rows = 12, cols = 384;
  const size_t rb = 3 * 72;
  std::vector<uint8_t> w(rows * rb);
  std::mt19937 rng(5);
  for (auto& b : w) b = static_cast<uint8_t>(rng());
  auto r4 = repacked(w, rows, rb);
  CHECK(r4 != w);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t q = 0; q < cols / 128; ++q) {
      INFO("row " << r << " step " << q);
      CHECK(std::memcmp(r4_row_step(r4.data(), rb, r, q), &w[r * rb + q * 72], 72) == 0);
    }
  std::vector<uint8_t> scratch(kR4Rows * rb);
  unpack_q4_0_r4(r4.data(), rows, rb, scratch.data());
  CHECK(r4 == w);
}

TEST_CASE("Q4_0_R4 products of every level give that level's Q4_0 bits") {
  struct Shape {
    int64_t rows, cols;
  };
  // 1300 rows: super-groups of 1024 (s = 64) and 256 (s = 16) rows, a 16-row one, a single group;
  // 6400 columns: past the prompt path's 48-step column chunks; 2176: past a 2048-column panel chunk.
  for (const Shape shape : {Shape{1300, 128}, Shape{44, 2048}, Shape{20, 6400}, Shape{36, 2176}}) {
    const int64_t rows = shape.rows, cols = shape.cols;
    const size_t wrb = test::bytes_of(DType::Q4_0, cols), xrb = test::bytes_of(DType::Q8_0, cols);
    const auto w = test::random_weight_rows(DType::Q4_0, rows, cols, static_cast<uint32_t>(rows + cols));
    const auto w4 = repacked(w, rows, wrb);
    for (int64_t n : {1, 2, 3, 8, 9, 17, 29}) {
      const auto xf = test::random_floats(static_cast<size_t>(n * cols), static_cast<uint32_t>(n + 3));
      std::vector<uint8_t> x(xrb * n);
      for (int64_t t = 0; t < n; ++t)
        table_for("scalar")->quantize_act[slot(DType::Q8_0)](&xf[t * cols], &x[t * xrb], cols);
      for (std::string_view isa : available_isas()) {
        const KernelTable& k = *table_for(isa);
        const KernelTable& own = owner_of(k, DType::Q4_0_R4);
        INFO(isa << " (entry of " << own.isa << ") rows " << rows << " cols " << cols << " tokens " << n);
        std::vector<float> want(rows * n, NAN), got(rows * n, NAN);
        MatmulArgs a{DType::Q4_0, w.data(), wrb, rows, cols, x.data(), xrb, n, want.data(), rows};
        own.matmul[slot(DType::Q4_0)](a, 0, rows);
        MatmulArgs b{DType::Q4_0_R4, w4.data(), wrb, rows, cols, x.data(), xrb, n, got.data(), rows};
        // the whole range (every super-group size), then ranges that start and end inside groups
        // of 4, as a row split may hand out
        for (bool split : {false, true}) {
          std::fill(got.begin(), got.end(), NAN);
          if (split) {
            k.matmul[slot(DType::Q4_0_R4)](b, 0, 3);
            k.matmul[slot(DType::Q4_0_R4)](b, 3, rows / 2 + 1);
            k.matmul[slot(DType::Q4_0_R4)](b, rows / 2 + 1, rows);
          } else {
            k.matmul[slot(DType::Q4_0_R4)](b, 0, rows);
          }
          for (size_t i = 0; i < want.size(); ++i) {
            INFO("split " << split << " output " << i);
            REQUIRE(!std::isnan(got[i]));
            REQUIRE(std::bit_cast<uint32_t>(got[i]) == std::bit_cast<uint32_t>(want[i]));
          }
        }
        if (n >= kPanelMinTokens && k.matmul_panels[slot(DType::Q4_0_R4)]) {
          REQUIRE(static_cast<bool>(k.matmul_panels[slot(DType::Q4_0)]));
          PanelBuffer packed;
          pack_all_panels(k, DType::Q8_0, x.data(), xrb, cols, n, packed);
          a.xp = b.xp = packed.data();
          std::fill(want.begin(), want.end(), NAN);
          std::fill(got.begin(), got.end(), NAN);
          k.matmul_panels[slot(DType::Q4_0)](a, 0, rows);
          k.matmul_panels[slot(DType::Q4_0_R4)](b, 0, 6);
          k.matmul_panels[slot(DType::Q4_0_R4)](b, 6, rows);
          for (size_t i = 0; i < want.size(); ++i) {
            INFO("panel output " << i);
            REQUIRE(!std::isnan(got[i]));
            REQUIRE(std::bit_cast<uint32_t>(got[i]) == std::bit_cast<uint32_t>(want[i]));
          }
        }
      }
    }
  }
}
