// On aarch64 the NEON level must really be in use where the CPU has what it needs, or the
// equivalence tests would silently compare scalar with itself (e.g. under qemu-user, whose default
// CPU has dotprod and fp16).
#include <doctest/doctest.h>

#include <string_view>

#include "kernels/kernels.h"

using namespace slm::kernels;

TEST_CASE("neon is available exactly where the CPU has ASIMD, dotprod and fp16") {
  const CpuFeatures f = cpu_features();
  const auto isas = available_isas();
  bool listed = false;
  for (std::string_view isa : isas) listed |= isa == "neon";
#if defined(__aarch64__)
  CHECK(listed == (f.neon && f.dotprod && f.fp16));
  if (listed) {
    CHECK(isas.back() == "neon");  // the best level
    const KernelTable* t = table_for("neon");
    REQUIRE(t != nullptr);
    CHECK(std::string_view(t->isa) == "neon");
    // entries with NEON code are not the scalar ones
    const KernelTable* s = table_for("scalar");
    CHECK((t->matmul[slot(slm::DType::Q4_0)] != s->matmul[slot(slm::DType::Q4_0)]));
    CHECK((t->quantize_act[slot(slm::DType::Q8_K)] != s->quantize_act[slot(slm::DType::Q8_K)]));
    CHECK((t->rmsnorm != s->rmsnorm));
  }
#else
  CHECK_FALSE(listed);
  CHECK_FALSE(f.neon);
#endif
}
