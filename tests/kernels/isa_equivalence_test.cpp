// Every table this machine can run, entry by entry, against the scalar table: the test that makes a
// SIMD kernel trustworthy. Random data of odd sizes; explicit tolerance per op. With only scalar
// built it compares scalar with itself (and so checks determinism); each new level is checked here
// without changing this file.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "tests/kernels/kernel_test_util.h"

using namespace slm;
using namespace slm::kernels;

namespace {

constexpr double kEps = 1.0 / (1 << 24);

const KernelTable& scalar_ref() { return *table_for("scalar"); }

// Weight row sizes to try: a few multiples of the block size (odd block counts included).
std::vector<int64_t> cols_for(DType t) {
  if (block_size(t) == 256) return {256, 768, 2048};
  return {32, 96, 352, 1024, 6368};  // 6368: past one 6144-column chunk of the AVX-512 prompt path
}

// yk (a level's product) against ys (scalar's) for weights w and activations x (activation_type(wt)
// bytes). Both sides use the same activation bytes: integer block sums are exact in any order, so
// the levels may differ only in float rounding: products of scales (FMA or not) and the order of
// accumulation over at most `cols` terms. Any order of summing m terms errs by at most
// m * eps * sum |terms|; m = cols bounds both the float types and the block-sum ones.
void expect_near_scalar(DType wt, const std::vector<uint8_t>& w, const std::vector<uint8_t>& x, int64_t rows,
                        int64_t cols, int64_t n_tokens, const std::vector<float>& ys, const std::vector<float>& yk) {
  const DType at = activation_type(wt);
  const size_t wrb = test::bytes_of(wt, cols), xrb = test::bytes_of(at, cols);
  std::vector<float> wd(cols), xd(cols);
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(wt, &w[r * wrb], wd.data(), cols);
    for (int64_t t = 0; t < n_tokens; ++t) {
      dequantize_row(at, &x[t * xrb], xd.data(), cols);
      double mag = 0;
      for (int64_t i = 0; i < cols; ++i) mag += std::fabs(static_cast<double>(wd[i]) * xd[i]);
      // K-quant mins enter as a separate term that can cancel: allow them 4x the magnitude
      const double tol = 4.0 * cols * kEps * mag + 1e-6;
      const float sv = ys[t * rows + r], v = yk[t * rows + r];
      INFO("row " << r << " token " << t);
      REQUIRE(std::isfinite(v));
      REQUIRE(std::fabs(v - sv) <= tol);
    }
  }
}

}  // namespace

TEST_CASE("available_isas lists scalar first and every level has a complete table") {
  const auto isas = available_isas();
  REQUIRE(!isas.empty());
  CHECK(isas.front() == "scalar");
  for (std::string_view isa : isas) {
    INFO(isa);
    const KernelTable* k = table_for(isa);
    REQUIRE(k != nullptr);
    CHECK(std::string_view(k->isa) == isa);
    for (DType t : test::weight_types()) CHECK(static_cast<bool>(k->matmul[slot(t)]));
    for (DType t : test::activation_types()) CHECK(static_cast<bool>(k->quantize_act[slot(t)]));
    CHECK(static_cast<bool>(k->rmsnorm));
    CHECK(static_cast<bool>(k->softmax));
    CHECK(static_cast<bool>(k->silu_mul));
    CHECK(static_cast<bool>(k->gelu_tanh_mul));
    CHECK(static_cast<bool>(k->rope));
    CHECK(static_cast<bool>(k->dot_f16_f32));
    CHECK(static_cast<bool>(k->axpy_f16_f32));
    CHECK(static_cast<bool>(k->f32_to_f16_row));
    CHECK(static_cast<bool>(k->f16_to_f32_row));
    CHECK(static_cast<bool>(k->mad_f16));
    CHECK(static_cast<bool>(k->scale_f16));
    CHECK(static_cast<bool>(k->dot_f16_rows));
    CHECK(static_cast<bool>(k->mad_f16_rows));
  }
}

TEST_CASE("quantize_act of every level decodes to the scalar result within one quantization step") {
  // SIMD quantizers may compute 1/d or round differently (ggml's own AVX2 Q8_0 does): each value
  // may differ by one level; side data (s, bsums) must be consistent with the level's own qs.
  for (std::string_view isa : available_isas()) {
    const KernelTable& k = *table_for(isa);
    for (DType at : test::activation_types()) {
      for (int64_t n : {256, 768, 4096}) {
        INFO(isa << " " << dtype_name(at) << " n " << n);
        const auto x = test::random_floats(static_cast<size_t>(n), static_cast<uint32_t>(n) * 3 + 7, 1.7f);
        std::vector<uint8_t> qs(test::bytes_of(at, n)), qk(qs.size());
        scalar_ref().quantize_act[slot(at)](x.data(), qs.data(), n);
        k.quantize_act[slot(at)](x.data(), qk.data(), n);
        std::vector<float> ds(n), dk(n);
        dequantize_row(at, qs.data(), ds.data(), n);
        dequantize_row(at, qk.data(), dk.data(), n);
        if (at == DType::F32 || at == DType::F16 || at == DType::BF16) {
          REQUIRE(std::memcmp(qs.data(), qk.data(), qs.size()) == 0);  // conversions are exact
          continue;
        }
        const int64_t bs = block_size(at);
        for (int64_t b = 0; b < n / bs; ++b) {
          float amax = 0;
          for (int64_t i = 0; i < bs; ++i) amax = std::max(amax, std::fabs(x[b * bs + i]));
          const double step = amax / 127.0;
          for (int64_t i = 0; i < bs; ++i)
            REQUIRE(std::fabs(dk[b * bs + i] - ds[b * bs + i]) <= 1.01 * step + 1e-12);
        }
        if (at == DType::Q8_K) {
          const auto* blocks = reinterpret_cast<const block_q8_K*>(qk.data());
          for (int64_t b = 0; b < n / 256; ++b)
            for (int g = 0; g < 16; ++g) {
              int sum = 0;
              for (int l = 0; l < 16; ++l) sum += blocks[b].qs[16 * g + l];
              REQUIRE(blocks[b].bsums[g] == sum);
            }
        }
      }
    }
  }
}

