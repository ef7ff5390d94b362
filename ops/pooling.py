"""Max, average and global average pooling.

Shapes: x ``(C, N, *S)``; pool size ``P``, stride ``s``, padding (before, after) per dim;
y ``(C, N, *O)`` with ``O = floor((S + before + after - P) / s) + 1``.

A window is a box, so max and sum are separable: the N-d pooling runs as 1-D poolings along
h, then w, then d, each a loop over its ``P_i`` offsets vectorised over everything else
(``sum(P)`` passes instead of ``prod(P)``). The backward pass chains the 1-D backwards in
reverse. For max pooling the strict ``>`` of each pass keeps the first maximum in MATLAB's
column-major order over the window (h fastest); max pooling skips the padded positions instead
of filling them with -inf, and runs its passes block by block over the ``(C, N)`` slices
(``BLOCK_BYTES``) so the intermediate results stay in cache.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ._cpu import parallel as _parallel
from ._backend import Array, get_xp, is_gpu_array
from ._shapes import Padding, check_geometry, interior, output_sizes, pad_array


class MaxPoolCache(NamedTuple):
    """What max_pool_backward needs: per-pass argmax offsets, x's shape, the pass geometry;
    without argmax (``keep_argmax=False``): ``args`` None, ``geometry`` (pool, stride, pad)
    and ``x`` itself, to find the offsets at backward time."""

    args: list | None
    shape: tuple
    geometry: tuple
    x: Array | None = None


class AvgPoolCache(NamedTuple):
    """What avg_pool_backward needs: per pass (divisor, input shape), x's shape, geometry."""

    passes: list
    shape: tuple
    geometry: tuple


def max_pool_forward(x: Array, pool: Sequence[int], stride: Sequence[int], pad: Padding,
                     keep_argmax: bool = True) -> tuple[Array, MaxPoolCache]:
    """Maximum of each window; pads are -inf and never win. Returns ``(y, cache)``.

    The cache keeps, per pass, the offset of each maximum (on ties the first one in
    column-major order over the window); with ``keep_argmax=False`` (inference: faster)
    it keeps ``x`` instead and a backward, if any, finds the offsets then. Pads are never
    materialised: each offset only touches the windows where it falls on a real element. The
    passes run on blocks of ``(C, N)`` slices small enough to stay in cache. See also:
    maxPooling2dLayer, maxPooling3dLayer.

    >>> import numpy as np
    >>> max_pool_forward(np.array([[[1.0, 3.0, 2.0]]]), (2,), (1,), ((0, 1),))[0].tolist()
    [[[3.0, 3.0, 2.0]]]
    """
    xp = get_xp(x)
    geometry = _geometry(x, pool, stride, pad, empty_windows_allowed=False)
    axes = _axes(geometry)
    rows = x.shape[0] * x.shape[1]
    x2 = xp.ascontiguousarray(x).reshape((rows,) + x.shape[2:])
    shapes = _pass_shapes(x2.shape, axes)
    y = xp.empty(shapes[-1], dtype=x.dtype)
    args = [xp.zeros(shape, dtype=np.uint8 if p < 256 else np.int32) if keep_argmax else None
            for shape, (_, p, _, _) in zip(shapes[1:], axes)]
    def pool_block(block: slice) -> None:
        v = x2[block]
        for (axis, p, s, o), before, arg in zip(axes, (b for b, _ in geometry[2]), args):
            v = _max_pass(xp, v, None if arg is None else arg[block], axis - 1, p, s, o, before)
        y[block] = v

    _parallel.run(pool_block, _blocks(x2))
    cache = MaxPoolCache(args, x.shape, geometry) if keep_argmax else \
        MaxPoolCache(None, x.shape, (pool, stride, pad), x)
    return y.reshape(x.shape[:2] + y.shape[1:]), cache


