"""Output-layer losses, as MATLAB's classificationLayer ('crossentropyex') and regressionLayer.

Shapes: y, t ``(K, N)`` or ``(K, N, 1, ..., 1)``; N = y.shape[1] observations; the loss is a
0-d array of y's dtype.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._backend import Array, get_xp


class CrossEntropyCache(NamedTuple):
    """What cross_entropy_backward needs: max(y, eps), the weighted targets, N."""

    bounded: Array
    weighted: Array
    n: int


class MseCache(NamedTuple):
    """What mse_backward needs: ``y - t`` and N."""

    diff: Array
    n: int


def cross_entropy_forward(y: Array, t: Array, class_weights: Array | None = None
                          ) -> tuple[Array, CrossEntropyCache]:
    """``loss = -sum_k,n w_k t ln(max(y, eps)) / N``, eps = eps of y's class (single: 2^-23).

    Returns ``(loss, cache)``. See also: classificationLayer.

    >>> import numpy as np
    >>> y = np.array([[0.5, 1.0], [0.5, 0.0]], dtype=np.float32)   # y = 0 is bounded to 2^-23
    >>> round(float(cross_entropy_forward(y, np.eye(2, dtype=np.float32))[0]), 4)
    8.3178
    """
    xp = get_xp(y, t, class_weights)
    _check_pair(y, t)
    total, bounded, weighted = weighted_cross_entropy_sum(y, t, class_weights)
    n = y.shape[1]
    return xp.asarray(total / y.dtype.type(n), dtype=y.dtype), CrossEntropyCache(bounded, weighted, n)


def weighted_cross_entropy_sum(y: Array, t: Array, class_weights: Array | None
                               ) -> tuple[Array, Array, Array]:
    """``(-sum w_k t ln(max(y, eps)), max(y, eps), w t)`` for ``y, t (K, N, ...)`` and class
    weights ``(K,)`` or None (shared by the classification and pixel losses)."""
    xp = get_xp(y, t, class_weights)
    weighted = t.astype(y.dtype, copy=False)
    if class_weights is not None:
        if class_weights.shape != (y.shape[0],):
            raise ValueError(f"Expected class weights of shape ({y.shape[0]},). "
                             f"Received: class_weights of shape {class_weights.shape}.")
        weights = class_weights.astype(y.dtype, copy=False)
        weighted = weighted * weights.reshape((-1,) + (1,) * (y.ndim - 1))
    bounded = xp.maximum(y, np.finfo(y.dtype).eps)
    return -(weighted * xp.log(bounded)).sum(), bounded, weighted


def cross_entropy_backward(cache: CrossEntropyCache) -> Array:
    """``dy = -w t / (max(y, eps) N)`` (MATLAB's backwardLoss: the bounded y, no masking)."""
    bounded, weighted, n = cache
    return -weighted / (bounded * bounded.dtype.type(n))


def mse_forward(y: Array, t: Array) -> tuple[Array, MseCache]:
    """``loss = sum(0.5 (y - t)^2) / N`` (half the squared error, per observation).

    Returns ``(loss, cache)``. See also: regressionLayer.

    >>> import numpy as np
    >>> float(mse_forward(np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]]))[0])
    1.25
    """
    xp = get_xp(y, t)
    _check_pair(y, t)
    diff = y - t.astype(y.dtype, copy=False)
    n = y.shape[1]
    return xp.asarray(0.5 * (diff * diff).sum() / y.dtype.type(n), dtype=y.dtype), MseCache(diff, n)


def mse_backward(cache: MseCache) -> Array:
    """``dy = (y - t) / N``."""
    diff, n = cache
    return diff / diff.dtype.type(n)


def _check_pair(y: Array, t: Array) -> None:
    if y.shape != t.shape or y.ndim < 2:
        raise ValueError(
            "Predictions and targets must have the same shape (K, N[, 1, ...]). "
            f"Received: y of shape {y.shape} and t of shape {t.shape}.")
