"""N-d transposed convolution, the adjoint of :mod:`convolution` (same GEMM machinery).

Shapes: x ``(C, N, *S)``, w ``(C, F, *K)`` (input channels first: the weight of the
convolution that maps the output back to the input), b ``(F,)`` or None, y ``(F, N, *O)`` with
``O = (S - 1) s + (K - 1) d + 1 - before - after`` (cropping ``(before, after)`` per dim).

``y[f, n, i s + j d - before] += w[c, f, j] x[c, n, i]``: the forward pass is the input
gradient of a convolution of ``y`` with ``w`` (padding = cropping), the input gradient is that
convolution's forward pass and the weight gradient its weight gradient.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from . import convolution
from ._backend import Array, get_xp
from ._shapes import Padding, check_geometry


class TransposedConvCache(NamedTuple):
    """What transposed_conv_backward needs: the operands and the geometry."""

    x: Array
    w: Array
    has_bias: bool
    stride: tuple
    crop: Padding
    dilation: tuple


def transposed_output_sizes(in_sizes: Sequence[int], k: Sequence[int], stride: Sequence[int],
                            crop: Padding, dilation: Sequence[int] | None = None
                            ) -> tuple[int, ...]:
    """``(S - 1) s + (K - 1) d + 1 - before - after`` per dim; ValueError when not positive.

    >>> transposed_output_sizes((4, 5), (2, 3), (2, 2), ((0, 0), (1, 1)))
    (8, 9)
    """
    dilation = dilation if dilation is not None else (1,) * len(k)
    sizes = tuple((n - 1) * s + (ki - 1) * d + 1 - b - a
                  for n, ki, s, d, (b, a) in zip(in_sizes, k, stride, dilation, crop))
    if min(sizes, default=1) < 1:
        raise ValueError(
            "The cropping removes the whole output. Received: input sizes "
            f"{tuple(in_sizes)}, kernel {tuple(k)}, stride {tuple(stride)}, cropping "
            f"{tuple(crop)}.")
    return sizes


def transposed_conv_forward(x: Array, w: Array, b: Array | None, stride: Sequence[int],
                            crop: Padding, dilation: Sequence[int] | None = None
                            ) -> tuple[Array, TransposedConvCache]:
    """Transposed convolution of ``x (C, N, *S)`` with ``w (C, F, *K)``: ``(y (F, N, *O), cache)``.

    See also: transposedConv2dLayer, transposedConv3dLayer.

    >>> import numpy as np
    >>> y, _ = transposed_conv_forward(np.ones((1, 1, 2)), np.ones((1, 1, 3)), None, (2,),
    ...                                ((0, 0),))
    >>> y.tolist()
    [[[1.0, 1.0, 2.0, 1.0, 1.0]]]
    """
    xp = get_xp(x, w, b)
    ndim = x.ndim - 2
    stride = tuple(int(s) for s in stride)
    dilation = tuple(int(d) for d in (dilation if dilation is not None else (1,) * ndim))
    crop = tuple((int(p[0]), int(p[1])) for p in crop)
    _check_operands(x, w, b)
    check_geometry(ndim, w.shape[2:], stride, crop, dilation)
    w = w.astype(x.dtype, copy=False)
    out = transposed_output_sizes(x.shape[2:], w.shape[2:], stride, crop, dilation)
    template = xp.broadcast_to(xp.zeros((1,) * x.ndim, dtype=x.dtype),
                               (w.shape[1], x.shape[1]) + out)
    conv_cache = convolution.ConvCache(template, w, False, stride, crop, dilation)
    y = convolution.conv_backward(x, conv_cache, need=(True, False, False))[0]
    if b is not None:
        y.reshape(w.shape[1], -1)[...] += b.astype(x.dtype, copy=False).reshape(-1, 1)
    return y, TransposedConvCache(x, w, b is not None, stride, crop, dilation)


def transposed_conv_backward(dy: Array, cache: TransposedConvCache, need: Sequence[bool] = (True, True, True)
                             ) -> tuple[Array | None, Array | None, Array | None]:
    """Gradients ``(dx (C, N, *S), dw (C, F, *K), db (F,))`` of ``dy (F, N, *O)``.

    ``need`` = (dx, dw, db) flags; an entry not needed (or db without a bias) is None.
    """
    x, w, has_bias, stride, crop, dilation = cache
    xp = get_xp(dy, x)
    need_dx, need_dw, need_db = need
    dy = xp.ascontiguousarray(dy, dtype=x.dtype)
    db = dy.sum(axis=tuple(range(1, dy.ndim))) if need_db and has_bias else None
    dx = convolution.conv_forward(dy, w, None, stride, crop, dilation)[0] if need_dx else None
    dw = None
    if need_dw:
        dw = convolution.conv_backward(x, (dy, w, False, stride, crop, dilation),
                                       need=(False, True, False))[1]
    return dx, dw, db


def _check_operands(x: Array, w: Array, b: Array | None) -> None:
    if x.ndim not in (3, 4, 5) or w.ndim != x.ndim or w.shape[0] != x.shape[0]:
        raise ValueError(
            "Expected x (C, N, *S) and w (C, F, *K) with 1 to 3 spatial dims and matching C. "
            f"Received: x of shape {x.shape} and w of shape {w.shape}.")
    if b is not None and b.shape != (w.shape[1],):
        raise ValueError(
            f"Expected a bias of shape ({w.shape[1]},). Received: b of shape {b.shape}.")
