// The AVX2 + FMA + F16C kernel table: what kernels/x86/*_avx2.cpp provide, nullptr elsewhere (dispatch
// fills those from scalar).
#include "kernels/isa_tables.h"
#include "kernels/x86/x86.h"

namespace slm::kernels {

const KernelTable& avx2_table() {
  static const KernelTable table = [] {
    KernelTable t{};
    t.isa = "avx2";
    x86::add_matmul_avx2(t);
    x86::add_quantize_act_avx2(t);
    x86::add_float_ops_avx2(t);
    return t;
  }();
  return table;
}

}  // namespace slm::kernels
