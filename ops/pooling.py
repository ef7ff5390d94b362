"""Max, average and global average pooling, vectorised over windows (loop over pool offsets).

Shapes: x ``(C, N, *S)``; pool size ``P``, stride ``s``, padding (before, after) per dim;
y ``(C, N, *O)`` with ``O = floor((S + before + after - P) / s) + 1``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from . import _im2col
from ._backend import Array, get_xp
from ._shapes import Padding, check_geometry, output_sizes


def max_pool_forward(x: Array, pool: Sequence[int], stride: Sequence[int], pad: Padding
                     ) -> tuple[Array, tuple]:
    """Maximum of each window; pads are -inf and never win. Returns ``(y, cache)``.

    The cache keeps the window offset of each maximum (on ties, the first one in column-major
    order over the window: h fastest). See also: maxPooling2dLayer, maxPooling3dLayer.

    >>> import numpy as np
    >>> max_pool_forward(np.array([[[1.0, 3.0, 2.0]]]), (2,), (1,), ((0, 1),))[0].tolist()
    [[[3.0, 3.0, 2.0]]]
    """
    xp = get_xp(x)
    geometry = _geometry(x, pool, stride, pad, empty_windows_allowed=False)
    xpad = _im2col.pad_array(x, geometry[2], fill=-np.inf)
    views = _windows(xpad, *geometry)
    y = next(views).copy()
    arg = xp.zeros(y.shape, dtype=np.uint8 if math.prod(geometry[0]) < 256 else np.int32)
    for j, view in enumerate(views, start=1):
        better = view > y
        xp.copyto(y, view, where=better)
        arg = xp.where(better, arg.dtype.type(j), arg)
    return y, (arg, x.shape, geometry)


def max_pool_backward(dy: Array, cache: tuple) -> Array:
    """Route each output's gradient to its argmax (accumulating where windows overlap)."""
    arg, shape, geometry = cache
    xp = get_xp(dy, arg)
    return _scatter(xp, (xp.where(arg == j, dy, 0) for j in range(math.prod(geometry[0]))),
                    shape, geometry, dy.dtype)


def avg_pool_forward(x: Array, pool: Sequence[int], stride: Sequence[int], pad: Padding,
                     padding_value: float | str = 0) -> tuple[Array, tuple]:
    """Mean of each window; returns ``(y, cache)``.

    padding_value 0: pads count as zeros, divide by prod(pool) (MATLAB default);
    "mean": pads are excluded, divide by the number of real elements in the window.
    See also: averagePooling2dLayer, averagePooling3dLayer.

    >>> import numpy as np
    >>> x = np.array([[[2.0, 4.0]]])
    >>> avg_pool_forward(x, (2,), (1,), ((0, 1),))[0].tolist()
    [[[3.0, 2.0]]]
    >>> avg_pool_forward(x, (2,), (1,), ((0, 1),), padding_value="mean")[0].tolist()
    [[[3.0, 4.0]]]
    """
    xp = get_xp(x)
    if not (padding_value == 0 or padding_value == "mean"):
        raise ValueError(f"padding_value must be 0 or 'mean'. Received: {padding_value!r}.")
    geometry = _geometry(x, pool, stride, pad, empty_windows_allowed=padding_value == 0)
    views = _windows(_im2col.pad_array(x, geometry[2]), *geometry)
    y = next(views).copy()
    for view in views:
        y += view
    if padding_value == "mean":
        divisor = xp.asarray(_window_counts(x.shape[2:], geometry, y.shape[2:]), dtype=x.dtype)
    else:
        divisor = x.dtype.type(math.prod(pool))
    y /= divisor
    return y, (divisor, x.shape, geometry)


def avg_pool_backward(dy: Array, cache: tuple) -> Array:
    """Spread ``dy / divisor`` evenly over each window (pads receive nothing)."""
    divisor, shape, geometry = cache
    share = dy / divisor
    return _scatter(get_xp(dy), (share for _ in range(math.prod(geometry[0]))), shape,
                    geometry, share.dtype)


def global_avg_pool_forward(x: Array) -> tuple[Array, tuple]:
    """Mean over all spatial axes: ``y (C, N, 1, ..., 1)``. See also: globalAveragePooling3dLayer.

    >>> import numpy as np
    >>> global_avg_pool_forward(np.arange(4.0).reshape(1, 1, 2, 2))[0].tolist()
    [[[[1.5]]]]
    """
    return x.mean(axis=tuple(range(2, x.ndim)), keepdims=True), x.shape


def global_avg_pool_backward(dy: Array, cache: tuple) -> Array:
    """``dx = dy / prod(S)`` broadcast over the spatial axes (a new writable array)."""
    shape = cache
    dx = get_xp(dy).empty(shape, dtype=dy.dtype)
    dx[...] = dy / math.prod(shape[2:])
    return dx


def _geometry(x: Array, pool, stride, pad, empty_windows_allowed: bool) -> tuple:
    """Validated ``(pool, stride, pad, out)``; optionally reject windows made only of padding."""
    pool, stride = tuple(int(p) for p in pool), tuple(int(s) for s in stride)
    pad = tuple((int(b), int(a)) for b, a in pad)
    if x.ndim not in (3, 4, 5):
        raise ValueError("Expected x (C, N, *S) with 1 to 3 spatial dims. "
                         f"Received: x of shape {x.shape}.")
    check_geometry(x.ndim - 2, pool, stride, pad, (1,) * len(pool))
    out = output_sizes(x.shape[2:], pool, stride, pad)
    geometry = (pool, stride, pad, out)
    if not empty_windows_allowed and np.min(_window_counts(x.shape[2:], geometry, out)) == 0:
        raise ValueError(
            "Some pooling windows would contain only padding. Use padding smaller than the pool "
            f"size. Received: input sizes {x.shape[2:]}, pool {pool}, stride {stride}, "
            f"padding {pad}.")
    return geometry


def _windows(xpad: Array, pool, stride, pad, out):
    """Views ``(C, N, *O)`` of ``xpad`` for each pool offset, in MATLAB's column-major order
    over the window (h fastest)."""
    whole = _im2col.Tile(slice(0, xpad.shape[1]), slice(0, out[0]))
    for reversed_offset in np.ndindex(*pool[::-1]):
        offset = reversed_offset[::-1]
        yield xpad[_im2col.window(whole, offset, out, stride, (1,) * len(pool))]


def _scatter(xp, contributions, shape, geometry, dtype) -> Array:
    """Sum the per-offset ``(C, N, *O)`` contributions back onto the ``(C, N, *S)`` input."""
    pool, stride, pad, out = geometry
    dxpad = xp.zeros(_im2col.padded_shape(shape, pad), dtype=dtype)
    for view, value in zip(_windows(dxpad, pool, stride, pad, out), contributions):
        view += value
    return xp.ascontiguousarray(dxpad[_im2col.interior(shape[2:], pad)])


def _window_counts(sizes, geometry, out) -> np.ndarray:
    """Number of real (unpadded) elements in each window, shape ``O`` (host array)."""
    pool, stride, pad, _ = geometry
    counts = np.ones((), dtype=np.int64)
    for n, p, s, (before, _), o in zip(sizes, pool, stride, pad, out):
        start = np.arange(o) * s - before
        per_dim = np.minimum(start + p, n) - np.maximum(start, 0)
        counts = np.multiply.outer(counts, np.maximum(per_dim, 0))
    return counts
