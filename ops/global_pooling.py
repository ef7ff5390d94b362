"""Global max pooling over the spatial axes (globalMaxPooling2dLayer / 3dLayer).

Shapes: x ``(C, N, *S)``; y ``(C, N, 1, ..., 1)``. On ties the first maximum in MATLAB's
column-major order over the window (h fastest) receives the gradient, as in max pooling (found
in NumPy's row-major order first; only slices with a tie are searched again).
"""
from __future__ import annotations

import math
from typing import NamedTuple

from ._backend import Array, get_xp


class GlobalMaxPoolCache(NamedTuple):
    """What global_max_pool_backward needs: the row-major flat index of the winner of each
    (C, N) slice, x's shape."""

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
    flat = xp.ascontiguousarray(x).reshape(x.shape[0] * x.shape[1], -1)
    arg = flat.argmax(axis=1)                      # first maximum in row-major (C) order
    y = flat.reshape(-1)[_flat_index(xp, arg, flat.shape[1])]
    tied = (flat == y[:, None]).sum(axis=1) > 1
    if bool(tied.any()):                           # rare: search those slices in MATLAB's order
        rows = xp.nonzero(tied)[0]
        spatial = tuple(x.shape[2:])
        columns = flat[rows].reshape((-1,) + spatial)
        columns = columns.transpose(0, *range(len(spatial), 0, -1)).reshape(rows.size, -1)
        first = xp.unravel_index(columns.argmax(axis=1), tuple(reversed(spatial)))
        arg[rows] = xp.ravel_multi_index(tuple(reversed(first)), spatial)
    y = y.reshape(x.shape[:2] + (1,) * (x.ndim - 2))
    return y, GlobalMaxPoolCache(arg.reshape(x.shape[:2]), tuple(x.shape))


def global_max_pool_backward(dy: Array, cache: GlobalMaxPoolCache) -> Array:
    """``dx``: ``dy`` at each (first) maximum, zeros elsewhere."""
    arg, shape = cache
    xp = get_xp(dy, arg)
    dx = xp.zeros(shape, dtype=dy.dtype)
    dx.reshape(-1)[_flat_index(xp, arg, math.prod(shape[2:]))] = dy.reshape(-1)
    return dx


def _flat_index(xp, arg: Array, positions: int) -> Array:
    """Flat indices of the winners ``arg (C, N)`` in a ``(C, N, positions)`` array."""
    return xp.arange(arg.size) * positions + arg.reshape(-1)
