"""The error function on NumPy arrays (NumPy has none) and CuPy arrays (CUDA's ``erf``).

float64: ``erf(x) = 2/sqrt(pi) exp(-x^2) sum_n (2 x^2)^n x / (2n + 1)!!`` (positive terms, no
cancellation) below ``SERIES_BELOW``, and above it ``erfc(x) = exp(-x^2) / (sqrt(pi) f)`` with
the continued fraction ``f = x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))``: within a few
units in the last place. float32: Abramowitz-Stegun 7.1.26 (absolute error <= 1.5e-7).
"""
from __future__ import annotations

import math

import numpy as np

from ._backend import Array, elementwise_kernel, get_xp, is_gpu_array

SERIES_BELOW = 2.5
SERIES_TERMS = 48
FRACTION_TERMS = 60
_AS_P = 0.3275911
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def erf(x: Array) -> Array:
    """``erf(x)`` elementwise, in x's dtype.

    >>> round(float(erf(np.array(0.5))), 12)
    0.520499877813
    """
    if is_gpu_array(x):
        return elementwise_kernel("T x", "T y", "y = erf(x)", "layergraph_erf")(x)
    if x.dtype == np.float64:
        return _erf64(get_xp(x), x)
    return _erf_as(get_xp(x), x)


def _erf_as(xp, x: Array) -> Array:
    """A&S 7.1.26 in place on two temporaries (the erf of a GELU layer's every element)."""
    a = xp.abs(x)
    t = a * x.dtype.type(_AS_P)
    t += 1
    xp.reciprocal(t, out=t)
    poly = t * x.dtype.type(_AS_A[-1])
    for coefficient in reversed(_AS_A[:-1]):
        poly += x.dtype.type(coefficient)
        poly *= t
    xp.square(a, out=a)
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    poly *= a
    xp.subtract(1, poly, out=poly)
    return xp.copysign(poly, x, out=poly)


def _erf64(xp, x: Array) -> Array:
    a = xp.abs(x)
    small = a < SERIES_BELOW
    y = xp.empty_like(a)
    s = a[small]
    term, total = s.copy(), s.copy()
    for n in range(1, SERIES_TERMS):
        term *= 2 * s * s / (2 * n + 1)
        total += term
    y[small] = 2 / math.sqrt(math.pi) * xp.exp(-s * s) * total
    b = a[~small]
    f = b.copy()
    for k in range(FRACTION_TERMS, 0, -1):
        f = b + (k / 2) / f
    y[~small] = 1 - xp.exp(-b * b) / (math.sqrt(math.pi) * f)
    return xp.sign(x) * y