TEST_CASE("matmul of every level equals scalar within float reassociation error") {
  // Both sides get the same activation bytes (scalar quantize_act): integer block sums are exact in
  // any order, so the levels may differ only in float rounding: products of scales (FMA or not)
  // and the order of accumulation over at most `cols` terms. Any order of summing m terms errs by at
  // most m * eps * sum |terms|; m = cols bounds both the float types and the block-sum ones.
  for (std::string_view isa : available_isas()) {
    const KernelTable& k = *table_for(isa);
    for (DType wt : test::weight_types()) {
      const DType at = activation_type(wt);
      for (int64_t cols : cols_for(wt)) {
        for (int64_t rows : {1, 7, 33}) {
          for (int64_t n_tokens : {1, 3, 17}) {
            INFO(isa << " " << dtype_name(wt) << " rows " << rows << " cols " << cols << " tokens " << n_tokens);
            const auto w = test::random_weight_rows(wt, rows, cols, static_cast<uint32_t>(rows * 1000 + cols));
            const auto xf = test::random_floats(static_cast<size_t>(n_tokens * cols), static_cast<uint32_t>(n_tokens + cols));
            const size_t wrb = test::bytes_of(wt, cols), xrb = test::bytes_of(at, cols);
            std::vector<uint8_t> x(xrb * n_tokens);
            for (int64_t t = 0; t < n_tokens; ++t)
              scalar_ref().quantize_act[slot(at)](&xf[t * cols], &x[t * xrb], cols);

            std::vector<float> ys(rows * n_tokens, NAN), yk(rows * n_tokens, NAN);
            MatmulArgs a{wt, w.data(), wrb, rows, cols, x.data(), xrb, n_tokens, ys.data(), rows};
            scalar_ref().matmul[slot(wt)](a, 0, rows);
            a.y = yk.data();
            // split like a threaded caller would: two ranges
            k.matmul[slot(wt)](a, 0, rows / 2);
            k.matmul[slot(wt)](a, rows / 2, rows);

            expect_near_scalar(wt, w, x, rows, cols, n_tokens, ys, yk);
          }
        }
      }
    }
  }
}

// Several sequences decoding together hand the matmul a few tokens (below panel_min_tokens). The
// AVX-512 kernels of the types generation streams most take them in groups over the one-token
// tiles, so each token's outputs must be bit for bit what it gets alone.
TEST_CASE("avx512: a few tokens at once give each token its one-token bits") {
  const KernelTable* k = table_for("avx512");
  if (k == nullptr) {
    MESSAGE("skipped: this CPU has no avx512 level");
    return;
  }
  for (DType wt : {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q6_K}) {
    const DType at = activation_type(wt);
    // Q4_0 / Q8_0: 50 whole 4-block steps (past the prompt path's 48-step column chunks) and 3
    // leftover blocks; K-quants: 2 super-blocks.
    const int64_t cols = wt == DType::Q4_0 || wt == DType::Q8_0 ? 50 * 128 + 3 * 32 : 512;
    const int64_t rows = 16 + 8 + 4 + 1 + 16;  // every tile height, split in two ranges below
    const auto w = test::random_weight_rows(wt, rows, cols, 99);
    const size_t wrb = test::bytes_of(wt, cols), xrb = test::bytes_of(at, cols);
    REQUIRE(k->panel_min_tokens == kAvx512PanelMinTokens);  // so 8 tokens are tried too
    for (int64_t n = 2; n < k->panel_min_tokens; ++n) {
      INFO(dtype_name(wt) << " tokens " << n);
      const auto xf = test::random_floats(static_cast<size_t>(n * cols), static_cast<uint32_t>(n));
      std::vector<uint8_t> x(xrb * n);
      for (int64_t t = 0; t < n; ++t) k->quantize_act[slot(at)](&xf[t * cols], &x[t * xrb], cols);
      std::vector<float> together(rows * n, NAN), alone(rows * n, NAN);
      MatmulArgs a{wt, w.data(), wrb, rows, cols, x.data(), xrb, n, together.data(), rows};
      k->matmul[slot(wt)](a, 0, 32);
      k->matmul[slot(wt)](a, 32, rows);
      for (int64_t t = 0; t < n; ++t) {
        MatmulArgs one{wt, w.data(), wrb, rows, cols, &x[t * xrb], xrb, 1, &alone[t * rows], rows};
        k->matmul[slot(wt)](one, 0, 32);
        k->matmul[slot(wt)](one, 32, rows);
      }
      for (size_t i = 0; i < together.size(); ++i)
        REQUIRE(std::bit_cast<uint32_t>(together[i]) == std::bit_cast<uint32_t>(alone[i]));
    }
  }
}

