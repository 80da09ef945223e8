// The scalar kernel table: the reference every other level is tested against, and the fallback for
// whatever a faster level leaves out.
#include "kernels/isa_tables.h"
#include "kernels/scalar/scalar.h"

namespace slm::kernels {

const KernelTable& scalar_table() {
  static const KernelTable table = [] {
    KernelTable t{};
    t.isa = "scalar";
    t.panel_min_tokens = kPanelMinTokens;
    for (size_t id = 0; id < kDTypeSlots; ++id) {
      const auto type = static_cast<DType>(id);
      t.matmul[id] = scalar::matmul_fn(type);
    }
    for (DType act : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q8_1, DType::Q8_K}) {
      t.quantize_act[slot(act)] = scalar::quantize_fn(act);
    }
    t.rmsnorm = scalar::rmsnorm;
    t.softmax = scalar::softmax;
    t.silu_mul = scalar::silu_mul;
    t.gelu_tanh_mul = scalar::gelu_tanh_mul;
    t.rope = scalar::rope;
    t.dot_f16_f32 = scalar::dot_f16_f32;
    t.axpy_f16_f32 = scalar::axpy_f16_f32;
    t.f32_to_f16_row = scalar::f32_to_f16_row;
    t.f16_to_f32_row = scalar::f16_to_f32_row;
    t.exp_f32 = scalar::exp_f32;
    t.softmax_factors = scalar::softmax_factors;
    t.mad_f16 = scalar::mad_f16;
    t.scale_f16 = scalar::scale_f16;
    t.dot_f16_rows = scalar::dot_f16_rows;
    t.dot_f16_rows_multi = scalar::dot_f16_rows_multi;
    t.mad_f16_rows = scalar::mad_f16_rows;
    t.mad_f16_rows_multi = scalar::mad_f16_rows_multi;
    t.axpy_f16_rows_multi = scalar::axpy_f16_rows_multi;
    t.pack_panel = scalar::pack_panel;  // no matmul_panels here: the plain matmul is the reference
    return t;
  }();
  return table;
}

}  // namespace slm::kernels
