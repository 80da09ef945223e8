// The AVX-512 (F/BW/VL/VNNI/BF16) kernel table: the matmuls of matmul_avx512.cpp and the F16 attention
// accumulator of float_ops_avx512.cpp; everything else comes from the AVX2 table below it (dispatch.cpp
// composes them).
#include "kernels/isa_tables.h"
#include "kernels/x86/x86.h"

namespace slm::kernels {

const KernelTable& avx512_table() {
  static const KernelTable table = [] {
    KernelTable t{};
    t.isa = "avx512";
    t.panel_min_tokens = kAvx512PanelMinTokens;
    t.matvec_row_group = kernels::matvec_row_group;
    // Q4_0 generation reads 4-row groups faster (kernels.h, "repacked layouts")
    t.load_layout = [](DType type, int64_t rows, int64_t cols) {
      return can_repack_r4(type, rows, cols) ? DType::Q4_0_R4 : type;
    };
    x86::add_matmul_avx512(t);
    x86::add_float_ops_avx512(t);
    return t;
  }();
  return table;
}

}  // namespace slm::kernels
