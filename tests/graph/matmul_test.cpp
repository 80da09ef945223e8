// matmul_jobs (src/graph/matmul.cpp): one call over several products, with shared and separate
// inputs, mixed activation formats, panel-sized and tile-sized token counts and empty jobs, gives
// exactly what one matmul() per product gives, and counts each product's weight bytes once.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "src/engine/thread_pool.h"
#include "src/graph/matmul.h"

using namespace slm;

namespace {

struct OwnedMat {
  std::vector<uint8_t> bytes;
  MatView view;
};

OwnedMat random_matrix(DType type, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  OwnedMat m;
  const size_t rb = static_cast<size_t>(*row_bytes(type, static_cast<uint64_t>(cols)));
  m.bytes.resize(rb * static_cast<size_t>(rows));
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = dist(rng);
    if (type == DType::F32)
      std::memcpy(&m.bytes[rb * static_cast<size_t>(r)], row.data(), rb);
    else
      REQUIRE(kernels::quantize_row(type, row.data(), &m.bytes[rb * static_cast<size_t>(r)], cols));
  }
  m.view = MatView{type, m.bytes.data(), rows, cols, rb};
  return m;
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

}  // namespace

TEST_CASE("matmul_jobs: one call over many products equals one matmul per product, bit for bit") {
  constexpr int64_t cols = 512;
  const OwnedMat a = random_matrix(DType::Q4_0, 40, cols, 1);  // activations Q8_0
  const OwnedMat b = random_matrix(DType::Q4_K, 57, cols, 2);  // Q8_K
  const OwnedMat c = random_matrix(DType::Q6_K, 9, cols, 3);   // Q8_K
  const OwnedMat f = random_matrix(DType::F32, 23, cols, 4);   // F32
  // Inputs of 13 tokens (panels from kPanelMinTokens on), 5 (tiles), 1 (generation) and 0.
  static_assert(kernels::kPanelMinTokens <= 13 && kernels::kPanelMinTokens > 5);
  const auto x13 = random_floats(13 * cols, 5), x5 = random_floats(5 * cols, 6), x1 = random_floats(cols, 7);

  struct Case {
    const MatView* w;
    const float* x;
    int64_t n;
  };
  const Case cases[] = {
      {&a.view, x13.data(), 13}, {&b.view, x13.data(), 13},  // same input, two activation formats
      {&c.view, x13.data(), 13},                             // shares b's conversion
      {&a.view, x5.data(), 5},   {&b.view, x1.data(), 1},  {&f.view, x5.data(), 5},
      {&c.view, x1.data(), 0},                               // nothing to do
      {&b.view, x13.data(), 13},                             // the same product twice, two outputs
  };
  const size_t count = std::size(cases);
  std::vector<std::vector<float>> together(count), alone(count);
  std::vector<MatmulJob> jobs;
  uint64_t expected_bytes = 0;
  for (size_t i = 0; i < count; ++i) {
    const Case& k = cases[i];
    const int64_t ldy = k.w->rows + 3;  // a row stride wider than the output
    together[i].assign(static_cast<size_t>(std::max<int64_t>(k.n, 1) * ldy), -7.0f);
    alone[i] = together[i];
    jobs.push_back({k.w, k.x, k.n, together[i].data(), ldy});
    if (k.n > 0) expected_bytes += k.w->bytes();
  }
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    MatmulScratch shared, single;
    for (auto& y : together) std::fill(y.begin(), y.end(), -7.0f);
    matmul_jobs(pool, jobs, shared);
    CHECK(shared.weight_bytes == expected_bytes);
    for (size_t i = 0; i < count; ++i) {
      const Case& k = cases[i];
      matmul(pool, *k.w, k.x, k.n, alone[i].data(), k.w->rows + 3, single);
      CAPTURE(i);
      CHECK(together[i] == alone[i]);  // includes the untouched padding columns (-7)
    }
    CHECK(single.weight_bytes == expected_bytes);
  }
}
