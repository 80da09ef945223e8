// Included last by the scalar reference sources: forbids fusing a*b+c into one FMA in the code that
// follows, so results are bit-identical to ggml's reference (which rounds every product) whatever
// -march the build uses (SLM_NATIVE). SIMD kernels do not include this; they are compared with a
// tolerance instead.
#pragma once

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