TEST_CASE("generation's row groups: which rows take strides") {
  // 16 rows x 1152 bytes (Q4_0 or Q4_K at K = 2048) and 8 x 2304 (Q4_0 at K = 4096) space the
  // streams 18 KiB apart; spacings measured slower keep one row after another.
  CHECK(matvec_row_stride(DType::Q4_0, 1152) == 16);
  CHECK(matvec_row_stride(DType::Q4_K, 1152) == 16);
  CHECK(matvec_row_stride(DType::Q4_0, 2304) == 8);
  CHECK(matvec_row_stride(DType::Q4_0, 1728) == 1);   // K = 3072
  CHECK(matvec_row_stride(DType::Q4_0, 4608) == 1);   // K = 8192: stride 4, not measured faster
  CHECK(matvec_row_stride(DType::Q8_0, 2176) == 1);
  CHECK(matvec_row_stride(DType::Q6_K, 1680) == 1);
  CHECK(matvec_row_stride(DType::Q4_0, 0) == 1);
  CHECK(matvec_row_group(DType::Q4_0, 1152) == 256);
  CHECK(matvec_row_group(DType::Q4_K, 1152) == 128);
  CHECK(matvec_row_group(DType::Q8_0, 2176) == 16);
}

TEST_CASE("avx512: strided row groups give each row its one-row bits") {
  const KernelTable* k = table_for("avx512");
  if (k == nullptr) {
    MESSAGE("skipped: this CPU has no avx512 level");
    return;
  }
  for (DType wt : {DType::Q4_0, DType::Q4_K}) {
    const DType at = activation_type(wt);
    const int64_t cols = 2048;
    const size_t wrb = test::bytes_of(wt, cols), xrb = test::bytes_of(at, cols);
    const int64_t group = matvec_row_group(wt, wrb);
    REQUIRE(group > 16);
    // Two whole groups, then one split across two calls, then a tail of whole tiles and single rows.
    const int64_t rows = 4 * group + 16 + 5;
    const auto w = test::random_weight_rows(wt, rows, cols, 7);
    const auto xf = test::random_floats(static_cast<size_t>(cols), 8);
    std::vector<uint8_t> x(xrb);
    k->quantize_act[slot(at)](xf.data(), x.data(), cols);
    std::vector<float> grouped(rows, NAN), single(rows, NAN);
    MatmulArgs a{wt, w.data(), wrb, rows, cols, x.data(), xrb, 1, grouped.data(), rows};
    k->matmul[slot(wt)](a, 0, 2 * group);
    k->matmul[slot(wt)](a, 2 * group, 3 * group + 16);
    k->matmul[slot(wt)](a, 3 * group + 16, rows);
    a.y = single.data();
    for (int64_t r = 0; r < rows; ++r) k->matmul[slot(wt)](a, r, r + 1);
    for (int64_t r = 0; r < rows; ++r) {
      INFO(dtype_name(wt) << " row " << r);
      REQUIRE(!std::isnan(grouped[r]));
      REQUIRE(std::bit_cast<uint32_t>(grouped[r]) == std::bit_cast<uint32_t>(single[r]));
    }
  }
}

TEST_CASE("token panels hold the activations as kernels.h defines them") {
  for (std::string_view isa : available_isas()) {
    const KernelTable& k = *table_for(isa);
    if (!k.pack_panel) continue;
    for (DType at : {DType::Q8_0, DType::Q8_1, DType::Q8_K}) {
      const int64_t cols = at == DType::Q8_K ? 512 : 96;
      for (int64_t n_tokens : {1, 16, 21}) {
        INFO(isa << " " << dtype_name(at) << " tokens " << n_tokens);
        const auto xf = test::random_floats(static_cast<size_t>(n_tokens * cols), static_cast<uint32_t>(n_tokens * 7 + cols));
        const size_t xrb = test::bytes_of(at, cols);
        std::vector<uint8_t> x(xrb * n_tokens);
        for (int64_t t = 0; t < n_tokens; ++t) scalar_ref().quantize_act[slot(at)](&xf[t * cols], &x[t * xrb], cols);
        PanelBuffer packed;
        pack_all_panels(k, at, x.data(), xrb, cols, n_tokens, packed);
        REQUIRE(reinterpret_cast<uintptr_t>(packed.data()) % 64 == 0);
        std::vector<float> xd(cols);
        for (int64_t p = 0; p < panel_count(n_tokens); ++p) {
          const uint8_t* panel = packed.data() + panel_bytes(cols) * static_cast<size_t>(p);
          for (int64_t t = 0; t < kPanelTokens; ++t) {
            const int64_t tok = p * kPanelTokens + t;
            for (int64_t b = 0; b < cols / 32; ++b) {
              const uint8_t* blk = panel + static_cast<size_t>(b) * kPanelBlockBytes;
              float da, das;
              int32_t sum32, sum16;
              std::memcpy(&da, blk + kPanelDa + 4 * t, 4);
              std::memcpy(&das, blk + kPanelDas + 4 * t, 4);
              std::memcpy(&sum32, blk + kPanelSum + 4 * t, 4);
              std::memcpy(&sum16, blk + kPanelSumLo + 4 * t, 4);
              if (tok >= n_tokens) {  // padding
                for (int i = 0; i < 32; ++i) REQUIRE(blk[(i / 4 * 16 + t) * 4 + i % 4] == 0);
                REQUIRE(da == 0.0f);
                REQUIRE(das == 0.0f);
                REQUIRE(sum32 == 0);
                REQUIRE(sum16 == 0);
                continue;
              }
              // quants: the row's bytes; da times them: the dequantized activations
              dequantize_row(at, &x[tok * xrb], xd.data(), cols);
              int sum = 0;
              for (int i = 0; i < 32; ++i) {
                const int q = static_cast<int8_t>(blk[(i / 4 * 16 + t) * 4 + i % 4]);
                sum += q;
                if (i == 15) REQUIRE(sum16 == sum);
                REQUIRE(da * static_cast<float>(q) == xd[b * 32 + i]);
              }
              REQUIRE(sum32 == sum);
              if (at == DType::Q8_1) {  // ggml's own s (fp16 of d * sum), as vec_dot uses it
                const auto* q81 = reinterpret_cast<const block_q8_1*>(&x[tok * xrb]) + b;
                REQUIRE(das == fp16_to_f32(q81->s));
              } else {
                REQUIRE(das == da * static_cast<float>(sum));
              }
            }
          }
        }
      }
    }
  }
}

