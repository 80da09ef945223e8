// The NEON kernel table: the entries with NEON code; dispatch.cpp takes the rest from scalar.
#include "kernels/arm/neon_kernels.h"
#include "kernels/isa_tables.h"

namespace slm::kernels {

const KernelTable& neon_table() {
  static const KernelTable table = [] {
    KernelTable t{};
    t.isa = "neon";
    t.matmul[slot(DType::Q8_0)] = neon::matmul_q8_0;
    t.matmul[slot(DType::Q4_0)] = neon::matmul_q4_0;
    t.matmul[slot(DType::Q4_K)] = neon::matmul_q4_K;
    t.matmul[slot(DType::Q6_K)] = neon::matmul_q6_K;
    t.matmul[slot(DType::Q5_0)] = neon::matmul_q5_0;
    t.matmul[slot(DType::Q5_K)] = neon::matmul_q5_K;
    t.matmul[slot(DType::IQ4_NL)] = neon::matmul_iq4_nl;
    t.matmul[slot(DType::Q4_1)] = neon::matmul_q4_1;
    t.matmul[slot(DType::Q5_1)] = neon::matmul_q5_1;
    t.matmul[slot(DType::Q2_K)] = neon::matmul_q2_K;
    t.matmul[slot(DType::Q3_K)] = neon::matmul_q3_K;
    t.matmul[slot(DType::F32)] = neon::matmul_f32;
    t.matmul[slot(DType::F16)] = neon::matmul_f16;
    t.matmul[slot(DType::BF16)] = neon::matmul_bf16;
    t.matmul_panels[slot(DType::Q8_0)] = neon::matmul_panels_q8_0;
    t.matmul_panels[slot(DType::Q4_0)] = neon::matmul_panels_q4_0;
    t.matmul_panels[slot(DType::Q4_K)] = neon::matmul_panels_q4_K;
    t.matmul_panels[slot(DType::Q6_K)] = neon::matmul_panels_q6_K;
    t.matmul_panels[slot(DType::Q5_0)] = neon::matmul_panels_q5_0;
    t.matmul_panels[slot(DType::Q5_K)] = neon::matmul_panels_q5_K;
    t.matmul_panels[slot(DType::IQ4_NL)] = neon::matmul_panels_iq4_nl;
    t.matmul_panels[slot(DType::Q4_1)] = neon::matmul_panels_q4_1;
    t.matmul_panels[slot(DType::Q5_1)] = neon::matmul_panels_q5_1;
    t.matmul_panels[slot(DType::Q2_K)] = neon::matmul_panels_q2_K;
    t.matmul_panels[slot(DType::Q3_K)] = neon::matmul_panels_q3_K;
    t.pack_panel = neon::pack_panel;
    t.quantize_act[slot(DType::Q8_0)] = neon::quantize_act_q8_0;
    t.quantize_act[slot(DType::Q8_1)] = neon::quantize_act_q8_1;
    t.quantize_act[slot(DType::Q8_K)] = neon::quantize_act_q8_K;
    t.rmsnorm = neon::rmsnorm;
    t.softmax = neon::softmax;
    t.silu_mul = neon::silu_mul;
    t.gelu_tanh_mul = neon::gelu_tanh_mul;
    t.rope = neon::rope;
    t.dot_f16_f32 = neon::dot_f16_f32;
    t.dot_f16_rows = neon::dot_f16_rows;
    t.dot_f16_rows_multi = neon::dot_f16_rows_multi;
    t.axpy_f16_f32 = neon::axpy_f16_f32;
    t.axpy_f16_rows_multi = neon::axpy_f16_rows_multi;
    t.f32_to_f16_row = neon::f32_to_f16_row;
    t.f16_to_f32_row = neon::f16_to_f32_row;
    return t;
  }();
  return table;
}

}  // namespace slm::kernels