def max_pool_backward(dy: Array, cache: MaxPoolCache) -> Array:
    """Route each output's gradient to its argmax (accumulating where windows overlap)."""
    if cache.args is None:                # forward without argmax: find the offsets now
        cache = max_pool_forward(cache.x, *cache.geometry)[1]
    args, shape, geometry = cache[:3]
    xp = get_xp(dy)
    axes = _axes(geometry)
    rows = shape[0] * shape[1]
    shapes = _pass_shapes((rows,) + tuple(shape[2:]), axes)
    g2 = xp.ascontiguousarray(dy).reshape(shapes[-1])
    dx = xp.empty(shapes[0], dtype=dy.dtype)
    befores = [b for b, _ in geometry[2]]
    def route_block(block: slice) -> None:
        g = g2[block]
        for (axis, p, s, o), before, arg, in_shape in reversed(
                list(zip(axes, befores, args, shapes))):
            g = _max_pass_backward(xp, g, arg[block], in_shape[axis - 1], axis - 1, p, s,
                                   before)
        dx[block] = g

    _parallel.run(route_block, _blocks(dx))
    return dx.reshape(shape)


def avg_pool_forward(x: Array, pool: Sequence[int], stride: Sequence[int], pad: Padding,
                     padding_value: float | str = 0) -> tuple[Array, AvgPoolCache]:
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
    y = pad_array(x, geometry[2])
    passes = []
    for (axis, p, s, o), n, before in zip(_axes(geometry), x.shape[2:], (b for b, _ in pad)):
        views = _views(y, axis, p, s, o)
        out = views[0].copy()
        for view in views[1:]:
            out += view
        divisor = (_axis_counts(n, p, s, before, o, axis, x.ndim, xp, x.dtype)
                   if padding_value == "mean" else x.dtype.type(p))
        out /= divisor
        passes.append((divisor, y.shape))
        y = out
    return y, AvgPoolCache(passes, x.shape, geometry)


def avg_pool_backward(dy: Array, cache: AvgPoolCache) -> Array:
    """Spread ``dy / divisor`` evenly over each window (pads receive nothing)."""
    passes, shape, geometry = cache
    xp = get_xp(dy)
    g = dy
    for (axis, p, s, o), (divisor, in_shape) in reversed(list(zip(_axes(geometry), passes))):
        share = g / divisor
        g = _scatter(xp, [share] * p, in_shape, share.dtype, axis, p, s, o)
    return _crop(xp, g, shape, geometry)


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
    empty = any(np.min(_real_counts(n, p, s, b, o)) == 0
                for n, p, s, (b, _), o in zip(x.shape[2:], pool, stride, pad, out))
    if empty and not empty_windows_allowed:
        raise ValueError(
            "Some pooling windows would contain only padding. Use padding smaller than the pool "
            f"size. Received: input sizes {x.shape[2:]}, pool {pool}, stride {stride}, "
            f"padding {pad}.")
    return pool, stride, pad, out


def _axes(geometry: tuple) -> list[tuple[int, int, int, int]]:
    """``(array axis, pool, stride, out)`` of each spatial dim, in pass order (h, w, d)."""
    pool, stride, _, out = geometry
    return [(2 + i, p, s, o) for i, (p, s, o) in enumerate(zip(pool, stride, out))]


def _views(v: Array, axis: int, p: int, s: int, o: int) -> list[Array]:
    """For each offset ``j < p``: ``v`` at ``j, j + s, ..., j + (o - 1) s`` along ``axis``."""
    lead = (slice(None),) * axis
    return [v[lead + (slice(j, j + (o - 1) * s + 1, s),)] for j in range(p)]


def _scatter(xp, parts, in_shape, dtype, axis: int, p: int, s: int, o: int) -> Array:
    """Backward of one pass: the j-th of ``parts`` is added onto the pass input's offset-j view."""
    g_in = xp.zeros(in_shape, dtype=dtype)
    for view, part in zip(_views(g_in, axis, p, s, o), parts):
        view += part
    return g_in


def _crop(xp, gpad: Array, shape, geometry) -> Array:
    return xp.ascontiguousarray(gpad[interior(shape[2:], geometry[2])])


BLOCK_BYTES = 2**21
"""Input bytes of the ``(C, N)`` slices max pooling processes together (docs/benchmarks.md#tuning-constants)."""


