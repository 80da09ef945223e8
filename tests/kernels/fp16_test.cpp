// fp16 / bf16 conversions: exact decoding, round-to-nearest-even encoding, specials; checked against
// an independent double-precision rounding and, where the CPU has F16C, against the hardware.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "kernels/fp16.h"
#include "kernels/kernels.h"  // cpu_features

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

using namespace slm::kernels;

namespace {

// Value of a finite half from its fields, in double: the definition, not the bit trick under test.
double half_value(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  const double mag = exp == 0 ? std::ldexp(mant, -24) : std::ldexp(1024 + mant, exp - 25);
  return sign ? -mag : mag;
}

// Round-to-nearest-even to half by search over the finite halves of the right sign (reference).
uint16_t reference_f32_to_fp16(float f) {
  if (std::isnan(f)) return 0x7E00;
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(f));
  if (a >= 65520.0) return sign | 0x7C00;  // 65520 is the tie between 65504 and 2^16: even is inf
  // halves of one sign are ordered like their bit patterns: binary search for the neighbours
  uint16_t lo = 0, hi = 0x7BFF;
  while (lo < hi) {  // largest h with half_value(h) <= a
    const uint16_t mid = static_cast<uint16_t>((lo + hi + 1) / 2);
    if (half_value(mid) <= a) lo = mid; else hi = static_cast<uint16_t>(mid - 1);
  }
  uint16_t best = lo;
  if (lo < 0x7BFF) {
    const double below = a - half_value(lo), above = half_value(lo + 1) - a;
    if (above < below || (above == below && (lo & 1))) best = static_cast<uint16_t>(lo + 1);
  }
  return sign | best;
}

uint16_t reference_f32_to_bf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t down = static_cast<uint16_t>(x >> 16);
  const double v = f;
  const double lo = bf16_to_f32(down), hi = bf16_to_f32(static_cast<uint16_t>(down + 1));  // same sign
  const double d_lo = std::fabs(v - lo), d_hi = std::fabs(hi - v);
  if (d_hi < d_lo || (d_hi == d_lo && (down & 1))) return static_cast<uint16_t>(down + 1);
  return down;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("f16c"))) uint16_t hw_f32_to_fp16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float hw_fp16_to_f32(uint16_t h) { return _cvtsh_ss(h); }
#endif

}  // namespace

TEST_CASE("fp16_to_f32 decodes every half exactly") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const auto bits = static_cast<uint16_t>(h);
    const float f = fp16_to_f32(bits);
    const int exp = (h >> 10) & 0x1F;
    if (exp == 0x1F) {
      if (h & 0x3FF) {
        REQUIRE(std::isnan(f));
      } else {
        REQUIRE(std::isinf(f));
        REQUIRE(std::signbit(f) == static_cast<bool>(h & 0x8000));
      }
      continue;
    }
    REQUIRE(static_cast<double>(f) == half_value(bits));
    REQUIRE(std::signbit(f) == static_cast<bool>(h & 0x8000));  // -0 stays -0
    REQUIRE(f32_to_fp16(f) == bits);                              // and round-trips
  }
}

TEST_CASE("f32_to_fp16 rounds to nearest even at the edges") {
  CHECK(f32_to_fp16(0.0f) == 0x0000);
  CHECK(f32_to_fp16(-0.0f) == 0x8000);
  CHECK(f32_to_fp16(1.0f) == 0x3C00);
  CHECK(f32_to_fp16(65504.0f) == 0x7BFF);                        // largest half
  CHECK(f32_to_fp16(65519.996f) == 0x7BFF);                      // just below the tie
  CHECK(f32_to_fp16(65520.0f) == 0x7C00);                        // tie to even: inf
  CHECK(f32_to_fp16(1e9f) == 0x7C00);
  CHECK(f32_to_fp16(-std::numeric_limits<float>::infinity()) == 0xFC00);
  CHECK((f32_to_fp16(std::numeric_limits<float>::quiet_NaN()) & 0x7FFF) > 0x7C00);
  CHECK(f32_to_fp16(std::ldexp(1.0f, -24)) == 0x0001);           // smallest subnormal
  CHECK(f32_to_fp16(std::ldexp(1.0f, -25)) == 0x0000);           // half of it: tie to even (0)
  CHECK(f32_to_fp16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)) == 0x0001);
  CHECK(f32_to_fp16(std::ldexp(3.0f, -25)) == 0x0002);           // 1.5 ulp: tie to even (2)
  CHECK(f32_to_fp16(std::ldexp(1023.5f, -24)) == 0x0400);        // rounds up into the normals
  CHECK(f32_to_fp16(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);    // tie, even is 1.0
  CHECK(f32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);  // tie, even is up
  CHECK(f32_to_fp16(-1e-30f) == 0x8000);
}

