// expf as glibc computes it (sysdeps/ieee754/flt-32/e_expf.c, from Arm's optimized routines, built
// with FMA as its __expf_fma variant), for several floats at once, so vector code gets the same bits
// as a call to std::exp per element. In double precision:
//   z = x * 32 / ln 2;  k = round(z) (by adding 1.5 * 2^52, fused);  r = z - k (fused, from x);
//   exp(x) = 2^(k / 32) * (1 + c2 r + c1 r^2 + c0 r^3), 2^(k / 32) from a 32-entry table whose
//   entry i is the bits of 2^(i / 32) minus i << 47, so adding k << 47 sets the exponent.
// The table is 2^(i / 32) rounded to double; the constants are glibc's (poly_scaled, invln2_scaled).
// Inputs with |x| >= 88 or NaN take glibc's special-case path there (underflow, overflow,
// subnormal results); here the caller sends those lanes to std::exp. tests/kernels compares the
// vector kernels with std::exp over a dense sweep of [-104, 89] and the special values.
// Internal linkage (see tile_driver.h).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace slm::kernels::x86 {
namespace {

alignas(64) constexpr uint64_t kExpTab[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};
constexpr double kExpInvLn2N = 0x1.71547652b82fep+5;  // 32 / ln 2
constexpr double kExpShift = 0x1.8p+52;
constexpr double kExpC0 = 0x1.c6af84b912394p-20, kExpC1 = 0x1.ebfce50fac4f3p-13, kExpC2 = 0x1.62e42ff0c52d6p-6;
// |x| at or above this (as float bits without the sign: 88.0f) or NaN: glibc's special path.
constexpr uint32_t kExpSpecialAbs = 0x42b00000u;

// The lanes of one vector step that take the special path (bit l of mask: lane l, input xs[l]).
inline void exp_special_lanes(const float* xs, float* y, uint32_t mask) {
  for (; mask != 0; mask &= mask - 1) {
    const int l = std::countr_zero(mask);
    y[l] = std::exp(xs[l]);
  }
}

}  // namespace
}  // namespace slm::kernels::x86