TEST_CASE("panel matmul of every level equals scalar within float reassociation error") {
  for (std::string_view isa : available_isas()) {
    const KernelTable& k = *table_for(isa);
    for (DType wt : test::weight_types()) {
      if (!k.matmul_panels[slot(wt)]) continue;
      REQUIRE(static_cast<bool>(k.pack_panel));
      const DType at = activation_type(wt);
      // past one 2048-column unpacking chunk, and block counts that are not a multiple of 4 or 8;
      // 29 tokens: two panels in one call (avx512), the second ragged; 37: a pair and a ragged single
      const std::vector<int64_t> cols_list =
          block_size(wt) == 256 ? std::vector<int64_t>{256, 2304} : std::vector<int64_t>{32, 96, 2080};
      for (int64_t cols : cols_list) {
        for (int64_t rows : {1, 7, 33}) {
          for (int64_t n_tokens : {kPanelMinTokens, int64_t{16}, int64_t{29}, int64_t{37}}) {
            INFO(isa << " " << dtype_name(wt) << " rows " << rows << " cols " << cols << " tokens " << n_tokens);
            const auto w = test::random_weight_rows(wt, rows, cols, static_cast<uint32_t>(rows * 1000 + cols + 5));
            const auto xf = test::random_floats(static_cast<size_t>(n_tokens * cols), static_cast<uint32_t>(n_tokens + cols + 9));
            const size_t wrb = test::bytes_of(wt, cols), xrb = test::bytes_of(at, cols);
            std::vector<uint8_t> x(xrb * n_tokens);
            for (int64_t t = 0; t < n_tokens; ++t) scalar_ref().quantize_act[slot(at)](&xf[t * cols], &x[t * xrb], cols);
            std::vector<float> ys(rows * n_tokens, NAN), yk(rows * n_tokens, NAN);
            MatmulArgs a{wt, w.data(), wrb, rows, cols, x.data(), xrb, n_tokens, ys.data(), rows};
            scalar_ref().matmul[slot(wt)](a, 0, rows);
            PanelBuffer packed;
            pack_all_panels(k, at, x.data(), xrb, cols, n_tokens, packed);
            a.xp = packed.data();
            a.y = yk.data();
            k.matmul_panels[slot(wt)](a, 0, rows / 2);
            k.matmul_panels[slot(wt)](a, rows / 2, rows);
            expect_near_scalar(wt, w, x, rows, cols, n_tokens, ys, yk);
          }
        }
      }
    }
  }
}

