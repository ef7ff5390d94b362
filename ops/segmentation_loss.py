"""Losses over spatial outputs: pixel cross-entropy and the generalized Dice loss.

Shapes: scores y and one-hot targets t ``(K, N, *S)`` (K classes, N observations, S spatial
sizes); an unlabelled pixel (MATLAB's <undefined>) has an all-zero target column and is
ignored. Losses are 0-d arrays of y's dtype.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._backend import Array, get_xp
from .loss import weighted_cross_entropy_sum

DICE_EPSILON = 1e-8
"""Added to the numerator and denominator of the Dice ratio (MATLAB's Epsilon)."""
WEIGHT_FLOOR = float(np.finfo(np.float64).eps)
"""Floor on the squared class volume before the Dice weight ``1 / volume^2`` (MATLAB: eps)."""


class PixelCrossEntropyCache(NamedTuple):
    """What pixel_cross_entropy_backward needs: max(y, eps), weighted targets, M."""

    bounded: Array
    weighted: Array
    labelled: Array


class DiceCache(NamedTuple):
    """What generalized_dice_backward needs (per-observation sums, N)."""

    y: Array
    t: Array
    w: Array
    numer: Array
    denom: Array
    n: int


def pixel_cross_entropy_forward(y: Array, t: Array, class_weights: Array | None = None
                                ) -> tuple[Array, PixelCrossEntropyCache]:
    """``loss = -sum(w_k t ln(max(y, eps))) / M``, M = labelled pixels of the whole batch.

    eps = eps of y's class (single: 2^-23), as the classification loss. Returns
    ``(loss, cache)``. See also: pixelClassificationLayer.

    >>> import numpy as np
    >>> y = np.full((2, 1, 2, 2), 0.5)
    >>> t = np.zeros((2, 1, 2, 2)); t[0] = 1
    >>> round(float(pixel_cross_entropy_forward(y, t)[0]), 6)   # ln 2
    0.693147
    """
    xp = get_xp(y, t, class_weights)
    _check_pair(y, t)
    total, bounded, weighted = weighted_cross_entropy_sum(y, t, class_weights)
    labelled = y.dtype.type(max(1, int((t != 0).any(axis=0).sum())))
    value = total / labelled
    return xp.asarray(value, dtype=y.dtype), PixelCrossEntropyCache(bounded, weighted, labelled)


def pixel_cross_entropy_backward(cache: PixelCrossEntropyCache) -> Array:
    """``dy = -w t / (max(y, eps) M)`` (the bounded y, no masking, as the classification loss)."""
    bounded, weighted, labelled = cache
    return -weighted / (bounded * labelled)


def generalized_dice_forward(y: Array, t: Array, epsilon: float = DICE_EPSILON
                             ) -> tuple[Array, DiceCache]:
    """Generalized Dice loss averaged over the N observations (Sudre et al. 2017).

    Per observation, with sums over the pixels m and classes k, ``w_k = 1 / max(eps,
    (sum_m t_km)^2)``: ``loss_n = 1 - (2 sum_k w_k sum_m y t + e) / (sum_k w_k sum_m (y^2 +
    t^2) + e)``, e = ``epsilon``. Returns ``(loss, cache)``. See also:
    dicePixelClassificationLayer.

    >>> import numpy as np
    >>> t = np.zeros((2, 1, 4)); t[0, 0, :2] = 1; t[1, 0, 2:] = 1
    >>> float(generalized_dice_forward(t, t)[0])      # a perfect prediction
    0.0
    """
    xp = get_xp(y, t)
    _check_pair(y, t)
    t = t.astype(y.dtype, copy=False)
    spatial = tuple(range(2, y.ndim))
    volume = t.sum(axis=spatial)                                          # (K, N)
    w = 1 / xp.maximum(volume * volume, y.dtype.type(WEIGHT_FLOOR))
    numer = 2 * (w * (y * t).sum(axis=spatial)).sum(axis=0) + y.dtype.type(epsilon)   # (N,)
    denom = (w * (y * y + t * t).sum(axis=spatial)).sum(axis=0) + y.dtype.type(epsilon)
    n = y.dtype.type(y.shape[1])
    value = (1 - numer / denom).sum() / n
    return xp.asarray(value, dtype=y.dtype), DiceCache(y, t, w, numer, denom, n)


def generalized_dice_backward(cache: DiceCache) -> Array:
    """``dy = (2 w y numer / denom^2 - 2 w t / denom) / N``."""
    y, t, w, numer, denom, n = cache
    shape = (1, -1) + (1,) * (y.ndim - 2)
    w = w.reshape(w.shape + (1,) * (y.ndim - 2))
    numer, denom = numer.reshape(shape), denom.reshape(shape)
    return (2 * w * y * numer / (denom * denom) - 2 * w * t / denom) / n


class FocalCache(NamedTuple):
    bounded: Array       # max(y, eps)
    t: Array
    gamma: float
    alpha: float
    labelled: Array      # M, as a scalar of y's dtype


def focal_cross_entropy_forward(y: Array, t: Array, gamma: float = 2.0, alpha: float = 0.25
                                ) -> tuple[Array, FocalCache]:
    """Focal loss ``-sum(alpha t (1 - y)^gamma ln(max(y, eps))) / M`` (Lin et al. 2017), M the
    labelled positions (observations, or pixels of a spatial output). See also: focalLossLayer.

    >>> import numpy as np
    >>> y = np.array([[0.5], [0.5]]); t = np.array([[1.0], [0.0]])
    >>> round(float(focal_cross_entropy_forward(y, t, 2.0, 1.0)[0]), 6)   # 0.25 ln 2
    0.173287
    """
    xp = get_xp(y, t)
    _check_pair(y, t)
    t = t.astype(y.dtype, copy=False)
    labelled = y.dtype.type(max(1, int((t != 0).any(axis=0).sum())))
    bounded = xp.maximum(y, np.finfo(y.dtype).eps)
    value = -(alpha * t * (1 - bounded) ** gamma * xp.log(bounded)).sum() / labelled
    return xp.asarray(value, dtype=y.dtype), FocalCache(bounded, t, gamma, alpha, labelled)


def focal_cross_entropy_backward(cache: FocalCache) -> Array:
    """``dy = alpha t (gamma (1 - y)^(gamma - 1) ln y - (1 - y)^gamma / y) / M`` (bounded y)."""
    y, t, gamma, alpha, labelled = cache
    xp = get_xp(y)
    one_minus = 1 - y
    floor = y.dtype.type(np.finfo(y.dtype).eps)     # (1 - y)^(gamma - 1) stays finite at y = 1
    power = xp.maximum(one_minus, floor) ** (gamma - 1) if gamma != 0 else xp.zeros_like(y)
    return alpha * t * (gamma * power * xp.log(y) - one_minus ** gamma / y) / labelled


def _check_pair(y: Array, t: Array) -> None:
    if y.shape != t.shape or y.ndim < 2:
        raise ValueError(
            "Predictions and targets must have the same shape (K, N, *S). "
            f"Received: y of shape {y.shape} and t of shape {t.shape}.")
