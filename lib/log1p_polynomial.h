// Coefficients of the log1p approximation of the sigmoid cross-entropy kernels, which every SIMD
// backend implements (one algorithm, the constants shared):
//   log1p(q) = q (c0 + c1 q + ... + cK q^K)  for q = exp(-|x|) in [0, 1],
// evaluated as two Horner chains in q^2 (even and odd coefficients), which halves the latency of
// one chain in q. The polynomial is accurate in relative terms down to q = 0 and needs no range
// reduction and no division, unlike a general log1p. The coefficients come from
// scripts/fit_log1p_polynomial.py (Chebyshev approximation of log1p(q) / q, close to minimax),
// which also measures the error of the rounded polynomial evaluated this way: 2.9 eps (float,
// degree 8), 3.6 eps (double, degree 19).
#pragma once

#include <array>

namespace simdiff::detail {

template <class T>
struct Log1pPolynomial;

template <>
struct Log1pPolynomial<float> {
  static constexpr std::array<float, 9> kCoefficients = {
      0x1.fffffep-1f,  -0x1.fffe8cp-2f, 0x1.552d74p-2f,  -0x1.fca104p-3f, 0x1.86b1ccp-3f,
      -0x1.1692f4p-3f, 0x1.3d8182p-4f,  -0x1.dc5978p-6f, 0x1.4ff1bap-8f};
};

template <>
struct Log1pPolynomial<double> {
  static constexpr std::array<double, 20> kCoefficients = {
      0x1.fffffffffffffp-1, -0x1.ffffffffffc6ap-2, 0x1.55555555375c5p-2,  -0x1.fffffff380c85p-3,
      0x1.99999836fae6fp-3, -0x1.55553d2c51a8dp-3, 0x1.24912eae79441p-3,  -0x1.ffedb0f0162e1p-4,
      0x1.c6ac42a79014dp-4, -0x1.978efcd129adp-4,  0x1.6cf8eae4e3f67p-4,  -0x1.402b33838095dp-4,
      0x1.0a6d7e2b6ea2p-4,  -0x1.93011cc3386ccp-5, 0x1.07e0e5d4e7e06p-5,  -0x1.1c10cf8ae0996p-6,
      0x1.da5c1435449e1p-8, -0x1.1cb90f3acb249p-9, 0x1.b1cfc63950465p-12, -0x1.39685fef1c776p-15};
};

}  // namespace simdiff::detail