TEST_CASE("attention row kernels equal their single-row kernels bit for bit") {
  // Cache rows of head dimension hd inside rows of `stride` elements (the other KV heads), n rows:
  // dot_f16_rows and mad_f16_rows must give exactly what the same level's one-row kernels give, and
  // mad_f16_rows (whose arithmetic is rounding-exact) exactly what scalar's gives.
  const KernelTable& s = scalar_ref();
  for (std::string_view isa : available_isas()) {
    const KernelTable& k = *table_for(isa);
    REQUIRE(static_cast<bool>(k.dot_f16_rows));
    REQUIRE(static_cast<bool>(k.mad_f16_rows));
    for (int64_t hd : {8, 40, 64, 96, 100, 128, 256}) {  // 100: a tail past the last 8 dimensions
      const int64_t n = 29, stride = 3 * hd + 8, off = hd + 4;
      INFO(isa << " hd " << hd);
      const auto xf = test::random_floats(static_cast<size_t>(n * stride), static_cast<uint32_t>(hd) + 11, 2.0f);
      std::vector<uint16_t> rows(xf.size());
      s.f32_to_f16_row(xf.data(), rows.data(), static_cast<int64_t>(xf.size()));
      const auto q = test::random_floats(static_cast<size_t>(hd), static_cast<uint32_t>(hd) + 12);
      std::vector<float> got(n);
      k.dot_f16_rows(rows.data() + off, static_cast<size_t>(stride), q.data(), hd, n, got.data());
      for (int64_t i = 0; i < n; ++i)
        REQUIRE(std::bit_cast<uint32_t>(got[i]) ==
                std::bit_cast<uint32_t>(k.dot_f16_f32(rows.data() + off + i * stride, q.data(), hd)));

      // dot_f16_rows_multi: every query's scores exactly as its own dot_f16_rows call gives them
      REQUIRE(static_cast<bool>(k.dot_f16_rows_multi));
      for (int64_t nq : {1, 3, 5}) {
        std::vector<std::vector<float>> qs, outs(static_cast<size_t>(nq), std::vector<float>(static_cast<size_t>(n)));
        std::vector<const float*> qp;
        std::vector<float*> op;
        for (int64_t j = 0; j < nq; ++j) {
          qs.push_back(test::random_floats(static_cast<size_t>(hd), static_cast<uint32_t>(hd * 7 + j) + 100));
          qp.push_back(qs.back().data());
          op.push_back(outs[static_cast<size_t>(j)].data());
        }
        k.dot_f16_rows_multi(rows.data() + off, static_cast<size_t>(stride), qp.data(), nq, hd, n, op.data());
        for (int64_t j = 0; j < nq; ++j) {
          std::vector<float> want(static_cast<size_t>(n));
          k.dot_f16_rows(rows.data() + off, static_cast<size_t>(stride), qp[static_cast<size_t>(j)], hd, n, want.data());
          for (int64_t i = 0; i < n; ++i)
            REQUIRE(std::bit_cast<uint32_t>(outs[static_cast<size_t>(j)][static_cast<size_t>(i)]) ==
                    std::bit_cast<uint32_t>(want[static_cast<size_t>(i)]));
        }
      }

      // online-softmax factors: some rows rescale (ms < 1, vs = 1), the others add with vs < 1
      std::vector<float> ms(n, 1.0f), vs(n, 1.0f);
      for (int64_t i = 0; i < n; ++i) {
        if (i % 5 == 0) ms[i] = 0.25f + 0.02f * static_cast<float>(i);
        else vs[i] = 0.9f / static_cast<float>(i + 1);
      }
      std::vector<uint16_t> acc_rows(hd), acc_one(hd), acc_scalar(hd);
      for (int64_t d = 0; d < hd; ++d) acc_rows[d] = acc_one[d] = acc_scalar[d] = rows[(d * 13) % rows.size()];
      k.mad_f16_rows(acc_rows.data(), rows.data() + off, static_cast<size_t>(stride), ms.data(), vs.data(), n, hd);
      s.mad_f16_rows(acc_scalar.data(), rows.data() + off, static_cast<size_t>(stride), ms.data(), vs.data(), n, hd);
      for (int64_t i = 0; i < n; ++i) {
        if (ms[i] != 1.0f) k.scale_f16(acc_one.data(), ms[i], hd);
        k.mad_f16(acc_one.data(), rows.data() + off + i * stride, vs[i], hd);
      }
      REQUIRE(acc_rows == acc_one);
      REQUIRE(acc_rows == acc_scalar);

      // mad_f16_rows_multi: every query's accumulator exactly as its own mad_f16_rows call gives it,
      // for query counts around the levels' groups of 2 and 4 (a group, a group and a rest, ...)
      REQUIRE(static_cast<bool>(k.mad_f16_rows_multi));
      for (int64_t nq : {1, 2, 3, 4, 5, 9}) {
        INFO("queries " << nq);
        std::vector<std::vector<uint16_t>> acc_multi(static_cast<size_t>(nq)), acc_each(static_cast<size_t>(nq));
        std::vector<std::vector<float>> qms(static_cast<size_t>(nq)), qvs(static_cast<size_t>(nq));
        std::vector<uint16_t*> accp;
        std::vector<const float*> msp, vsp;
        for (int64_t j = 0; j < nq; ++j) {
          auto& am = acc_multi[static_cast<size_t>(j)];
          auto& qm = qms[static_cast<size_t>(j)];
          auto& qv = qvs[static_cast<size_t>(j)];
          qm.assign(static_cast<size_t>(n), 1.0f);
          qv.assign(static_cast<size_t>(n), 1.0f);
          for (int64_t i = 0; i < n; ++i) {  // each query rescales on different rows
            if ((i + j) % (4 + j) == 0) qm[static_cast<size_t>(i)] = 0.3f + 0.01f * static_cast<float>(i + j);
            else qv[static_cast<size_t>(i)] = 0.8f / static_cast<float>(i + j + 1);
          }
          am.resize(static_cast<size_t>(hd));
          for (int64_t d = 0; d < hd; ++d) am[static_cast<size_t>(d)] = rows[(d * 7 + j * 31) % rows.size()];
          acc_each[static_cast<size_t>(j)] = am;
          accp.push_back(am.data());
          msp.push_back(qm.data());
          vsp.push_back(qv.data());
        }
        k.mad_f16_rows_multi(accp.data(), msp.data(), vsp.data(), nq, rows.data() + off, static_cast<size_t>(stride), n,
                             hd);
        for (int64_t j = 0; j < nq; ++j) {
          s.mad_f16_rows(acc_each[static_cast<size_t>(j)].data(), rows.data() + off, static_cast<size_t>(stride),
                         msp[static_cast<size_t>(j)], vsp[static_cast<size_t>(j)], n, hd);
          REQUIRE(acc_multi[static_cast<size_t>(j)] == acc_each[static_cast<size_t>(j)]);
        }
      }

      // axpy_f16_rows_multi (the F32 attention's V sums): every query's sums exactly as the same
      // level's axpy_f16_f32 gives them row by row, and near the scalar reference's
      REQUIRE(static_cast<bool>(k.axpy_f16_rows_multi));
      for (int64_t nq : {1, 2, 3, 4, 5, 9}) {
        INFO("queries " << nq);
        std::vector<std::vector<float>> multi(static_cast<size_t>(nq)), each, ref, weights;
        std::vector<float*> accp;
        std::vector<const float*> pp;
        for (int64_t j = 0; j < nq; ++j) {
          multi[static_cast<size_t>(j)] =
              test::random_floats(static_cast<size_t>(hd), static_cast<uint32_t>(hd * 5 + j) + 300);
          weights.push_back(
              test::random_floats(static_cast<size_t>(n), static_cast<uint32_t>(hd * 3 + j) + 400, 0.5f));
          accp.push_back(multi[static_cast<size_t>(j)].data());
          pp.push_back(weights.back().data());
        }
        each = ref = multi;
        k.axpy_f16_rows_multi(accp.data(), pp.data(), nq, rows.data() + off, static_cast<size_t>(stride), n,
                              hd);
        for (int64_t j = 0; j < nq; ++j) {
          auto& e = each[static_cast<size_t>(j)];
          auto& r = ref[static_cast<size_t>(j)];
          for (int64_t i = 0; i < n; ++i) {
            k.axpy_f16_f32(pp[static_cast<size_t>(j)][i], rows.data() + off + i * stride, e.data(), hd);
            s.axpy_f16_f32(pp[static_cast<size_t>(j)][i], rows.data() + off + i * stride, r.data(), hd);
          }
          for (int64_t d = 0; d < hd; ++d) {
            REQUIRE(std::bit_cast<uint32_t>(multi[static_cast<size_t>(j)][static_cast<size_t>(d)]) ==
                    std::bit_cast<uint32_t>(e[static_cast<size_t>(d)]));
            REQUIRE(multi[static_cast<size_t>(j)][static_cast<size_t>(d)] ==
                    doctest::Approx(r[static_cast<size_t>(d)]).epsilon(1e-5).scale(8.0));
          }
        }
      }
    }
  }
}

