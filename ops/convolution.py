"""N-d convolution (cross-correlation, as MATLAB's convolution layers) lowered to GEMMs.

Shapes: x ``(C, N, *S)``, w ``(F, C, *K)``, b ``(F,)`` or None, y ``(F, N, *O)`` with
``O = floor((S + before + after - ((K - 1) d + 1)) / s) + 1``.

``y[f, n, o] = b[f] + sum_{c, j} w[f, c, j] * xpad[c, n, o * s + j * d]``, computed as
``W (F, C*k) @ cols (C*k, N*L) -> (F, N*L)``, already the output layout. The column matrix is
built tile by tile (see ``_im2col``) so it never exceeds ``COLUMN_BUDGET_BYTES``; a 1x1 unpadded
convolution is a single GEMM on the ``(C, N*L)`` view (strided inputs are subsampled first).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from . import _im2col, _parallel, _plane_shifts, _pointwise_conv, _tile_threads
from ._backend import Array, get_xp, is_gpu_array
from ._shapes import Padding, check_geometry, check_operands, output_sizes

COLUMN_BUDGET_BYTES = 64 * 2**20
"""Upper bound on the im2col buffer of one tile (forward; backward holds two such buffers)."""
CACHE_TILE_BYTES = 8 * 2**20
"""Column bytes of the tiles in flight, shared by the tile threads (each tile: this / threads,
below COLUMN_BUDGET_BYTES): cache-sized tiles run GEMMs up to 2x faster than one huge column
matrix. On 2 cores: one thread, 8 MiB tiles up to 16% faster than 4 MiB (even on two of five
shapes); a 2-thread training step, 4 MiB per thread 3-10% faster than 8 MiB."""


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
        if _pointwise_conv.applies(w, pad):
            y = _pointwise_conv.pointwise_forward(xp, x, w, stride, out)
        else:
            y = _columns_forward(xp, x, w, stride, pad, dilation, out)
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
    def gradients(want_dx: bool, want_dw: bool) -> tuple[Array | None, Array | None]:
        return _weight_and_input_gradients(xp, dy, x, w, stride, pad, dilation, want_dx, want_dw)

    with _parallel.owning_cores(x):
        big = _full_column_bytes(x, w.shape[2:], dy.shape[2:]) > THREAD_ABOVE_BYTES
        if need_dx and need_dw and big:    # independent halves: one core each on two cores
            (dx, _), (_, dw) = _tile_threads.in_pair(lambda: gradients(True, False),
                                                     lambda: gradients(False, True), like=x)
        else:
            dx, dw = gradients(need_dx, need_dw)
    return dx, dw, db


def _weight_and_input_gradients(xp, dy, x, w, stride, pad, dilation, need_dx, need_dw):
    if _pointwise_conv.applies(w, pad):
        dx, dw = _pointwise_conv.pointwise_backward(xp, dy, x, w, stride, need_dx, need_dw)
    else:
        dx = None
        if need_dx and _has_full_convolution_dx(w, stride, pad, dilation) and \
                dy.size >= w.shape[0] ** 2:     # else the flipped weight copy costs more
            dx = _full_convolution_dx(xp, dy, w, pad, dilation, x.shape[2:])
        elif need_dx:
            dx = _tiled_backward(xp, dy, x, w, stride, pad, dilation, True, False)[0]
        dw = _columns_dw(xp, dy, x, w, stride, pad, dilation) if need_dw else None
    return dx, dw


def _has_full_convolution_dx(w: Array, stride, pad: Padding, dilation) -> bool:
    """Unit stride and padding at most the dilated kernel extent minus one on every side."""
    return all(s == 1 for s in stride) and all(
        max(p) <= (k - 1) * d for k, d, p in zip(w.shape[2:], dilation, pad))


def _full_convolution_dx(xp, dy, w, pad, dilation, in_sizes):
    """dx of a unit-stride convolution as a forward convolution (gathers instead of col2im).

    ``dx[c, i] = sum_{f, j} w[f, c, j] dy[f, i + before - j d]``: the convolution of ``dy``,
    padded by ``(k - 1) d - pad``, with ``w`` flipped and transposed to ``(C, F, *K)``.
    """
    ndim = w.ndim - 2
    flipped = w[(slice(None), slice(None)) + (slice(None, None, -1),) * ndim]
    w_t = xp.ascontiguousarray(flipped.transpose(1, 0, *range(2, w.ndim)))
    pad_t = tuple(((k - 1) * d - b, (k - 1) * d - a)
                  for k, d, (b, a) in zip(w.shape[2:], dilation, pad))
    return _columns_forward(xp, dy, w_t, (1,) * ndim, pad_t, dilation, tuple(in_sizes))


def _tiles(x: Array, kernel: Sequence[int], out: Sequence[int], pieces: int = 1
           ) -> list[_im2col.Tile]:
    """Full-im2col tiles within the budget, at least ``pieces`` of them when possible."""
    position_bytes = x.shape[0] * math.prod(kernel) * x.dtype.itemsize
    budget = _tile_budget(position_bytes * x.shape[1] * math.prod(out), pieces)
    return _im2col.plan_tiles(x.shape[1], out, position_bytes, budget, pieces=pieces)


def _tile_thread_count(x: Array, column_bytes: int) -> int:
    """Threads for the tiles of a convolution whose columns (all tiles) take ``column_bytes``:
    at most one per THREAD_ABOVE_BYTES of columns (a many-core machine gets no sliver tiles)."""
    if column_bytes <= THREAD_ABOVE_BYTES:
        return 1
    return min(_tile_threads.num_threads(like=x), column_bytes // max(1, THREAD_ABOVE_BYTES))


def _tile_budget(total: int = 0, pieces: int = 1, least: int = 0) -> int:
    """Column bytes of one tile when ``pieces`` threads share the cache budget (or ``least``,
    if more, within the threads' share of COLUMN_BUDGET_BYTES: the tiles in flight stay
    within it on any core count), and small enough for ``pieces`` tiles out of ``total``
    bytes of columns (one group per thread)."""
    pieces = max(1, pieces)
    shared = max(THREAD_ABOVE_BYTES, CACHE_TILE_BYTES // pieces,
                 min(least, COLUMN_BUDGET_BYTES // pieces))
    budget = min(COLUMN_BUDGET_BYTES, shared)
    return min(budget, max(1, -(-total // pieces))) if pieces > 1 else budget


def _buffer(xp, x: Array, kernel: Sequence[int], tiles: list[_im2col.Tile], out) -> Array:
    """Flat scratch buffer big enough for the columns of the largest tile."""
    positions = max(math.prod(_im2col.tile_out_sizes(t, out)) for t in tiles)
    return xp.empty(x.shape[0] * math.prod(kernel) * positions, dtype=x.dtype)


def _full_column_bytes(x: Array, kernel: Sequence[int], out: Sequence[int]) -> int:
    return x.shape[0] * math.prod(kernel) * x.shape[1] * math.prod(out) * x.dtype.itemsize


def _tiled_forward(xp, x, w, stride, pad, dilation, out):
    kernel = w.shape[2:]
    f = w.shape[0]
    xpad = _im2col.pad_array(x, pad)
    y = xp.empty((f, x.shape[1]) + tuple(out), dtype=x.dtype)
    wmat = w.reshape(f, -1)
    threads = _tile_thread_count(x, _full_column_bytes(x, kernel, out))
    tiles = _tiles(x, kernel, out, threads)

    def run_tiles(group: list[_im2col.Tile]) -> None:
        buffer = _buffer(xp, x, kernel, group, out)
        for tile in group:
            cols = _im2col.im2col(xpad, kernel, stride, dilation, tile, out, buffer)
            target = y[:, tile.batch, tile.rows]
            matrix = _matrix_view(target)
            if matrix is not None:            # the GEMM writes the output in place
                xp.matmul(wmat, cols, out=matrix)
            else:
                target[...] = (wmat @ cols).reshape(target.shape)

    _tile_threads.run(run_tiles, tiles, threads)
    return y


def _matrix_view(target: Array) -> Array | None:
    """``target (F, ...)`` as an ``(F, rest)`` view for NumPy's matmul ``out=``, else None."""
    if is_gpu_array(target) or not target[0].flags.c_contiguous:
        return None
    return target.reshape(target.shape[0], -1)     # merges contiguous axes: always a view


