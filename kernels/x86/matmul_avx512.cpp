// The AVX-512 matmul entries: Q4_0 and Q8_0 in 4-block zmm steps (q8_0_family_avx512.h); prompt-sized
// products of every block type through token panels (panel_avx512.h); the other
// types use the block kernels of matmul_avx2.cpp compiled with AVX-512 VNNI, where simd_util.h's
// dot_u8_s8 is one vpdpbusd instead of maddubs + madd, and 32 vector registers allow 4 rows x 4
// tokens of accumulators.
// GCC 12 reports its own _mm512_undefined_*() placeholders in avx512fintrin.h as uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include "kernels/x86/float_matmul.h"
#include "kernels/x86/k_quants.h"
#include "kernels/x86/k_quants_avx512.h"
#include "kernels/x86/panel_avx512.h"
#include "kernels/x86/q8_0_family.h"
#include "kernels/x86/q8_0_family_avx512.h"
#include "kernels/x86/tile_driver.h"
#include "kernels/x86/x86.h"

namespace slm::kernels::x86 {

void add_matmul_avx512(KernelTable& t) {
  t.matmul[slot(DType::Q8_0)] = matmul_quad<Q8_0Quad>;
  t.matmul[slot(DType::Q4_0)] = matmul_quad<Q4_0Quad>;
  t.matmul[slot(DType::Q4_0_R4)] = matmul_quad<Q4_0R4Quad>;
  t.matmul[slot(DType::Q5_0)] = matmul_tiled<Q5_0Kernel, 4, 4>;
  t.matmul[slot(DType::Q4_1)] = matmul_tiled<Q4_1Kernel, 4, 4>;
  t.matmul[slot(DType::Q5_1)] = matmul_tiled<Q5_1Kernel, 4, 4>;
  t.matmul[slot(DType::Q4_K)] = matmul_kquant_avx512<Q4KOps>;
  t.matmul[slot(DType::Q5_K)] = matmul_tiled<Q5_KKernel, 4, 4>;
  t.matmul[slot(DType::Q6_K)] = matmul_kquant_avx512<Q6KOps>;
  t.matmul[slot(DType::Q2_K)] = matmul_tiled<Q2_KKernel, 4, 4>;
  t.matmul[slot(DType::Q3_K)] = matmul_tiled<Q3_KKernel, 4, 4>;
  t.matmul[slot(DType::IQ4_NL)] = matmul_tiled<IQ4_NLKernel, 4, 4>;
  t.matmul[slot(DType::F32)] = float_matmul<F32Elems, 4, 4>;
  t.matmul[slot(DType::F16)] = float_matmul<F16Elems, 4, 4>;
  t.matmul[slot(DType::BF16)] = float_matmul<BF16Elems, 4, 4>;

  t.pack_panel = pack_panel_avx512;
  t.matmul_panels[slot(DType::Q4_0)] = matmul_panels<PanelQ4_0, Avx512Panel>;
  t.matmul_panels[slot(DType::Q4_0_R4)] = matmul_panels<PanelQ4_0R4, Avx512Panel>;
  t.matmul_panels[slot(DType::Q4_1)] = matmul_panels<PanelQ4_1, Avx512Panel>;
  t.matmul_panels[slot(DType::Q5_0)] = matmul_panels<PanelQ5_0, Avx512Panel>;
  t.matmul_panels[slot(DType::Q5_1)] = matmul_panels<PanelQ5_1, Avx512Panel>;
  t.matmul_panels[slot(DType::Q8_0)] = matmul_panels<PanelQ8_0, Avx512Panel>;
  t.matmul_panels[slot(DType::Q4_K)] = matmul_panels<PanelQ4_K, Avx512Panel>;
  t.matmul_panels[slot(DType::Q5_K)] = matmul_panels<PanelQ5_K, Avx512Panel>;
  t.matmul_panels[slot(DType::Q6_K)] = matmul_panels<PanelQ6_K, Avx512Panel>;
  t.matmul_panels[slot(DType::Q2_K)] = matmul_panels<PanelQ2_K, Avx512Panel>;
  t.matmul_panels[slot(DType::Q3_K)] = matmul_panels<PanelQ3_K, Avx512Panel>;
  t.matmul_panels[slot(DType::IQ4_NL)] = matmul_panels<PanelIQ4_NL, Avx512Panel>;
}

}  // namespace slm::kernels::x86