def _blocks(x2: Array) -> list[slice]:
    """Blocks of the leading ``(C N)`` axis of ``x2``: one on the GPU, ~BLOCK_BYTES on the CPU."""
    rows = x2.shape[0]
    if is_gpu_array(x2):
        return [slice(0, rows)]
    step = max(1, BLOCK_BYTES // max(1, x2[:1].nbytes))
    return [slice(i, min(i + step, rows)) for i in range(0, rows, step)]


def _pass_shapes(shape: tuple, axes) -> list[tuple[int, ...]]:
    """Shapes ``(rows, *S)`` before the first pass and after each (axis i-1 becomes o_i)."""
    shapes = [tuple(shape)]
    for axis, _, _, o in axes:
        shape = shape[:axis - 1] + (o,) + shape[axis:]
        shapes.append(tuple(shape))
    return shapes


def _offset_ranges(n: int, p: int, s: int, before: int, o: int):
    """Per offset j: ``(j, outputs i0:i1, input slice)`` where window i's element j is real."""
    for j in range(p):
        i0 = max(0, -((j - before) // s))
        i1 = min(o, (n - 1 - j + before) // s + 1)
        if i1 > i0:
            first = i0 * s + j - before
            yield j, slice(i0, i1), slice(first, first + (i1 - i0 - 1) * s + 1, s)


def _max_pass(xp, v: Array, arg: Array | None, axis: int, p: int, s: int, o: int, before: int
              ) -> Array:
    """1-D max pooling of ``v`` along ``axis``; writes the winning offsets into ``arg`` (if any)."""
    lead = (slice(None),) * axis
    shape = v.shape[:axis] + (o,) + v.shape[axis + 1:]
    ranges = list(_offset_ranges(v.shape[axis], p, s, before, o))
    full = ranges[0][0] == 0 and ranges[0][1] == slice(0, o)
    out = v[lead + (ranges[0][2],)].copy() if full else xp.full(shape, -np.inf, dtype=v.dtype)
    for j, outs, ins in ranges[1:] if full else ranges:
        view, target = v[lead + (ins,)], out[lead + (outs,)]
        if arg is None:
            xp.maximum(target, view, out=target)
            continue
        better = view > target                # strict: the first maximum keeps the gradient
        xp.maximum(target, view, out=target)
        target_arg = arg[lead + (outs,)]
        if j == 1:        # arg is still all 0 (offset 0 never writes it): arg = better
            target_arg[...] = better
        elif j:
            xp.maximum(target_arg, better * arg.dtype.type(j), out=target_arg)
    return out


def _max_pass_backward(xp, g: Array, arg: Array, n: int, axis: int, p: int, s: int,
                       before: int) -> Array:
    """Backward of ``_max_pass``: ``g`` (output sizes) to the pass input (``n`` along axis)."""
    lead = (slice(None),) * axis
    o = g.shape[axis]
    g_in = xp.empty(g.shape[:axis] + (n,) + g.shape[axis + 1:], dtype=g.dtype)
    ranges = list(_offset_ranges(n, p, s, before, o))
    # the first s offsets of full windows (no leading pad) tile [0, o s) exactly: assign them
    tiled = before == 0 and p >= s and all(r[0] == j and r[1] == slice(0, o)
                                           for j, r in zip(range(s), ranges))
    g_in[lead + (slice(o * s if tiled else 0, None),)] = 0
    for j, outs, ins in ranges:
        winners = arg[lead + (outs,)] == j
        if tiled and j < s:
            xp.multiply(g[lead + (outs,)], winners, out=g_in[lead + (ins,)])
        else:
            g_in[lead + (ins,)] += g[lead + (outs,)] * winners
    return g_in


def _real_counts(n: int, p: int, s: int, before: int, o: int) -> np.ndarray:
    """Number of unpadded elements in each of the ``o`` windows along one dim (host array)."""
    start = np.arange(o) * s - before
    return np.maximum(np.minimum(start + p, n) - np.maximum(start, 0), 0)


def _axis_counts(n, p, s, before, o, axis, ndim, xp, dtype) -> Array:
    """``_real_counts`` shaped to broadcast along ``axis`` of an ``ndim`` array."""
    shape = [1] * ndim
    shape[axis] = o
    return xp.asarray(_real_counts(n, p, s, before, o).reshape(shape), dtype=dtype)