def _tiled_backward(xp, dy, x, w, stride, pad, dilation, need_dx, need_dw):
    """dx by col2im and/or dW by full im2col, tile groups on threads (dW partial sums added;
    dx only threaded when no observation is cut across two groups, col2im windows overlap)."""
    kernel, out = w.shape[2:], dy.shape[2:]
    f = w.shape[0]
    wmat = w.reshape(f, -1)
    threads = _tile_thread_count(x, _full_column_bytes(x, kernel, out))
    tiles = _tiles(x, kernel, out, threads)
    if need_dx and not _whole_observation_groups(tiles, threads):
        threads = 1
    xpad = _im2col.pad_array(x, pad) if need_dw else None
    dxpad = xp.zeros(_im2col.padded_shape(x.shape, pad), dtype=x.dtype) if need_dx else None

    def run_tiles(group: list[_im2col.Tile]) -> Array | None:
        dw = None                                                          # (F, C*k)
        cols_buffer = _buffer(xp, x, kernel, group, out) if need_dw else None
        dcols_buffer = _buffer(xp, x, kernel, group, out) if need_dx else None
        for tile in group:
            dy_tile = dy[:, tile.batch, tile.rows].reshape(f, -1)
            if need_dw:      # in w's own layout: no transpose of a (large) dW at the end
                cols = _im2col.im2col(xpad, kernel, stride, dilation, tile, out, cols_buffer)
                product = dy_tile @ cols.T
                if dw is None:
                    dw = product
                else:
                    dw += product
            if need_dx:
                dcols = _columns_gradient(xp, wmat, dy_tile, dcols_buffer)
                _im2col.col2im_add(dcols, dxpad, kernel, stride, dilation, tile, out)
        return dw

    partials = _tile_threads.run(run_tiles, tiles, threads)
    dx = xp.ascontiguousarray(dxpad[_im2col.interior(x.shape[2:], pad)]) if need_dx else None
    dw = _tile_threads.summed(partials).reshape(w.shape) if need_dw else None
    return dx, dw


