// IEEE half (fp16) and bfloat16 <-> float conversions, exact, in plain integer arithmetic.
//
// No intrinsics and no library calls, so the same functions serve the scalar reference, tests,
// compile-time tables and, marked SLM_HOST_DEVICE, a CUDA build. SIMD kernels use the hardware
// instructions (F16C, AVX512-BF16, NEON fp16), which round the same way; tests check they agree.
//
// float -> half/bf16 rounds to nearest, ties to even; overflow gives +-inf; values below half of the
// smallest half subnormal give +-0; NaN stays NaN (quiet). half/bf16 -> float is exact.
#pragma once

#include <bit>
#include <cstdint>

#if defined(__CUDACC__)
#define SLM_HOST_DEVICE __host__ __device__
#else
#define SLM_HOST_DEVICE
#endif

namespace slm::kernels {

SLM_HOST_DEVICE constexpr float fp16_to_f32(uint16_t h) noexcept {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  uint32_t bits;
  if (exp == 0x1F) {
    // inf, or NaN with its payload kept and the quiet bit set (as F16C does)
    bits = sign | 0x7F800000u | (mant << 13) | (mant ? 0x00400000u : 0u);
  } else if (exp != 0) {
    bits = sign | ((exp + (127 - 15)) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;  // +-0
  } else {
    // subnormal: value = mant * 2^-24; normalise so the leading 1 becomes the implicit bit
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | ((mant & 0x3FFu) << 13);
  }
  return std::bit_cast<float>(bits);
}

SLM_HOST_DEVICE constexpr uint16_t f32_to_fp16(float f) noexcept {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7FFFFFFFu;
  if (ax >= 0x7F800000u) {
    return static_cast<uint16_t>(sign | (ax == 0x7F800000u ? 0x7C00u : 0x7E00u));  // inf / quiet NaN
  }
  if (ax >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520 rounds past 65504
  const int32_t exp = static_cast<int32_t>(ax >> 23) - 127;               // unbiased float exponent
  if (exp >= -14) {
    // normal half: keep 10 of the 23 mantissa bits, round the 13 dropped ones to nearest even.
    // A carry out of the mantissa correctly bumps the exponent (and 65504 + carry is excluded above).
    const uint32_t h = ((static_cast<uint32_t>(exp + 15)) << 10) | ((ax >> 13) & 0x3FFu);
    const uint32_t rest = ax & 0x1FFFu;
    const uint32_t round_up = rest > 0x1000u || (rest == 0x1000u && (h & 1u));
    return static_cast<uint16_t>(sign | (h + round_up));
  }
  if (exp < -25) return sign;  // below 2^-25: rounds to zero (2^-25 itself is the tie handled below)
  // subnormal half: value = m * 2^-24 with m = full mantissa (implicit 1 included) >> shift
  const uint32_t full = (ax & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = static_cast<uint32_t>(-exp - 14 + 13);  // 14 .. 24
  const uint32_t m = full >> shift;
  const uint32_t rest = full & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  const uint32_t round_up = rest > half || (rest == half && (m & 1u));
  return static_cast<uint16_t>(sign | (m + round_up));  // m + 1 == 0x400 is the smallest normal: right
}

SLM_HOST_DEVICE constexpr float bf16_to_f32(uint16_t h) noexcept {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

// As ggml_compute_fp32_to_bf16: NaN keeps its top payload bits and is forced quiet; everything else
// rounds to nearest even (a carry into the exponent gives the next binade or inf, as it should).
SLM_HOST_DEVICE constexpr uint16_t f32_to_bf16(float f) noexcept {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + (0x7FFFu + ((x >> 16) & 1u))) >> 16);
}

}  // namespace slm::kernels