TEST_CASE("exp_f32 of every level gives std::exp's bits") {
  // x86 computes glibc's expf algorithm in vectors; it must agree with the C library bit for bit
  // (llama.cpp's online softmax calls expf once per query and row). A sweep of every 61st float bit
  // pattern over [-104, 89] (about 19 million inputs: both signs, the subnormal results below -87.3,
  // underflow below -103.97, overflow above 88.72) plus the special values, in calls of odd lengths
  // so the vector tails run too, and once in place.
  std::vector<float> x;
  for (uint32_t b = 0; b <= 0x42b20000u; b += 61) x.push_back(std::bit_cast<float>(b));  // +0 .. 89
  for (uint32_t b = 0x80000000u; b <= 0xc2d00000u; b += 61) x.push_back(std::bit_cast<float>(b));  // -0 .. -104
  for (float v : {0.0f, -0.0f, 88.0f, -88.0f, 88.72283f, 88.72284f, -87.33654f, -103.97208f, -103.97209f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::denorm_min(),
                  -std::numeric_limits<float>::max()})
    x.push_back(v);
  std::vector<float> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = std::exp(x[i]);
  for (std::string_view isa : available_isas()) {
    const KernelTable& k = *table_for(isa);
    REQUIRE(static_cast<bool>(k.exp_f32));
    std::vector<float> got(x.size());
    size_t mismatches = 0, first_bad = 0;
    for (size_t i = 0; i < x.size();) {  // calls of 1, 7, 33, 1001, 4097 elements in turn
      static constexpr size_t kLens[] = {1, 7, 33, 1001, 4097};
      const size_t len = std::min(kLens[(i / 7) % 5], x.size() - i);
      k.exp_f32(x.data() + i, got.data() + i, static_cast<int64_t>(len));
      i += len;
    }
    for (size_t i = 0; i < x.size(); ++i)
      if (std::bit_cast<uint32_t>(got[i]) != std::bit_cast<uint32_t>(want[i]) && !(std::isnan(got[i]) && std::isnan(want[i])))
        if (mismatches++ == 0) first_bad = i;
    INFO(isa << ": first mismatch at x = " << x[first_bad] << " (got " << got[first_bad] << ", want " << want[first_bad] << ")");
    CHECK(mismatches == 0);
    std::vector<float> inplace(x.begin(), x.begin() + 5000);
    k.exp_f32(inplace.data(), inplace.data(), static_cast<int64_t>(inplace.size()));
    for (size_t i = 0; i < inplace.size(); ++i) REQUIRE(std::bit_cast<uint32_t>(inplace[i]) == std::bit_cast<uint32_t>(want[i]));
  }
}