def _columns_gradient(xp, wmat: Array, dy_tile: Array, buffer: Array) -> Array:
    """``dcols (C k, n) = W^T dy``, in ``buffer``. With fewer positions n than filters it is
    computed as ``(dy^T W)^T`` (a transposed view): ~2x faster in OpenBLAS there (n = 16,
    512 filters); col2im then reads it strided, which only few positions can afford."""
    n = dy_tile.shape[1]
    dcols = buffer[:wmat.shape[1] * n]
    if n < wmat.shape[0] and not is_gpu_array(dy_tile):
        return xp.matmul(dy_tile.T, wmat, out=dcols.reshape(n, -1)).T
    return xp.matmul(wmat.T, dy_tile, out=dcols.reshape(wmat.shape[1], n))


def _whole_observation_groups(tiles: list[_im2col.Tile], threads: int) -> bool:
    """True when no observation has tiles in two of the ``threads`` groups."""
    parts = _tile_threads.groups(tiles, threads)
    for before, after in zip(parts[:-1], parts[1:]):
        if before[-1].batch.stop > after[0].batch.start:
            return False
    return True


THREAD_ABOVE_BYTES = 2**20
"""Columns of all tiles above this: tiles run on ``_tile_threads`` threads, at most one thread
per this many bytes, and no tile below it (smaller, the hand-offs cost more than they save)."""


def _columns_forward(xp, x, w, stride, pad, dilation, out):
    """``_tiled_forward`` or its plane-shifted variant, whichever fits the geometry."""
    if not _plane_shifts.uses_plane_shifts(x, w, stride):
        return _tiled_forward(xp, x, w, stride, pad, dilation, out)
    threads = _tile_thread_count(x, _plane_shifts.column_bytes(x, w, out))
    return _plane_shifts.forward(xp, x, w, stride, pad, dilation, out, threads,
                                 lambda total, least: _tile_budget(total, threads, least))


def _columns_dw(xp, dy, x, w, stride, pad, dilation):
    """``dw (F, C, *K)`` by full im2col tiles, or per phase from plane columns."""
    if not _plane_shifts.uses_plane_shifts(x, w, stride):
        return _tiled_backward(xp, dy, x, w, stride, pad, dilation, False, True)[1]
    threads = _tile_thread_count(x, _plane_shifts.column_bytes(x, w, dy.shape[2:]))
    return _plane_shifts.weight_gradient(xp, dy, x, w, stride, pad, dilation, threads,
                                         lambda total, least: _tile_budget(total, threads, least))
