// The AVX2 matmul entries: the block kernels of q8_0_family.h, k_quants.h and float_matmul.h in
// register tiles (tile_driver.h). 16 ymm registers: 4 rows x 2 tokens of float accumulators plus
// the decoded weight blocks (K-quant super-blocks spill to L1, which the loads absorb).
#include "kernels/x86/float_matmul.h"
#include "kernels/x86/k_quants.h"
#include "kernels/x86/q8_0_family.h"
#include "kernels/x86/tile_driver.h"
#include "kernels/x86/x86.h"

namespace slm::kernels::x86 {

void add_matmul_avx2(KernelTable& t) {
  t.matmul[slot(DType::Q8_0)] = matmul_tiled<Q8_0Kernel, 4, 2>;
  t.matmul[slot(DType::Q4_0)] = matmul_tiled<Q4_0Kernel, 4, 2>;
  t.matmul[slot(DType::Q5_0)] = matmul_tiled<Q5_0Kernel, 4, 2>;
  t.matmul[slot(DType::Q4_K)] = matmul_tiled<Q4_KKernel, 4, 2>;
  t.matmul[slot(DType::Q5_K)] = matmul_tiled<Q5_KKernel, 4, 2>;
  t.matmul[slot(DType::Q6_K)] = matmul_tiled<Q6_KKernel, 4, 2>;
  t.matmul[slot(DType::F32)] = float_matmul<F32Elems, 4, 2>;
  t.matmul[slot(DType::F16)] = float_matmul<F16Elems, 4, 2>;
  t.matmul[slot(DType::BF16)] = float_matmul<BF16Elems, 4, 2>;
}

}  // namespace slm::kernels::x86
