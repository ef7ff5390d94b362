"""Fully connected: each observation flattened in MATLAB column-major order, then ``W @ x + b``.

Shapes: x ``(C, N, *S)`` (S = h, w[, d]); w ``(K, I)`` with ``I = C * prod(S)``; b ``(K,)`` or
None; y ``(K, N, 1, ..., 1)`` (same ndim as x). Flattened observation ``n`` is MATLAB's
``X(:, :, :, :, n)(:)`` of the ``h x w x d x c`` array: h fastest, c slowest.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ._cpu import parallel as _parallel
from ._backend import Array, get_xp


class FcCache(NamedTuple):
    """What fc_backward needs: x flattened ``(I, N)``, the weights, x's shape."""

    xf: Array
    w: Array
    has_bias: bool
    shape: tuple


def fc_forward(x: Array, w: Array, b: Array | None) -> tuple[Array, FcCache]:
    """``y[:, n] = w @ vec(x_n) + b``; returns ``(y (K, N, 1, ..., 1), cache)``.

    See also: fullyConnectedLayer.

    >>> import numpy as np
    >>> x = np.arange(4.0).reshape(1, 1, 2, 2)      # h x w = [[0, 1], [2, 3]]: vec = 0, 2, 1, 3
    >>> fc_forward(x, np.array([[1.0, 10.0, 100.0, 1000.0]]), None)[0].ravel().tolist()
    [3120.0]
    """
    xp = get_xp(x, w, b)
    inputs = x.shape[0] * math.prod(x.shape[2:])
    if w.ndim != 2 or w.shape[1] != inputs:
        raise ValueError(
            f"Expected weights of shape (OutputSize, {inputs}) for an input of shape {x.shape} "
            f"(C, N, *S). Received: w of shape {w.shape}.")
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"Expected a bias of shape ({w.shape[0]},). Received: {b.shape}.")
    w = w.astype(x.dtype, copy=False)
    xf = _flatten(xp, x)
    with _parallel.owning_cores(x):       # no OpenBLAS pool to wake (see _parallel)
        y = w @ xf
    if b is not None:
        y += b.astype(x.dtype, copy=False)[:, None]
    return (y.reshape((w.shape[0],) + x.shape[1:2] + (1,) * (x.ndim - 2)),
            FcCache(xf, w, b is not None, x.shape))


def fc_backward(dy: Array, cache: FcCache, need: Sequence[bool] = (True, True, True)
                ) -> tuple[Array | None, Array | None, Array | None]:
    """Gradients ``(dx (C, N, *S), dw (K, I), db (K,))``; None where not needed (or no bias)."""
    xf, w, has_bias, shape = cache
    xp = get_xp(dy, xf)
    need_dx, need_dw, need_db = need
    dy2 = dy.reshape(w.shape[0], -1).astype(w.dtype, copy=False)
    with _parallel.owning_cores(dy):
        dw = dy2 @ xf.T if need_dw else None
        dx = _unflatten(xp, w.T @ dy2, shape) if need_dx else None
    db = dy2.sum(axis=1) if need_db and has_bias else None
    return dx, dw, db


def _order(ndim: int) -> tuple[int, ...]:
    """Axes ``(C, *reversed(S), N)``: C-order reshape then puts h fastest and c slowest."""
    return (0, *range(ndim - 1, 1, -1), 1)


def _flatten(xp, x: Array) -> Array:
    """``(C, N, *S) -> (I, N)`` in MATLAB column-major order per observation."""
    if math.prod(x.shape[2:]) == 1:
        return xp.ascontiguousarray(x).reshape(x.shape[0], x.shape[1])
    return x.transpose(_order(x.ndim)).reshape(-1, x.shape[1])


def _unflatten(xp, xf: Array, shape: Sequence[int]) -> Array:
    """Inverse of ``_flatten``: ``(I, N) -> (C, N, *S)``."""
    order = _order(len(shape))
    transposed = xf.reshape(tuple(shape[i] for i in order))
    return xp.ascontiguousarray(transposed.transpose(tuple(int(i) for i in np.argsort(order))))
