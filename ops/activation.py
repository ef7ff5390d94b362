"""Elementwise ReLU and softmax over channels (axis 0); both cache their output ``y``.

Shapes: x, y ``(C, N, *S)`` (softmax: usually ``(K, N)`` or ``(K, N, 1, ..., 1)``).
"""
from __future__ import annotations

from ._cpu import parallel as _parallel
from ._backend import Array, get_xp


def relu_forward(x: Array) -> tuple[Array, Array]:
    """``y = max(x, 0)``; returns ``(y, cache)``. See also: reluLayer.

    >>> import numpy as np
    >>> relu_forward(np.array([-1.0, 2.0]))[0].tolist()
    [0.0, 2.0]
    """
    xp = get_xp(x)
    x = xp.ascontiguousarray(x)
    y = xp.empty_like(x)
    flat_x, flat_y = x.reshape(-1), y.reshape(-1)
    _parallel.run(lambda part: xp.maximum(flat_x[part], 0, out=flat_y[part]),
                  _parallel.split(x.size, like=x))
    return y, y


def relu_backward(dy: Array, cache: Array) -> Array:
    """``dx = dy .* (y > 0)``."""
    y = cache
    xp = get_xp(dy, y)
    dy = xp.ascontiguousarray(dy)
    dx = xp.empty(y.shape, dtype=y.dtype)
    flat_dy, flat_y, flat_dx = dy.reshape(-1), y.reshape(-1), dx.reshape(-1)
    _parallel.run(lambda part: xp.multiply(flat_dy[part], flat_y[part] > 0, out=flat_dx[part]),
                  _parallel.split(y.size, like=y))
    return dx


def softmax_forward(x: Array) -> tuple[Array, Array]:
    """``y = exp(x - max) / sum(exp(x - max))`` over axis 0; returns ``(y, cache)``.

    See also: softmaxLayer.

    >>> import numpy as np
    >>> softmax_forward(np.zeros((2, 1)))[0].tolist()
    [[0.5], [0.5]]
    """
    xp = get_xp(x)
    y = xp.exp(x - x.max(axis=0, keepdims=True))
    y /= y.sum(axis=0, keepdims=True)
    return y, y


def softmax_backward(dy: Array, cache: Array) -> Array:
    """``dx = y (dy - sum_k(dy y))`` (sum over axis 0)."""
    y = cache
    return y * (dy - (dy * y).sum(axis=0, keepdims=True))