TEST_CASE("f32_to_fp16 matches an independent rounding on random floats") {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<uint32_t> bits_dist;
  std::uniform_real_distribution<float> exp_dist(-28.0f, 17.0f);
  for (int i = 0; i < 200000; ++i) {
    // half the samples over all bit patterns, half concentrated on the half range and its edges
    const float f = (i & 1) ? std::bit_cast<float>(bits_dist(rng))
                            : std::exp2(exp_dist(rng)) * ((bits_dist(rng) & 1) ? -1.0f : 1.0f);
    if (std::isnan(f)) {
      REQUIRE(std::isnan(fp16_to_f32(f32_to_fp16(f))));
      continue;
    }
    INFO("f = " << f);
    REQUIRE(f32_to_fp16(f) == reference_f32_to_fp16(f));
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
TEST_CASE("fp16 conversions agree with F16C hardware") {
  if (!cpu_features().f16c) {
    MESSAGE("skipped: no F16C on this CPU");
    return;
  }
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const auto bits = static_cast<uint16_t>(h);
    const float a = fp16_to_f32(bits), b = hw_fp16_to_f32(bits);
    REQUIRE(std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b));  // NaN payloads included
  }
  // every 4099th float (a prime stride covers all exponents and mantissa patterns)
  for (uint64_t x = 0; x <= 0xFFFFFFFFull; x += 4099) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(x));
    if (std::isnan(f)) continue;  // payload propagation differs by design (ggml's canonical NaN)
    REQUIRE(f32_to_fp16(f) == hw_f32_to_fp16(f));
  }
}
#endif

TEST_CASE("bf16 conversions") {
  CHECK(f32_to_bf16(1.0f) == 0x3F80);
  CHECK(bf16_to_f32(0x3F80) == 1.0f);
  CHECK(f32_to_bf16(-0.0f) == 0x8000);
  CHECK(f32_to_bf16(std::numeric_limits<float>::infinity()) == 0x7F80);
  CHECK(f32_to_bf16(std::numeric_limits<float>::max()) == 0x7F80);  // rounds past the largest bf16
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3F808000u)) == 0x3F80);  // tie, even is down
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3F818000u)) == 0x3F82);  // tie, even is up
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3F808001u)) == 0x3F81);  // above the tie
  CHECK(f32_to_bf16(std::bit_cast<float>(0x7F800001u)) == 0x7FC0);  // signalling NaN -> quiet NaN
  CHECK(f32_to_bf16(std::bit_cast<float>(0x00008000u)) == 0x0000);  // subnormal tie to even
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const auto bits = static_cast<uint16_t>(h);
    if ((h & 0x7F80) == 0x7F80 && (h & 0x7F)) continue;  // NaN
    REQUIRE(f32_to_bf16(bf16_to_f32(bits)) == bits);
  }
  std::mt19937 rng(777);
  std::uniform_int_distribution<uint32_t> bits_dist;
  for (int i = 0; i < 200000; ++i) {
    const float f = std::bit_cast<float>(bits_dist(rng));
    if (std::isnan(f) || std::isinf(f)) continue;
    if ((std::bit_cast<uint32_t>(f) & 0x7FFF0000u) == 0x7F7F0000u) continue;  // rounds to inf: checked above
    REQUIRE(f32_to_bf16(f) == reference_f32_to_bf16(f));
  }
}

TEST_CASE("conversions are usable at compile time") {
  static_assert(fp16_to_f32(0x3C00) == 1.0f);
  static_assert(f32_to_fp16(-2.0f) == 0xC000);
  static_assert(bf16_to_f32(f32_to_bf16(0.5f)) == 0.5f);
  CHECK(true);
}
