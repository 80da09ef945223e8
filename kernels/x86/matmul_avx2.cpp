// The AVX2 matmul entries: the block kernels of q8_0_family.h, k_quants.h and float_matmul.h in
// register tiles (tile_driver.h). 16 ymm registers: 4 rows x 2 tokens of float accumulators plus
// the decoded weight blocks (K-quant super-blocks spill to L1, which the loads absorb). Prompt-sized
// products of the 4-6 bit types go through token panels (panel_avx2.h).
#include "kernels/x86/float_matmul.h"
#include "kernels/x86/k_quants.h"
#include "kernels/x86/panel_avx2.h"
#include "kernels/x86/q8_0_family.h"
#include "kernels/x86/tile_driver.h"
#include "kernels/x86/x86.h"

namespace slm::kernels::x86 {

void add_matmul_avx2(KernelTable& t) {
  t.matmul[slot(DType::Q8_0)] = matmul_tiled<Q8_0Kernel, 4, 2>;
  t.matmul[slot(DType::Q4_0)] = matmul_tiled<Q4_0Kernel, 4, 2>;
  t.matmul[slot(DType::Q5_0)] = matmul_tiled<Q5_0Kernel, 4, 2>;
  t.matmul[slot(DType::Q4_1)] = matmul_tiled<Q4_1Kernel, 4, 2>;
  t.matmul[slot(DType::Q5_1)] = matmul_tiled<Q5_1Kernel, 4, 2>;
  t.matmul[slot(DType::Q4_K)] = matmul_tiled<Q4_KKernel, 4, 2>;
  t.matmul[slot(DType::Q5_K)] = matmul_tiled<Q5_KKernel, 4, 2>;
  t.matmul[slot(DType::Q6_K)] = matmul_tiled<Q6_KKernel, 4, 2>;
  t.matmul[slot(DType::IQ4_NL)] = matmul_tiled<IQ4_NLKernel, 4, 2>;
  t.matmul[slot(DType::Q2_K)] = matmul_tiled<Q2_KKernel, 4, 2>;
  t.matmul[slot(DType::Q3_K)] = matmul_tiled<Q3_KKernel, 4, 2>;
  t.matmul[slot(DType::F32)] = float_matmul<F32Elems, 4, 2>;
  t.matmul[slot(DType::F16)] = float_matmul<F16Elems, 4, 2>;
  t.matmul[slot(DType::BF16)] = float_matmul<BF16Elems, 4, 2>;

  // Prompt-sized products: token panels (panel_avx2.h), packed by the scalar packer. Not Q8_0 and
  // IQ4_NL: their 8-bit levels overflow vpmaddubsw's int16 pairs.
  t.matmul_panels[slot(DType::Q4_0)] = matmul_panels<PanelQ4_0, Avx2Panel>;
  t.matmul_panels[slot(DType::Q4_1)] = matmul_panels<PanelQ4_1, Avx2Panel>;
  t.matmul_panels[slot(DType::Q5_0)] = matmul_panels<PanelQ5_0, Avx2Panel>;
  t.matmul_panels[slot(DType::Q5_1)] = matmul_panels<PanelQ5_1, Avx2Panel>;
  t.matmul_panels[slot(DType::Q4_K)] = matmul_panels<PanelQ4_K, Avx2Panel>;
  t.matmul_panels[slot(DType::Q5_K)] = matmul_panels<PanelQ5_K, Avx2Panel>;
  t.matmul_panels[slot(DType::Q6_K)] = matmul_panels<PanelQ6_K, Avx2Panel>;
  t.matmul_panels[slot(DType::Q2_K)] = matmul_panels<PanelQ2_K, Avx2Panel>;
  t.matmul_panels[slot(DType::Q3_K)] = matmul_panels<PanelQ3_K, Avx2Panel>;
}

}  // namespace slm::kernels::x86