TEST_CASE("softmax_factors of every level gives the scalar reference's bits") {
  // Scores that rise and fall, with runs of equal values (ties keep the earlier maximum), signed
  // zeros, a -inf, a NaN in some cases, differences large enough for exp to underflow, and lengths
  // around the 16-lane steps; starting from -inf (a query's first block) and from a finite maximum.
  const KernelTable& s = scalar_ref();
  for (std::string_view isa : available_isas()) {
    const KernelTable& k = *table_for(isa);
    REQUIRE(static_cast<bool>(k.softmax_factors));
    for (int64_t n : {1, 7, 16, 17, 32, 45, 100}) {
      for (int variant = 0; variant < 6; ++variant) {
        INFO(isa << " n " << n << " variant " << variant);
        auto x = test::random_floats(static_cast<size_t>(n), static_cast<uint32_t>(n * 13 + variant), 4.0f);
        for (int64_t i = 0; i < n; ++i) {
          if (variant == 1) x[static_cast<size_t>(i)] = static_cast<float>(i / 5);          // equal runs, rising
          if (variant == 2) x[static_cast<size_t>(i)] = static_cast<float>(i) * 1.5f;        // always rising
          if (variant == 3 && i % 3 == 0) x[static_cast<size_t>(i)] = i % 2 ? -0.0f : 0.0f;  // signed zeros
          if (variant == 4 && i == n / 2) x[static_cast<size_t>(i)] = std::numeric_limits<float>::quiet_NaN();
          if (variant == 5) x[static_cast<size_t>(i)] = i % 4 == 1 ? 900.0f : -900.0f;      // exp underflows
        }
        if (n > 3 && variant == 3) x[2] = -std::numeric_limits<float>::infinity();
        for (float m0 : {-std::numeric_limits<float>::infinity(), 0.5f}) {
          std::vector<float> ms(static_cast<size_t>(n)), vs(static_cast<size_t>(n)), ms_ref(ms.size()), vs_ref(vs.size());
          float m = 0, m_ref = 0;
          k.softmax_factors(x.data(), n, 0.125f, m0, &m, ms.data(), vs.data());
          s.softmax_factors(x.data(), n, 0.125f, m0, &m_ref, ms_ref.data(), vs_ref.data());
          REQUIRE(std::bit_cast<uint32_t>(m) == std::bit_cast<uint32_t>(m_ref));
          for (int64_t i = 0; i < n; ++i) {
            const size_t u = static_cast<size_t>(i);
            const bool nan_ok = std::isnan(ms[u]) && std::isnan(ms_ref[u]) && std::isnan(vs[u]) == std::isnan(vs_ref[u]);
            if (!nan_ok) REQUIRE(std::bit_cast<uint32_t>(ms[u]) == std::bit_cast<uint32_t>(ms_ref[u]));
            if (!(std::isnan(vs[u]) && std::isnan(vs_ref[u])))
              REQUIRE(std::bit_cast<uint32_t>(vs[u]) == std::bit_cast<uint32_t>(vs_ref[u]));
          }
        }
      }
    }
  }
}

// The gated activations (and softmax) of the vector levels share one exponential, written once with
// xsimd (kernels/portable/activations.h). Over the whole float range it must stay within a few ulp of
// the scalar reference and give the exact limits where e^x overflows or underflows.
TEST_CASE("gated activations and softmax of every level hold across the float range") {
  const KernelTable& s = scalar_ref();
  std::vector<float> g;
  for (float v = -104.0f; v <= 104.0f; v += 0.0137f) g.push_back(v);
  for (float v : {-88.8f, -88.72f, -87.34f, -87.33f, 87.33f, 88.72f, 88.73f, 0.0f, -0.0f, 1e-30f, -1e-30f}) g.push_back(v);
  const int64_t n = static_cast<int64_t>(g.size());
  std::vector<float> up(g.size());
  for (size_t i = 0; i < up.size(); ++i) up[i] = i % 3 == 0 ? 1.0f : (i % 3 == 1 ? -0.5f : 2.0f);
  std::vector<float> a(g.size()), b(g.size());
  for (std::string_view isa : available_isas()) {
    INFO(isa);
    const KernelTable& k = *table_for(isa);
    using Gated = void (*)(const float*, const float*, float*, int64_t);
    for (auto [name, ref, fn] : {std::tuple<const char*, Gated, Gated>{"silu_mul", s.silu_mul, k.silu_mul},
                                 std::tuple<const char*, Gated, Gated>{"gelu_tanh_mul", s.gelu_tanh_mul, k.gelu_tanh_mul}}) {
      INFO(name);
      ref(g.data(), up.data(), a.data(), n);
      fn(g.data(), up.data(), b.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        INFO("g " << g[i]);
        REQUIRE(std::isfinite(b[i]));
        REQUIRE(std::fabs(a[i] - b[i]) <= 2e-6 * std::fabs(g[i] * up[i]) + 1e-30);
        // Large positive gates pass through exactly (e^-g, e^-2z are 0 or below an ulp of 1): g u.
        if (g[i] > 20.0f) REQUIRE(b[i] == g[i] * up[i]);
      }
    }
    // A softmax spread over 200: the smallest terms underflow (scalar: denormals; vector: 0 or denormals).
    a = g;
    b = g;
    s.softmax(a.data(), n);
    k.softmax(b.data(), n);
    for (int64_t i = 0; i < n; ++i) REQUIRE(std::fabs(a[i] - b[i]) <= 1e-5 * a[i] + 1e-9);
  }
}

