#!/usr/bin/python3
"""Fits the polynomial of the SIMD exp kernels (lib/exp_polynomial.h).

exp(r) for r in [-ln2/2, ln2/2] is approximated by 1 + r*(c1 + c2 r + ... + cK r^(K-1)). The
coefficients minimise the maximum relative error (Lawson's iteratively reweighted least squares,
which converges to the minimax solution), then are rounded to the target type. The script prints
the coefficients as C++ hexadecimal literals and the error of the rounded polynomial evaluated in
the target type with Horner's scheme, as the kernels do.

Run: /usr/bin/python3 scripts/fit_exp_polynomial.py
"""
import numpy as np

LN2 = np.log(np.longdouble(2))


def fit(degree, iterations=400):
    r = np.linspace(-LN2 / 2, LN2 / 2, 20001, dtype=np.longdouble)
    target = (np.exp(r) - 1) / np.where(r == 0, 1, r)
    target[r == 0] = 1
    # relative error of 1 + r q(r) against e^r is r (q - target) / e^r
    scale = np.abs(r) / np.exp(r)
    basis = np.vander(r, degree, increasing=True)
    weights = np.ones_like(r)
    for _ in range(iterations):
        w = np.sqrt(weights) * scale
        coef, *_ = np.linalg.lstsq((basis * w[:, None]).astype(np.float64),
                                   (target * w).astype(np.float64), rcond=None)
        coef = coef.astype(np.longdouble)
        err = np.abs((basis @ coef - target) * scale)
        weights = weights * err
        weights /= weights.sum()
    return coef


def evaluate(coef, dtype, r):
    c = [dtype(x) for x in coef]
    r = r.astype(dtype)
    p = np.full_like(r, c[-1])
    for k in reversed(c[:-1]):
        p = p * r + k
    return dtype(1) + r * p


def taylor(degree):
    # double: the least-squares solve above runs in float64 and cannot resolve the last bits, so
    # double uses the Taylor coefficients 1/k!, whose truncation error at degree 13 is below 5e-18.
    return [1 / np.longdouble(np.math.factorial(k)) for k in range(1, degree + 1)]


for dtype, degree, name, method in ((np.float32, 5, "float", fit), (np.float64, 13, "double", taylor)):
    coef = method(degree)
    r = np.linspace(-LN2 / 2, LN2 / 2, 200001, dtype=np.longdouble)
    approx = evaluate(coef, dtype, r).astype(np.longdouble)
    rel = np.max(np.abs(approx / np.exp(r) - 1))
    ulp = rel / np.finfo(dtype).eps
    print(f"// {name}: degree {degree}, max relative error {float(rel):.3g} ({float(ulp):.2f} eps)")
    for i, c in enumerate(coef, start=1):
        print(f"    {float(dtype(c)).hex()},  // c{i}")
