"""Global max pooling over the spatial axes (globalMaxPooling2dLayer / 3dLayer).

Shapes: x ``(C, N, *S)``; y ``(C, N, 1, ..., 1)``. On ties the first maximum in MATLAB's
column-major order over the window (h fastest) receives the gradient, as in max pooling.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from ._backend import Array, get_xp


class GlobalMaxPoolCache(NamedTuple):
    """What global_max_pool_backward needs: the flat argmax per (C, N) slice, x's shape."""

    arg: Array
    shape: tuple


def global_max_pool_forward(x: Array) -> tuple[Array, GlobalMaxPoolCache]:
    """Maximum over all spatial positions; returns ``(y (C, N, 1, .., 1), cache)``.

    >>> import numpy as np
    >>> global_max_pool_forward(np.array([[[[1.0, 4.0], [3.0, 2.0]]]]))[0].tolist()
    [[[[4.0]]]]
    """
    xp = get_xp(x)
    if x.ndim < 3:
        raise ValueError(f"Expected x (C, N, *S) with spatial axes. Received: x of shape "
                         f"{x.shape}.")
    # column-major window order: reverse the spatial axes so h varies fastest
    flat = xp.ascontiguousarray(x.transpose(0, 1, *range(x.ndim - 1, 1, -1)))
    flat = flat.reshape(x.shape[0], x.shape[1], -1)
    arg = flat.argmax(axis=2)
    y = flat.reshape(-1)[_flat_index(xp, arg, flat.shape[2])]
    return y.reshape(x.shape[:2] + (1,) * (x.ndim - 2)), GlobalMaxPoolCache(arg, x.shape)


def global_max_pool_backward(dy: Array, cache: GlobalMaxPoolCache) -> Array:
    """``dx``: ``dy`` at each (first) maximum, zeros elsewhere."""
    arg, shape = cache
    xp = get_xp(dy, arg)
    spatial = shape[2:]
    flat = xp.zeros(shape[:2] + (math.prod(spatial),), dtype=dy.dtype)
    flat.reshape(-1)[_flat_index(xp, arg, flat.shape[2])] = dy.reshape(-1)
    reversed_shape = shape[:2] + tuple(reversed(spatial))
    return xp.ascontiguousarray(
        flat.reshape(reversed_shape).transpose(0, 1, *range(len(shape) - 1, 1, -1)))


def _flat_index(xp, arg: Array, positions: int) -> Array:
    """Flat indices of the winners ``arg (C, N)`` in a ``(C, N, positions)`` array."""
    return xp.arange(arg.size) * positions + arg.reshape(-1)
