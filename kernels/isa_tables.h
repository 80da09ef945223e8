// The kernel tables each instruction-set level provides, for dispatch.cpp to compose.
//
// A level fills only the entries it has fast code for and leaves the rest nullptr: dispatch takes
// those from the level below (avx512 -> avx2 -> scalar, neon -> scalar). Adding a level is:
// define its function in its own sources (kernels/x86/*_avx2.cpp, ...), then list it in
// kCompiledLevels in dispatch.cpp (one line). tests/kernels/isa_equivalence_test.cpp then checks
// every entry against scalar.
#pragma once

#include "kernels/kernels.h"

namespace slm::kernels {

const KernelTable& scalar_table();  // kernels/scalar/table.cpp: every entry filled

#if defined(__x86_64__) || defined(_M_X64)
const KernelTable& avx2_table();    // AVX2 + FMA + F16C (to come: kernels/x86/)
const KernelTable& avx512_table();  // AVX-512 F/BW/VL/VNNI/BF16 (to come: kernels/x86/)
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
const KernelTable& neon_table();    // ARMv8.2 NEON + dotprod + fp16 (to come: kernels/arm/)
#endif

}  // namespace slm::kernels
