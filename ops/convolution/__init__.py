"""N-d convolution (cross-correlation, as MATLAB's convolution layers) lowered to GEMMs.

Shapes: x ``(C, N, *S)``, w ``(F, C, *K)``, b ``(F,)`` or None, y ``(F, N, *O)`` with
``O = floor((S + before + after - ((K - 1) d + 1)) / s) + 1``.

``y[f, n, o] = b[f] + sum_{c, j} w[f, c, j] * xpad[c, n, o * s + j * d]``, computed as
``W (F, C*k) @ cols (C*k, N*L) -> (F, N*L)``, already the output layout. The column matrix is
built tile by tile so it never exceeds ``select.COLUMN_BUDGET_BYTES``; a 1x1 unpadded
convolution is a single GEMM on the ``(C, N*L)`` view (strided inputs are subsampled first).

Package map (follow ``conv_forward`` from here):
  ``select``        the one place that picks the algorithm and the threads (read it first);
  ``pointwise``     1x1 convolutions as plain GEMMs;
  ``im2col``        column building (im2col / col2im over tiles) and the tiled GEMM convolution;
  ``plane_shifts``  3-D / large 2-D: columns over the trailing axes, shifted along the first.
CPU threads come from ``ops._cpu`` (GPU arrays bypass it); sizes from ``ops._shapes``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from . import select
from .._backend import Array, get_xp
from .._cpu import parallel as _parallel
from .._shapes import Padding, check_geometry, check_operands, output_sizes

__all__ = ["ConvCache", "conv_forward", "conv_backward"]


class ConvCache(NamedTuple):
    """What conv_backward needs: the operands and the geometry of the forward call."""

    x: Array
    w: Array
    has_bias: bool
    stride: tuple
    pad: Padding
    dilation: tuple


def conv_forward(x: Array, w: Array, b: Array | None, stride: Sequence[int], pad: Padding,
                 dilation: Sequence[int]) -> tuple[Array, ConvCache]:
    """Convolve ``x (C, N, *S)`` with ``w (F, C, *K)``; returns ``(y (F, N, *O), cache)``.

    ``w`` and ``b`` are used in ``x``'s dtype. See also: convolution2dLayer, convolution3dLayer.

    >>> import numpy as np
    >>> y, _ = conv_forward(np.ones((1, 1, 4)), np.ones((1, 1, 3)), None, (1,), ((1, 1),), (1,))
    >>> y.tolist()
    [[[2.0, 3.0, 3.0, 2.0]]]
    """
    xp = get_xp(x, w, b)
    stride, dilation = tuple(int(s) for s in stride), tuple(int(d) for d in dilation)
    pad = tuple((int(p[0]), int(p[1])) for p in pad)
    check_operands(x, w, b)
    check_geometry(x.ndim - 2, w.shape[2:], stride, pad, dilation)
    w = w.astype(x.dtype, copy=False)
    out = output_sizes(x.shape[2:], w.shape[2:], stride, pad, dilation)
    with _parallel.owning_cores(x):
        y = select.forward(xp, x, w, stride, pad, dilation, out)
    if b is not None:
        y.reshape(w.shape[0], -1)[...] += b.astype(x.dtype, copy=False).reshape(-1, 1)
    return y, ConvCache(x, w, b is not None, stride, pad, dilation)


def conv_backward(dy: Array, cache: ConvCache, need: Sequence[bool] = (True, True, True)
                  ) -> tuple[Array | None, Array | None, Array | None]:
    """Gradients ``(dx (C, N, *S), dw (F, C, *K), db (F,))`` of ``dy (F, N, *O)``.

    ``need`` = (dx, dw, db) flags; an entry not needed (or db without a bias) is None.
    """
    x, w, has_bias, stride, pad, dilation = cache
    xp = get_xp(dy, x)
    need_dx, need_dw, need_db = need
    dy = xp.ascontiguousarray(dy, dtype=x.dtype)
    db = dy.sum(axis=tuple(i for i in range(dy.ndim) if i != 0)) if need_db and has_bias \
        else None
    if not (need_dx or need_dw):
        return None, None, db
    with _parallel.owning_cores(x):
        dx, dw = select.gradients(xp, dy, x, w, stride, pad, dilation, need_dx, need_dw)
    return dx, dw, db