TEST_CASE("f16_to_f32_row of every level converts all 65536 halves exactly") {
  std::vector<uint16_t> h(65536 + 5);  // + 5: a tail past the vector steps
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint16_t>(i);
  std::vector<float> y(h.size());
  for (std::string_view isa : available_isas()) {
    INFO(isa);
    const KernelTable& k = *table_for(isa);
    std::fill(y.begin(), y.end(), -1.0f);
    k.f16_to_f32_row(h.data(), y.data(), static_cast<int64_t>(h.size()));
    for (size_t i = 0; i < h.size(); ++i) {
      INFO("half " << h[i]);
      REQUIRE(std::bit_cast<uint32_t>(y[i]) == std::bit_cast<uint32_t>(kernels::fp16_to_f32(h[i])));
    }
  }
}

TEST_CASE("float ops of every level equal scalar within per-op tolerances") {
  const KernelTable& s = scalar_ref();
  for (std::string_view isa : available_isas()) {
    const KernelTable& k = *table_for(isa);
    for (int64_t n : {1, 7, 33, 1001, 4097}) {
      INFO(isa << " n " << n);
      const auto x = test::random_floats(n, static_cast<uint32_t>(n) * 5 + 1, 3.0f);
      const auto w = test::random_floats(n, static_cast<uint32_t>(n) * 5 + 2);
      const auto up = test::random_floats(n, static_cast<uint32_t>(n) * 5 + 3);
      std::vector<float> a(n), b(n);

      s.rmsnorm(x.data(), w.data(), a.data(), n, 1e-5f, 1.0f);
      k.rmsnorm(x.data(), w.data(), b.data(), n, 1e-5f, 1.0f);
      for (int64_t i = 0; i < n; ++i) REQUIRE(std::fabs(a[i] - b[i]) <= (8 + n) * kEps * std::fabs(a[i]) + 1e-30);

      a = x;
      b = x;
      s.softmax(a.data(), n);
      k.softmax(b.data(), n);
      for (int64_t i = 0; i < n; ++i) REQUIRE(std::fabs(a[i] - b[i]) <= 1e-5 * a[i] + 1e-9);

      s.silu_mul(x.data(), up.data(), a.data(), n);
      k.silu_mul(x.data(), up.data(), b.data(), n);
      for (int64_t i = 0; i < n; ++i) REQUIRE(std::fabs(a[i] - b[i]) <= 2e-6 * std::fabs(x[i] * up[i]) + 1e-30);

      s.gelu_tanh_mul(x.data(), up.data(), a.data(), n);
      k.gelu_tanh_mul(x.data(), up.data(), b.data(), n);
      for (int64_t i = 0; i < n; ++i) REQUIRE(std::fabs(a[i] - b[i]) <= 2e-6 * std::fabs(x[i] * up[i]) + 1e-30);

      std::vector<uint16_t> h(n), h2(n);
      s.f32_to_f16_row(x.data(), h.data(), n);
      k.f32_to_f16_row(x.data(), h2.data(), n);
      REQUIRE(h == h2);  // rounding to nearest even has one answer

      // F16 accumulators: one rounding per element, bit-exact at every level (also at the F16 range's
      // edges: large scales overflow to infinity alike).
      for (float sc : {0.75f, -1.3f, 3.0e4f}) {
        std::vector<uint16_t> acc_s(n), acc_k(n);
        for (int64_t i = 0; i < n; ++i) acc_s[i] = acc_k[i] = h[(i * 7 + 3) % n];
        s.mad_f16(acc_s.data(), h.data(), sc, n);
        k.mad_f16(acc_k.data(), h.data(), sc, n);
        REQUIRE(acc_s == acc_k);
        s.scale_f16(acc_s.data(), sc, n);
        k.scale_f16(acc_k.data(), sc, n);
        REQUIRE(acc_s == acc_k);
      }

      double mag = 0;
      for (int64_t i = 0; i < n; ++i) mag += std::fabs(fp16_to_f32(h[i]) * w[i]);
      CHECK(std::fabs(s.dot_f16_f32(h.data(), w.data(), n) - k.dot_f16_f32(h.data(), w.data(), n)) <=
            2.0 * n * kEps * mag + 1e-30);

      a = up;
      b = up;
      s.axpy_f16_f32(0.75f, h.data(), a.data(), n);
      k.axpy_f16_f32(0.75f, h.data(), b.data(), n);
      for (int64_t i = 0; i < n; ++i)
        REQUIRE(std::fabs(a[i] - b[i]) <= 2 * kEps * (std::fabs(up[i]) + 0.75 * std::fabs(fp16_to_f32(h[i]))) + 1e-30);
    }
    for (bool neox : {false, true}) {
      const int64_t n_heads = 5, head_dim = 72, rope_dim = 64;
      std::vector<float> cos(rope_dim / 2), sin(rope_dim / 2);
      for (int64_t i = 0; i < rope_dim / 2; ++i) {
        cos[i] = std::cos(0.3f * (i + 1));
        sin[i] = std::sin(0.3f * (i + 1));
      }
      auto a = test::random_floats(n_heads * head_dim, 77);
      auto b = a;
      const auto orig = a;
      s.rope(a.data(), n_heads, head_dim, rope_dim, cos.data(), sin.data(), neox);
      k.rope(b.data(), n_heads, head_dim, rope_dim, cos.data(), sin.data(), neox);
      for (size_t i = 0; i < a.size(); ++i) REQUIRE(std::fabs(a[i] - b[i]) <= 4 * kEps * (std::fabs(orig[i]) + 4.0));
    }
  }
}
