"""Elementwise activations: leaky ReLU, clipped ReLU, ELU, tanh, sigmoid, swish and GELU.

Shapes: x, y, dy, dx any shape (activations ``(C, N, *S)``); dtype and array module follow x.
Each ``<name>_forward(x, ...) -> (y, cache)`` pairs with ``<name>_backward(dy, cache) -> dx``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from . import _erf
from ._backend import Array, get_xp


class InputCache(NamedTuple):
    """What a backward pass needs: the input x and the op's scalar parameter."""

    x: Array
    parameter: float


class SwishCache(NamedTuple):
    x: Array
    sigmoid: Array


def leaky_relu_forward(x: Array, scale: float = 0.01) -> tuple[Array, InputCache]:
    """``y = x`` where ``x > 0``, else ``scale * x``. See also: leakyReluLayer.

    >>> import numpy as np
    >>> leaky_relu_forward(np.array([-2.0, 3.0]), 0.5)[0].tolist()
    [-1.0, 3.0]
    """
    xp = get_xp(x)
    y = x * x.dtype.type(scale)
    if 0 <= scale <= 1:                   # max(x, scale x): one pass, no mask array
        xp.maximum(y, x, out=y)
    else:
        y = xp.where(x > 0, x, y)
    return y, InputCache(x, scale)


def leaky_relu_backward(dy: Array, cache: InputCache) -> Array:
    """``dx = dy`` where ``x > 0``, else ``scale * dy``."""
    x, scale = cache
    slope = (x > 0).astype(dy.dtype)      # arithmetic on the mask: no branchy where/copyto
    slope *= dy.dtype.type(1 - scale)
    slope += dy.dtype.type(scale)
    slope *= dy
    return slope


def clipped_relu_forward(x: Array, ceiling: float) -> tuple[Array, InputCache]:
    """``y = min(max(x, 0), ceiling)``. See also: clippedReluLayer.

    >>> import numpy as np
    >>> clipped_relu_forward(np.array([-1.0, 0.5, 7.0]), 2.0)[0].tolist()
    [0.0, 0.5, 2.0]
    """
    return get_xp(x).clip(x, 0, x.dtype.type(ceiling)), InputCache(x, ceiling)


def clipped_relu_backward(dy: Array, cache: InputCache) -> Array:
    """``dx = dy`` where ``0 < x < ceiling``, else 0."""
    x, ceiling = cache
    return dy * ((x > 0) & (x < ceiling))


def elu_forward(x: Array, alpha: float = 1.0) -> tuple[Array, InputCache]:
    """``y = x`` where ``x >= 0``, else ``alpha (exp(x) - 1)``. See also: eluLayer.

    >>> import numpy as np
    >>> elu_forward(np.array([0.0, 2.0]), 1.0)[0].tolist()
    [0.0, 2.0]
    """
    xp = get_xp(x)
    negative = x.dtype.type(alpha) * xp.expm1(xp.minimum(x, 0))
    return xp.where(x >= 0, x, negative), InputCache(x, alpha)


def elu_backward(dy: Array, cache: InputCache) -> Array:
    """``dx = dy`` where ``x >= 0``, else ``alpha exp(x) dy``."""
    x, alpha = cache
    xp = get_xp(dy, x)
    return xp.where(x >= 0, dy, dy * x.dtype.type(alpha) * xp.exp(xp.minimum(x, 0)))


def tanh_forward(x: Array) -> tuple[Array, Array]:
    """``y = tanh(x)``; the cache is y. See also: tanhLayer."""
    y = get_xp(x).tanh(x)
    return y, y


def tanh_backward(dy: Array, cache: Array) -> Array:
    """``dx = dy (1 - y^2)``."""
    return dy * (1 - cache * cache)


def sigmoid_forward(x: Array) -> tuple[Array, Array]:
    """``y = 1 / (1 + exp(-x))`` (no overflow for large ``|x|``); the cache is y.
    See also: sigmoidLayer.

    >>> import numpy as np
    >>> sigmoid_forward(np.array([0.0, -1000.0]))[0].tolist()
    [0.5, 0.0]
    """
    xp = get_xp(x)
    e = xp.exp(-xp.abs(x))                        # in (0, 1]: never overflows
    y = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return y, y


def sigmoid_backward(dy: Array, cache: Array) -> Array:
    """``dx = dy y (1 - y)``."""
    return dy * cache * (1 - cache)


def swish_forward(x: Array) -> tuple[Array, SwishCache]:
    """``y = x sigmoid(x)``. See also: swishLayer."""
    s, _ = sigmoid_forward(x)
    return x * s, SwishCache(x, s)


def swish_backward(dy: Array, cache: SwishCache) -> Array:
    """``dx = dy (s + x s (1 - s))``, s = sigmoid(x)."""
    x, s = cache
    return dy * (s + x * s * (1 - s))


class GeluCache(NamedTuple):
    x: Array
    phi: Array            # Phi(x) ("none") or tanh(sqrt(2/pi) (x + 0.044715 x^3)) ("tanh")
    approximation: str


def gelu_forward(x: Array, approximation: str = "none") -> tuple[Array, GeluCache]:
    """GELU ``y = x Phi(x)``; approximation "none": ``Phi = (1 + erf(x / sqrt(2))) / 2``;
    "tanh": ``(1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2``. See also: geluLayer.

    >>> import numpy as np
    >>> round(float(gelu_forward(np.array(1.0))[0]), 10)
    0.8413447461
    """
    xp = get_xp(x)
    if approximation == "none":
        phi = _erf.erf(x * x.dtype.type(1 / math.sqrt(2)))
        phi += 1
        phi *= x.dtype.type(0.5)
        return x * phi, GeluCache(x, phi, approximation)
    if approximation != "tanh":
        raise ValueError("approximation must be 'none' or 'tanh'. "
                         f"Received: approximation={approximation!r}.")
    t = x * x
    t *= x.dtype.type(0.044715)
    t += 1
    t *= x
    t *= x.dtype.type(math.sqrt(2 / math.pi))
    xp.tanh(t, out=t)
    y = t + 1
    y *= x
    y *= x.dtype.type(0.5)
    return y, GeluCache(x, t, approximation)


def gelu_backward(dy: Array, cache: GeluCache) -> Array:
    """``dx = dy (Phi(x) + x Phi'(x))``."""
    x, phi, approximation = cache
    xp = get_xp(dy, x)
    if approximation == "none":
        density = x * x
        density *= x.dtype.type(-0.5)
        xp.exp(density, out=density)
        density *= x.dtype.type(1 / math.sqrt(2 * math.pi))
        density *= x
        density += phi
        density *= dy
        return density
    t = phi
    d_inner = x * x
    d_inner *= x.dtype.type(3 * 0.044715)
    d_inner += 1
    d_inner *= x.dtype.type(math.sqrt(2 / math.pi) / 2)
    d_inner *= x
    d_inner *= 1 - t * t
    d_inner += (1 + t) / 2
    d_inner *= dy
    return d_inner
