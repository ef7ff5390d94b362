"""Inverted dropout: in training, zero each element with probability p and scale the rest by
``1 / (1 - p)``; the expected output equals the input, so inference is the identity.

Shapes: x, y ``(C, N, *S)``; the mask (the cache) has x's shape and dtype and holds 0 or
``1 / (1 - p)``. The random numbers come from the NumPy Generator passed in (also for CuPy
arrays: the same generator state gives the same mask on either device).
"""
from __future__ import annotations

import numpy as np

from ._backend import Array, get_xp


def dropout_forward(x: Array, probability: float, rng: np.random.Generator
                    ) -> tuple[Array, Array]:
    """``y = x * mask`` with ``mask = (u >= p) / (1 - p)``, u uniform in [0, 1) from ``rng``
    (float32 draws). Returns ``(y, mask)``. See also: dropoutLayer.

    >>> x = np.ones((2, 3))
    >>> y, mask = dropout_forward(x, 0.5, np.random.default_rng(0))
    >>> set(y.ravel().tolist()) <= {0.0, 2.0}, bool((y == x * mask).all())
    (True, True)
    """
    if not 0 <= probability < 1:
        raise ValueError(f"The dropout probability must be in [0, 1). Received: {probability}.")
    xp = get_xp(x)
    keep = rng.random(x.shape, dtype=np.float32) >= np.float32(probability)
    mask = xp.asarray(keep.astype(x.dtype) * x.dtype.type(1 / (1 - probability)))
    return x * mask, mask


def dropout_backward(dy: Array, cache: Array) -> Array:
    """``dx = dy * mask``."""
    return dy * cache
