// Constants of the exp approximation that every SIMD backend implements (one algorithm, the
// constants shared):
//   n = round(x / ln2), r = x - n ln2 (Cody-Waite: ln2 = ln2_hi + ln2_lo, r in [-ln2/2, ln2/2]),
//   e^x = 2^n (1 + r (c1 + c2 r + ... )).
// Rounding uses the "magic number" trick: adding 1.5 * 2^mantissa_bits to x / ln2 leaves
// round(x/ln2) in the low mantissa bits, and adding the exponent bias as well leaves the biased
// exponent of 2^n there, ready to be shifted into place. The coefficients come from
// scripts/fit_exp_polynomial.py, which also measures the polynomial's error: 1.47 eps (float,
// degree 5), 0.77 eps (double, degree 13) over [-ln2/2, ln2/2].
#pragma once

#include <array>
#include <cstdint>

namespace simdiff::detail {

template <class T>
struct ExpPolynomial;

template <>
struct ExpPolynomial<float> {
  using Bits = std::int32_t;
  static constexpr int kMantissaBits = 23;
  static constexpr Bits kExponentBias = 127;
  static constexpr float kLog2e = 0x1.715476p+0f;
  static constexpr float kLn2Hi = 0x1.62e400p-1f;
  static constexpr float kLn2Lo = 0x1.7f7d1cp-20f;
  static constexpr float kRoundMagic = 0x1.8p23f;
  // Below ln(FLT_MIN) the result is not a normal number: the hot loops flush it to zero.
  static constexpr float kMinNormalInput = -0x1.5d58a0p+6f;  // -87.33655
  // Below ln(smallest subnormal / 2) even gradual underflow gives zero.
  static constexpr float kZeroBelow = -0x1.9fe368p+6f;  // -103.97208
  // Above ln(FLT_MAX) the result overflows.
  static constexpr float kInfinityAbove = 0x1.62e42ep+6f;  // 88.72283
  static constexpr std::array<float, 5> kCoefficients = {
      0x1.fffff6p-1f, 0x1.fffdc6p-2f, 0x1.555a6ap-3f, 0x1.573a54p-5f, 0x1.0fa822p-7f};
};

template <>
struct ExpPolynomial<double> {
  using Bits = std::int64_t;
  static constexpr int kMantissaBits = 52;
  static constexpr Bits kExponentBias = 1023;
  static constexpr double kLog2e = 0x1.71547652b82fep+0;
  static constexpr double kLn2Hi = 0x1.62e42fee00000p-1;
  static constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;
  static constexpr double kRoundMagic = 0x1.8p52;
  static constexpr double kMinNormalInput = -0x1.6232bdd7abcd2p+9;  // -708.39642
  static constexpr double kZeroBelow = -0x1.74910d52d3052p+9;       // -745.13321
  static constexpr double kInfinityAbove = 0x1.62e42fefa39efp+9;    // 709.78271
  static constexpr std::array<double, 13> kCoefficients = {
      0x1.0000000000000p+0,  0x1.0000000000000p-1,  0x1.5555555555555p-3,  0x1.5555555555555p-5,
      0x1.1111111111111p-7,  0x1.6c16c16c16c17p-10, 0x1.a01a01a01a01ap-13, 0x1.a01a01a01a01ap-16,
      0x1.71de3a556c734p-19, 0x1.27e4fb7789f5cp-22, 0x1.ae64567f544e4p-26, 0x1.1eed8eff8d898p-29,
      0x1.6124613a86d09p-33};
};

}  // namespace simdiff::detail
