// The pieces the x86 kernel tables are assembled from (kernels/x86/table_*.cpp), one function per
// concept and ISA. Each fills only the entries it provides; dispatch.cpp takes the rest from below.
#pragma once

#include "kernels/kernels.h"

namespace slm::kernels::x86 {

void add_matmul_avx2(KernelTable& t);        // matmul_avx2.cpp
void add_quantize_act_avx2(KernelTable& t);  // quantize_act_avx2.cpp
void add_float_ops_avx2(KernelTable& t);     // float_ops_avx2.cpp
// The AVX2 dot_f16_rows, whose sums the AVX-512 one reproduces and hands its leftover rows.
void dot_f16_rows_avx2(const uint16_t* k, size_t stride, const float* q, int64_t hd, int64_t n, float* out);
// The AVX2 level's axpy_f16_f32 over rows and queries, in axpy_f16_rows_multi's order: the AVX2 and
// AVX-512 axpy_f16_rows_multi hand it the head dimensions their registers do not divide.
void axpy_f16_rows_loop_avx2(float* const* acc, const float* const* p, int64_t nq, const uint16_t* v,
                             size_t stride, int64_t n, int64_t hd);

void add_matmul_avx512(KernelTable& t);      // matmul_avx512.cpp
void add_float_ops_avx512(KernelTable& t);   // float_ops_avx512.cpp

}  // namespace slm::kernels::x86
