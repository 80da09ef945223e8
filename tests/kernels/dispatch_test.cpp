// Level selection: the SLM_ISA parser, table lookup, and what active() picked.
#include <doctest/doctest.h>

#include <array>
#include <cstdlib>
#include <string>
#include <string_view>

#include "kernels/kernels.h"

using namespace slm::kernels;

TEST_CASE("choose_isa: unset picks the best, an available level is honoured") {
  const std::array<std::string_view, 3> avail = {"scalar", "avx2", "avx512"};
  auto c = choose_isa(nullptr, avail);
  CHECK(c.isa == "avx512");
  CHECK(c.warning.empty());
  c = choose_isa("", avail);
  CHECK(c.isa == "avx512");
  CHECK(c.warning.empty());
  c = choose_isa("scalar", avail);
  CHECK(c.isa == "scalar");
  CHECK(c.warning.empty());
  c = choose_isa("avx2", avail);
  CHECK(c.isa == "avx2");
  CHECK(c.warning.empty());
  c = choose_isa("AVX2", avail);  // case does not matter
  CHECK(c.isa == "avx2");
  CHECK(c.warning.empty());
}

TEST_CASE("choose_isa: unknown or unavailable levels fall back to the best with a warning") {
  const std::array<std::string_view, 2> avail = {"scalar", "avx2"};
  auto c = choose_isa("avx512", avail);  // known, but this machine cannot run it
  CHECK(c.isa == "avx2");
  CHECK(c.warning.find("not available") != std::string::npos);
  CHECK(c.warning.find("using avx2") != std::string::npos);
  c = choose_isa("neon", avail);
  CHECK(c.isa == "avx2");
  CHECK(!c.warning.empty());
  c = choose_isa("sse9", avail);
  CHECK(c.isa == "avx2");
  CHECK(c.warning.find("not a known level") != std::string::npos);
  CHECK(c.warning.find("SLM_ISA=sse9") != std::string::npos);

  const std::array<std::string_view, 1> only_scalar = {"scalar"};
  c = choose_isa("avx2", only_scalar);
  CHECK(c.isa == "scalar");
  CHECK(!c.warning.empty());
  c = choose_isa("scalar", only_scalar);
  CHECK(c.isa == "scalar");
  CHECK(c.warning.empty());
}

TEST_CASE("table_for knows exactly the available levels") {
  REQUIRE(table_for("scalar") != nullptr);
  CHECK(std::string_view(table_for("scalar")->isa) == "scalar");
  CHECK(table_for("bogus") == nullptr);
  CHECK(table_for("") == nullptr);
  for (std::string_view level : {"avx2", "avx512", "neon"}) {
    bool listed = false;
    for (auto isa : available_isas()) listed |= isa == level;
    CHECK((table_for(level) != nullptr) == listed);
  }
}

TEST_CASE("each level says from how many tokens the panels run; levels above inherit it") {
  CHECK(table_for("scalar")->panel_min_tokens == kPanelMinTokens);
  if (const KernelTable* t = table_for("avx2")) CHECK(t->panel_min_tokens == kPanelMinTokens);
  if (const KernelTable* t = table_for("neon")) CHECK(t->panel_min_tokens == kPanelMinTokens);
  if (const KernelTable* t = table_for("avx512")) CHECK(t->panel_min_tokens == kAvx512PanelMinTokens);
}

TEST_CASE("only a level that reads rows in strided groups asks for chunks of whole groups") {
  CHECK_FALSE(static_cast<bool>(table_for("scalar")->matvec_row_group));
  if (const KernelTable* t = table_for("avx2")) CHECK_FALSE(static_cast<bool>(t->matvec_row_group));
  if (const KernelTable* t = table_for("neon")) CHECK_FALSE(static_cast<bool>(t->matvec_row_group));
  if (const KernelTable* t = table_for("avx512")) {
    REQUIRE(static_cast<bool>(t->matvec_row_group));
    CHECK(t->matvec_row_group(slm::DType::Q4_0, 1152) == 256);
    CHECK(t->matvec_row_group(slm::DType::Q8_0, 2176) == 16);
  }
}

TEST_CASE("active() is the level SLM_ISA selects among the available ones") {
  const auto avail = available_isas();
  const IsaChoice expected = choose_isa(std::getenv("SLM_ISA"), avail);
  CHECK(std::string_view(active().isa) == expected.isa);
  CHECK(&active() == table_for(expected.isa));
}

TEST_CASE("cpu_features is self-consistent") {
  const CpuFeatures f = cpu_features();
  // AVX-512 flags are only reported with OS support for the state, which implies AVX support
  if (f.avx512f) CHECK(f.avx2);
  if (f.avx512bw || f.avx512vl || f.avx512vbmi || f.avx512vnni || f.avx512bf16) CHECK(f.avx512f);
#if defined(__x86_64__)
  CHECK_FALSE(f.neon);
#endif
#if defined(__aarch64__) && defined(__linux__)
  CHECK(f.neon);  // every aarch64 Linux CPU has Advanced SIMD
#endif
}
