// Portable vector code, written once with xsimd and compiled by each ISA's translation unit at its own
// register width: kernels/x86/float_ops_avx2.cpp instantiates it for xsimd::fma3<xsimd::avx2> (8 lanes),
// kernels/arm/float_ops_neon.cpp for xsimd::neon64 (4 lanes). What lives here needs nothing an ISA
// does differently: an exponential and the gated activations built on it. The kernels that depend on
// one ISA's instructions (vpdpbusd, vpermt2b, sdot, F16 conversions) stay in intrinsics.
//
// Internal linkage (see kernels/x86/tile_driver.h): each translation unit compiles its own copy, for
// its own instruction set.
#pragma once

#include <xsimd/xsimd.hpp>

#include <cmath>
#include <cstdint>

namespace slm::kernels::portable {
namespace {

// e^x in every lane, within 2 ulp of expf over the float range. x = k ln2 + r with k = round(x / ln2)
// and |r| <= ln2 / 2 (ln2 split in two parts so r is exact to ~2^-32), e^r by its degree-7 Taylor
// polynomial (truncation error 5e-9 relative), times 2^k built in the exponent bits.
// x > 88.72 gives +inf, x < -87.33 gives +0 (e^x there is below the smallest normal float); NaN stays NaN
// through the min/max clamp only where the ISA's min/max propagate it, so callers do not pass NaN.
template <class Arch>
inline xsimd::batch<float, Arch> exp(xsimd::batch<float, Arch> x) {
  using F = xsimd::batch<float, Arch>;
  using I = xsimd::batch<int32_t, Arch>;
  const F hi_limit(88.7228394f), lo_limit(-87.3365479f);
  const auto overflow = x > hi_limit;
  const auto underflow = x < lo_limit;
  const F xc = xsimd::min(xsimd::max(x, lo_limit), hi_limit);

  const F k = xsimd::nearbyint(xc * F(1.44269504088896341f));
  F r = xsimd::fnma(k, F(0.693359375f), xc);  // ln2 high part: 9 significant bits, k * hi exact
  r = xsimd::fnma(k, F(-2.12194440e-4f), r);   // ln2 low part

  F p(1.0f / 5040.0f);
  p = xsimd::fma(p, r, F(1.0f / 720.0f));
  p = xsimd::fma(p, r, F(1.0f / 120.0f));
  p = xsimd::fma(p, r, F(1.0f / 24.0f));
  p = xsimd::fma(p, r, F(1.0f / 6.0f));
  p = xsimd::fma(p, r, F(0.5f));
  p = xsimd::fma(p, r, F(1.0f));
  p = xsimd::fma(p, r, F(1.0f));

  // 2^k for k in [-126, 128]: split in two factors so k = 128 (x near the top limit) stays finite
  const I ki = xsimd::to_int(k);  // k is integral: truncation and rounding agree
  const I k1 = ki >> 1, k2 = ki - k1;
  const F s1 = xsimd::bitwise_cast<F>((k1 + I(127)) << 23);
  const F s2 = xsimd::bitwise_cast<F>((k2 + I(127)) << 23);
  F e = (p * s1) * s2;
  e = xsimd::select(overflow, F(INFINITY), e);
  return xsimd::select(underflow, F(0.0f), e);
}

// silu(g) * u = g / (1 + e^-g) * u.
template <class Arch>
inline xsimd::batch<float, Arch> silu_mul(xsimd::batch<float, Arch> g, xsimd::batch<float, Arch> u) {
  using F = xsimd::batch<float, Arch>;
  return (g / (F(1.0f) + exp<Arch>(-g))) * u;
}

// gelu_tanh(g) * u: 0.5 g (1 + tanh(z)) = g / (1 + e^(-2z)), z = sqrt(2/pi) (g + 0.044715 g^3): no
// cancellation near z = 0, and e^(-2z) -> inf / 0 gives the limits 0 and g exactly.
template <class Arch>
inline xsimd::batch<float, Arch> gelu_tanh_mul(xsimd::batch<float, Arch> g, xsimd::batch<float, Arch> u) {
  using F = xsimd::batch<float, Arch>;
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kCoefA = 0.044715f;
  const F inner = (g * F(kSqrt2OverPi)) * (F(1.0f) + (g * g) * F(kCoefA));
  return (g / (F(1.0f) + exp<Arch>(inner * F(-2.0f)))) * u;
}

// out[i] = op(gate[i], up[i]) for any n; the tail goes through the same lanes (zero-padded), so every
// element sees the same function. out may alias gate or up: a tail is read before it is written.
template <class Arch, class Op>
inline void map_gated(const float* gate, const float* up, float* out, int64_t n, Op op) {
  using F = xsimd::batch<float, Arch>;
  constexpr int64_t W = static_cast<int64_t>(F::size);
  int64_t i = 0;
  for (; i + W <= n; i += W) op(F::load_unaligned(gate + i), F::load_unaligned(up + i)).store_unaligned(out + i);
  if (i < n) {
    float g[W] = {}, u[W] = {}, o[W];
    for (int64_t j = i; j < n; ++j) {
      g[j - i] = gate[j];
      u[j - i] = up[j];
    }
    op(F::load_unaligned(g), F::load_unaligned(u)).store_unaligned(o);
    for (int64_t j = i; j < n; ++j) out[j] = o[j - i];
  }
}

template <class Arch>
void silu_mul_rows(const float* gate, const float* up, float* out, int64_t n) {
  map_gated<Arch>(gate, up, out, n, [](auto g, auto u) { return silu_mul<Arch>(g, u); });
}

template <class Arch>
void gelu_tanh_mul_rows(const float* gate, const float* up, float* out, int64_t n) {
  map_gated<Arch>(gate, up, out, n, [](auto g, auto u) { return gelu_tanh_mul<Arch>(g, u); });
}

}  // namespace
}  // namespace slm::kernels::portable
