#!/usr/bin/python3
"""Fits the polynomial of the SIMD sigmoid cross-entropy kernels (lib/log1p_polynomial.h).

log1p(q) for q in [0, 1] (q = exp(-|x|), the softplus term of the loss) is approximated by
q (c0 + c1 q + ... + cK q^K). The polynomial is the Chebyshev approximation of log1p(q) / q on
[0, 1] (mpmath.chebyfit at 50 digits), which is close to the minimax one, with its coefficients
rounded to the target type. The script prints them as C++ hexadecimal literals and the maximum
relative error of the rounded polynomial evaluated in the target type the way the kernels do:
even and odd coefficients as two Horner chains in q^2 (half the latency of one chain in q).

Run: /usr/bin/python3 scripts/fit_log1p_polynomial.py
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 50


def log1p_over_q(q):
    return mp.log1p(q) / q if q != 0 else mp.mpf(1)


def fit(degree):
    coefficients = mp.chebyfit(log1p_over_q, [0, 1], degree + 1)
    return list(reversed(coefficients))  # c0 first


def evaluate(coefficients, dtype, q):
    c = [dtype(float(x)) for x in coefficients]
    q = q.astype(dtype)
    q2 = q * q
    even, odd = c[0::2], c[1::2]
    e = np.full_like(q, even[-1])
    for k in reversed(even[:-1]):
        e = e * q2 + k
    o = np.full_like(q, odd[-1])
    for k in reversed(odd[:-1]):
        o = o * q2 + k
    return q * (o * q + e)


for dtype, degree, name in ((np.float32, 8, "float"), (np.float64, 19, "double")):
    coefficients = fit(degree)
    q = np.linspace(0, 1, 20001).astype(dtype)
    approx = evaluate(coefficients, dtype, q)
    worst = max(abs(mp.mpf(float(a)) / mp.log1p(mp.mpf(float(x))) - 1)
                for a, x in zip(approx[1:], q[1:]))
    eps = np.finfo(dtype).eps
    print(f"// {name}: degree {degree}, max relative error {float(worst):.3g} "
          f"({float(worst) / eps:.2f} eps)")
    for i, c in enumerate(coefficients):
        text = float(dtype(float(c))).hex()  # e.g. 0x1.fffffe0000000p-1
        mantissa, exponent = text.split("p")
        mantissa = mantissa.rstrip("0").rstrip(".")
        print(f"    {mantissa}p{exponent}{'f' if dtype == np.float32 else ''},  // c{i}")
