// The quant zoo (../shared/models/quant-zoo/): ggml's own quantized bytes and dequantized floats for
// every block format. Dequantization must reproduce ggml's floats bit for bit; the quantizers must
// reproduce ggml's reference bytes; and their error must be no worse than ggml's (README table).
#include <doctest/doctest.h>

#include <bit>
#include <cstring>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "kernels/kernels.h"
#include "tests/kernels/kernel_test_util.h"
#include "tests/support/shared_data.h"

using namespace slm;
using namespace slm::kernels;
namespace kt = slm::kernels::test;

namespace {

constexpr int64_t kZooRows = 8, kZooCols = 512;

// The 13 formats in the zoo, with ggml's relative RMSE on zoo.source (models/README.md).
struct ZooFormat {
  DType type;
  double ggml_rmse;
};
constexpr ZooFormat kZooFormats[] = {
    {DType::F16, 0.0002},  {DType::BF16, 0.0017}, {DType::Q4_0, 0.0892}, {DType::Q4_1, 0.0466},
    {DType::Q5_0, 0.0450}, {DType::Q5_1, 0.0215}, {DType::Q8_0, 0.0058}, {DType::Q2_K, 0.1972},
    {DType::Q3_K, 0.1516}, {DType::Q4_K, 0.0425}, {DType::Q5_K, 0.0215}, {DType::Q6_K, 0.0179},
    {DType::IQ4_NL, 0.0768},
};

std::string zoo_name(DType t) { return "zoo." + std::string(dtype_name(t)); }

const gguf::TensorInfo& require_tensor(const gguf::GgufFile& f, const std::string& name, DType type) {
  const gguf::TensorInfo* t = f.find_tensor(name);
  REQUIRE_MESSAGE(t != nullptr, name << " missing from " << f.name());
  REQUIRE(t->type == type);
  REQUIRE(t->shape.size() == 2);
  REQUIRE(t->shape[0] == static_cast<uint64_t>(kZooCols));
  REQUIRE(t->shape[1] == static_cast<uint64_t>(kZooRows));
  REQUIRE(t->n_bytes == kt::bytes_of(type, kZooCols) * kZooRows);
  return *t;
}

std::vector<float> floats_of(const gguf::TensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements));
  std::memcpy(v.data(), t.data, v.size() * sizeof(float));  // file bytes may be unaligned
  return v;
}

struct Zoo {
  gguf::GgufFile quant;
  gguf::GgufFile dequant;
};

std::optional<Zoo> open_zoo() {
  auto q = SLM_REQUIRE_SHARED("models/quant-zoo/quant-zoo.gguf");
  auto d = SLM_REQUIRE_SHARED("models/quant-zoo/quant-zoo-dequant.gguf");
  if (!q || !d) return std::nullopt;
  return Zoo{gguf::GgufFile::open(*q), gguf::GgufFile::open(*d)};
}

}  // namespace

TEST_CASE("dequantize_row reproduces ggml's floats bit for bit for all 13 zoo formats") {
  auto zoo = open_zoo();
  if (!zoo) return;
  for (const auto& fmt : kZooFormats) {
    const std::string name = zoo_name(fmt.type);
    INFO(name);
    const auto& q = require_tensor(zoo->quant, name, fmt.type);
    const auto expected = floats_of(require_tensor(zoo->dequant, name, DType::F32));
    REQUIRE(can_dequantize(fmt.type));
    const auto got = kt::dequantize_rows(fmt.type, q.data, kZooRows, kZooCols);
    int mismatches = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      if (std::bit_cast<uint32_t>(got[i]) != std::bit_cast<uint32_t>(expected[i])) {
        if (++mismatches <= 3) MESSAGE(name << "[" << i << "]: got " << got[i] << ", ggml " << expected[i]);
      }
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("quantizers reproduce ggml's reference bytes on zoo.source") {
  auto zoo = open_zoo();
  if (!zoo) return;
  const auto source = floats_of(require_tensor(zoo->quant, "zoo.source", DType::F32));
  // Q4_0 and Q8_0 are plain rounding; the K-quants follow ggml's scale searches step for step.
  for (DType t : {DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                  DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const std::string name = zoo_name(t);
    INFO(name);
    const auto& expected = require_tensor(zoo->quant, name, t);
    REQUIRE(can_quantize(t));
    const auto got = kt::quantize_rows(t, source.data(), kZooRows, kZooCols);
    REQUIRE(got.size() == expected.n_bytes);
    size_t first_diff = got.size();
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i] != expected.data[i]) {
        first_diff = i;
        break;
      }
    }
    CHECK_MESSAGE(first_diff == got.size(), name << ": first differing byte " << first_diff << " of " << got.size());
  }
}

TEST_CASE("quantize -> dequantize error on zoo.source is within ggml's bar") {
  auto zoo = open_zoo();
  if (!zoo) return;
  const auto source = floats_of(require_tensor(zoo->quant, "zoo.source", DType::F32));
  for (const auto& fmt : kZooFormats) {
    if (!can_quantize(fmt.type)) continue;  // IQ4_NL: no quantizer (dequantize and dot only)
    INFO(zoo_name(fmt.type));
    const auto q = kt::quantize_rows(fmt.type, source.data(), kZooRows, kZooCols);
    const auto back = kt::dequantize_rows(fmt.type, q.data(), kZooRows, kZooCols);
    const double rmse = kt::relative_rmse(back.data(), source.data(), source.size());
    MESSAGE(zoo_name(fmt.type) << ": relative RMSE " << rmse << " (ggml " << fmt.ggml_rmse << ")");
    // The README rounds ggml's figure to 4 decimals: allow that rounding (5e-5) plus 1% slack.
    CHECK(rmse <= fmt.ggml_rmse * 1.01 + 5e-5);
  }
}
