// The float ops of every available table against straightforward double-precision loops, on odd
// sizes. Tolerances are the ops' contracts: what any correct float implementation (any summation
// order, FMA or not, a good exp/tanh) meets, and far below what a wrong one misses by.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "tests/kernels/kernel_test_util.h"

using namespace slm;
using namespace slm::kernels;

namespace {

const std::vector<int64_t> kSizes = {1, 7, 33, 255, 1001, 4097};
constexpr double kEps = 1.0 / (1 << 24);  // unit roundoff of float

std::vector<uint16_t> to_f16(const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = f32_to_fp16(v[i]);
  return h;
}

}  // namespace

TEST_CASE("float ops match double-precision references on odd sizes") {
  for (std::string_view isa : available_isas()) {
    const KernelTable& k = *table_for(isa);
    for (int64_t n : kSizes) {
      INFO(isa << ", n = " << n);
      const auto x = test::random_floats(n, static_cast<uint32_t>(n) + 1, 2.0f);
      const auto w = test::random_floats(n, static_cast<uint32_t>(n) + 2, 0.5f);
      const auto up = test::random_floats(n, static_cast<uint32_t>(n) + 3, 1.5f);
      std::vector<float> y(n);

      SUBCASE("rmsnorm") {
        for (float w_offset : {0.0f, 1.0f}) {
          const float eps = 1e-6f;
          k.rmsnorm(x.data(), w.data(), y.data(), n, eps, w_offset);
          double ss = 0;
          for (float v : x) ss += static_cast<double>(v) * v;
          const double scale = 1.0 / std::sqrt(ss / n + eps);
          for (int64_t i = 0; i < n; ++i) {
            const double ref = x[i] * scale * (static_cast<double>(w[i]) + w_offset);
            // the sum of squares may carry n ulps of error: half of that reaches the scale
            REQUIRE(std::fabs(y[i] - ref) <= (8 + n / 2.0) * kEps * std::fabs(ref) + 1e-30);
          }
        }
      }
      SUBCASE("softmax") {
        std::vector<float> s = x;
        s[n / 2] += 30.0f;  // a dominant logit: exp(x - max) must not overflow
        std::vector<float> in = s;
        k.softmax(s.data(), n);
        double max = in[0];
        for (float v : in) max = std::max(max, static_cast<double>(v));
        double sum = 0;
        for (float v : in) sum += std::exp(v - max);
        double total = 0;
        for (int64_t i = 0; i < n; ++i) {
          const double ref = std::exp(in[i] - max) / sum;
          REQUIRE(std::fabs(s[i] - ref) <= 1e-5 * ref + 1e-9);
          total += s[i];
        }
        CHECK(std::fabs(total - 1.0) <= 1e-5);
      }
      SUBCASE("silu_mul") {
        k.silu_mul(x.data(), up.data(), y.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          const double g = x[i];
          const double ref = g / (1.0 + std::exp(-g)) * up[i];
          REQUIRE(std::fabs(y[i] - ref) <= 1e-6 * std::fabs(g * up[i]) + 1e-30);
        }
        std::vector<float> inplace = x;  // out may alias gate
        k.silu_mul(inplace.data(), up.data(), inplace.data(), n);
        for (int64_t i = 0; i < n; ++i) REQUIRE(inplace[i] == y[i]);
      }
      SUBCASE("gelu_tanh_mul") {
        k.gelu_tanh_mul(x.data(), up.data(), y.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          const double g = x[i];
          const double ref =
              0.5 * g * (1.0 + std::tanh(0.7978845608028654 * (g + 0.044715 * g * g * g))) * up[i];
          REQUIRE(std::fabs(y[i] - ref) <= 1e-6 * std::fabs(g * up[i]) + 1e-30);
        }
      }
      SUBCASE("dot_f16_f32 and axpy_f16_f32") {
        const auto a16 = to_f16(w);
        double ref = 0, mag = 0;
        for (int64_t i = 0; i < n; ++i) {
          ref += static_cast<double>(fp16_to_f32(a16[i])) * x[i];
          mag += std::fabs(static_cast<double>(fp16_to_f32(a16[i])) * x[i]);
        }
        // any summation order of n float terms: |error| <= n * eps * sum |terms|
        CHECK(std::fabs(k.dot_f16_f32(a16.data(), x.data(), n) - ref) <= n * kEps * mag + 1e-30);

        std::vector<float> acc = up;
        const float alpha = -0.37f;
        k.axpy_f16_f32(alpha, a16.data(), acc.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          const double term = static_cast<double>(alpha) * fp16_to_f32(a16[i]);
          const double ref_i = up[i] + term;
          REQUIRE(std::fabs(acc[i] - ref_i) <= 2 * kEps * (std::fabs(up[i]) + std::fabs(term)) + 1e-30);
        }
      }
      SUBCASE("f32_to_f16_row rounds exactly like f32_to_fp16") {
        std::vector<uint16_t> h(n);
        k.f32_to_f16_row(x.data(), h.data(), n);
        for (int64_t i = 0; i < n; ++i) REQUIRE(h[i] == f32_to_fp16(x[i]));
      }
    }
  }
}

TEST_CASE("rope rotates the right pairs in both styles") {
  for (std::string_view isa : available_isas()) {
    const KernelTable& k = *table_for(isa);
    for (bool neox : {false, true}) {
      struct Shape {
        int64_t n_heads, head_dim, rope_dim;
      };
      // partial rotary (rope_dim < head_dim) leaves the remaining dims untouched
      for (const Shape& shape :
           {Shape{1, 2, 2}, Shape{3, 64, 64}, Shape{5, 80, 32}, Shape{7, 128, 128}, Shape{2, 96, 94}}) {
        const int64_t n_heads = shape.n_heads, head_dim = shape.head_dim, rope_dim = shape.rope_dim;
        INFO(isa << (neox ? " neox" : " normal") << " heads " << n_heads << " dim " << head_dim << " rope "
                 << rope_dim);
        const int64_t half = rope_dim / 2;
        const double pos = 17.0;
        std::vector<float> cos(half), sin(half);
        for (int64_t i = 0; i < half; ++i) {
          const double theta = pos * std::pow(10000.0, -2.0 * i / rope_dim);
          cos[i] = static_cast<float>(std::cos(theta));
          sin[i] = static_cast<float>(std::sin(theta));
        }
        const auto x0 = test::random_floats(static_cast<size_t>(n_heads * head_dim), 31);
        std::vector<float> x = x0;
        k.rope(x.data(), n_heads, head_dim, rope_dim, cos.data(), sin.data(), neox);
        for (int64_t h = 0; h < n_heads; ++h) {
          const float* in = &x0[h * head_dim];
          const float* out = &x[h * head_dim];
          for (int64_t i = 0; i < half; ++i) {
            const int64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
            const double ra = static_cast<double>(in[a]) * cos[i] - static_cast<double>(in[b]) * sin[i];
            const double rb = static_cast<double>(in[a]) * sin[i] + static_cast<double>(in[b]) * cos[i];
            const double tol = 4 * kEps * (std::fabs(in[a]) + std::fabs(in[b]));
            REQUIRE(std::fabs(out[a] - ra) <= tol);
            REQUIRE(std::fabs(out[b] - rb) <= tol);
          }
          for (int64_t d = rope_dim; d < head_dim; ++d) REQUIRE(out[d] == in[d]);
        }
      }
    }
  }
}
