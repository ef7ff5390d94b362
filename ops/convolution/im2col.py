"""N-d im2col / col2im over tiles of bounded size, and the tiled GEMM convolution built on
them (``tiled_forward``, ``tiled_backward``), in pure xp (NumPy or CuPy).

Notation: padded input ``xpad (C, N, *Sp)``; kernel ``K`` (k = prod(K) offsets); output sizes
``O``; a *tile* is a range of observations and, when one observation is too big for the budget,
a range of output planes along the first spatial axis. The column matrix of a tile is
``(C * k, nb * L_tile)``: row ``c * k + j`` holds channel ``c`` at kernel offset ``j`` (C order
over ``K``), column order is ``(n, o_1, ..., o_D)`` — the same order as the ``(F, N, *O)`` output.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._backend import Array, as_strided, get_xp, is_gpu_array
from .._cpu import parallel as _parallel, tile_threads as _tile_threads
from .._shapes import Padding, interior, pad_array, padded_shape


PARALLEL_COPY_BYTES = 2**20
"""Columns smaller than this are copied on one thread (docs/benchmarks.md#tuning-constants)."""


class Tile(NamedTuple):
    """Observations ``batch`` and output planes ``rows`` (first spatial axis) of one tile."""

    batch: slice
    rows: slice


def plan_tiles(n: int, out_sizes: Sequence[int], bytes_per_position: int,
               budget_bytes: int, halo: int = 0, pieces: int = 1) -> list[Tile]:
    """Split ``n`` observations x ``out_sizes`` into tiles whose columns fit ``budget_bytes``.

    Whole observations are grouped when one fits (into a multiple of ``pieces`` tiles of equal
    size where ``n`` allows: one share per thread); otherwise each observation is cut into runs
    of output planes along the first spatial axis (at least one plane per tile). ``halo``:
    extra planes the columns of a tile hold per observation (see ``plane_columns``).
    """
    per_plane = bytes_per_position * math.prod(out_sizes[1:])
    planes = out_sizes[0]
    if per_plane * (planes + halo) <= budget_bytes:
        group = max(1, budget_bytes // (per_plane * (planes + halo)))
        count = -(-n // group)
        count = min(n, -(-count // pieces) * pieces)         # a multiple of pieces, balanced
        group = -(-n // count)
        return [Tile(slice(i, min(i + group, n)), slice(0, planes)) for i in range(0, n, group)]
    run = max(1, budget_bytes // per_plane - halo)
    return [Tile(slice(i, i + 1), slice(r, min(r + run, planes)))
            for i in range(n) for r in range(0, planes, run)]


def tile_out_sizes(tile: Tile, out_sizes: Sequence[int]) -> tuple[int, ...]:
    """Output sizes ``(nb, ob, *O[1:])`` covered by ``tile``."""
    return (tile.batch.stop - tile.batch.start, tile.rows.stop - tile.rows.start,
            *out_sizes[1:])


def window(tile: Tile, offset: Sequence[int], out_sizes: Sequence[int],
           stride: Sequence[int], dilation: Sequence[int]) -> tuple[slice, ...]:
    """Index into ``xpad`` of the inputs seen by kernel ``offset`` for every output of ``tile``."""
    counts = tile_out_sizes(tile, out_sizes)[1:]
    starts = (tile.rows.start,) + (0,) * (len(out_sizes) - 1)
    spatial = []
    for o, s, d, first, count in zip(offset, stride, dilation, starts, counts):
        begin = o * d + first * s
        spatial.append(slice(begin, begin + (count - 1) * s + 1, s))
    return (slice(None), tile.batch, *spatial)


def im2col(xpad: Array, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
           tile: Tile, out_sizes: Sequence[int], buffer: Array) -> Array:
    """Columns ``(C * k, nb * L_tile)`` of ``tile``, written into (the start of) ``buffer``."""
    c, k = xpad.shape[0], math.prod(kernel)
    counts = tile_out_sizes(tile, out_sizes)
    first = tile.rows.start * stride[0]
    source = xpad[:, tile.batch, first:]
    steps = [(k_i, d, s, n) for k_i, d, s, n in zip(kernel, dilation, stride, counts[1:])]
    windows = _windows(source, steps)
    cols = buffer[:math.prod(windows.shape)].reshape(windows.shape)
    _copy(cols, windows)
    return cols.reshape(c * k, -1)


def col2im_add(cols: Array, xpad: Array, kernel: Sequence[int], stride: Sequence[int],
               dilation: Sequence[int], tile: Tile, out_sizes: Sequence[int]) -> None:
    """Accumulate columns ``(C * k, nb * L_tile)`` of ``tile`` into ``xpad`` (in place)."""
    c, k = xpad.shape[0], math.prod(kernel)
    cols = cols.reshape((c, k) + tile_out_sizes(tile, out_sizes))
    for j, offset in enumerate(np.ndindex(*kernel)):
        xpad[window(tile, offset, out_sizes, stride, dilation)] += cols[:, j]


def plane_columns(xpad: Array, kernel: Sequence[int], stride: Sequence[int],
                  dilation: Sequence[int], tile: Tile, out_sizes: Sequence[int], halo: int,
                  buffer: Array) -> Array:
    """Columns over the trailing spatial axes only: ``(C * k', nb, (ob + halo) * L')``.

    ``kernel``/``stride``/``dilation`` cover the spatial axes after the first (k' = their
    product, L' = prod(O[1:])); the first axis is kept at unit stride, input planes
    ``rows.start .. rows.stop + halo``, so kernel offset ``j`` along it is the column range
    starting at ``j * dilation * L'`` of every observation (``halo = (K_1 - 1) * d_1``).
    """
    c, k = xpad.shape[0], math.prod(kernel)
    nb, ob = tile_out_sizes(tile, out_sizes)[:2]
    source = xpad[:, tile.batch, tile.rows.start:tile.rows.stop + halo]
    steps = [(1, 1, 1, ob + halo)] + [(k_i, d, s, n) for k_i, d, s, n in
                                      zip(kernel, dilation, stride, out_sizes[1:])]
    windows = _windows(source, steps)[:, 0]                  # drop the unit offset axis
    cols = buffer[:math.prod(windows.shape)].reshape(windows.shape)
    _copy(cols, windows)
    return cols.reshape(c * k, nb, -1)


def _windows(source: Array, steps: Sequence[tuple[int, int, int, int]]) -> Array:
    """A strided view ``(C, *K, nb, *O)`` of ``source (C, nb, *S)``: element
    ``[c, j, n, o] = source[c, n, o * s + j * d]``; ``steps`` = (k, d, s, o) per spatial
    axis. Every kernel offset's window in one view: one copy instead of one per offset."""
    sc, sn, *spatial = source.strides
    shape = (source.shape[0],) + tuple(k for k, _, _, _ in steps) + (source.shape[1],) + tuple(
        o for _, _, _, o in steps)
    strides = (sc,) + tuple(st * d for st, (_, d, _, _) in zip(spatial, steps)) + (sn,) + tuple(
        st * s for st, (_, _, s, _) in zip(spatial, steps))
    return as_strided(source, shape, strides)


def _copy(cols: Array, windows: Array) -> None:
    """``cols[...] = windows``, split over the channels (or the first kernel axis) on the
    ``_parallel`` threads when the columns are large."""
    axis = 0 if windows.shape[0] > 1 or windows.ndim < 3 else 1
    size = windows.shape[axis]
    threads = _parallel.num_threads() if cols.nbytes >= PARALLEL_COPY_BYTES else 1
    pieces = min(size, max(1, threads))
    if pieces <= 1:
        cols[...] = windows
        return
    bounds = [size * i // pieces for i in range(pieces + 1)]
    parts = [(slice(None),) * axis + (slice(a, b),) for a, b in zip(bounds[:-1], bounds[1:])]

    def copy(part: tuple) -> None:
        cols[part] = windows[part]

    _parallel.run(copy, parts, like=cols)


# ---- the tiled GEMM convolution (tiles and threads chosen by ``select``) --------------------
def tiled_forward(xp, x, w, stride, pad, dilation, out, tiles: list[Tile], threads: int) -> Array:
    """``y (F, N, *O) = W (F, C k) @ cols`` tile by tile, tile groups on ``threads`` threads."""
    kernel = w.shape[2:]
    f = w.shape[0]
    xpad = pad_array(x, pad)
    y = xp.empty((f, x.shape[1]) + tuple(out), dtype=x.dtype)
    wmat = w.reshape(f, -1)

    def run_tiles(group: list[Tile]) -> None:
        buffer = _buffer(xp, x, kernel, group, out)
        for tile in group:
            cols = im2col(xpad, kernel, stride, dilation, tile, out, buffer)
            target = y[:, tile.batch, tile.rows]
            matrix = _matrix_view(target)
            if matrix is not None:            # the GEMM writes the output in place
                xp.matmul(wmat, cols, out=matrix)
            else:
                target[...] = (wmat @ cols).reshape(target.shape)

    _tile_threads.run(run_tiles, tiles, threads)
    return y


def tiled_backward(xp, dy, x, w, stride, pad, dilation, need_dx, need_dw, tiles: list[Tile],
                   threads: int) -> tuple[Array | None, Array | None]:
    """dx by col2im and/or dW by full im2col, tile groups on threads (dW partial sums added;
    dx only threaded when no observation is cut across two groups, col2im windows overlap)."""
    kernel, out = w.shape[2:], dy.shape[2:]
    f = w.shape[0]
    wmat = w.reshape(f, -1)
    if need_dx and not _whole_observation_groups(tiles, threads):
        threads = 1
    xpad = pad_array(x, pad) if need_dw else None
    dxpad = xp.zeros(padded_shape(x.shape, pad), dtype=x.dtype) if need_dx else None

    def run_tiles(group: list[Tile]) -> Array | None:
        dw = None                                                          # (F, C*k)
        cols_buffer = _buffer(xp, x, kernel, group, out) if need_dw else None
        dcols_buffer = _buffer(xp, x, kernel, group, out) if need_dx else None
        for tile in group:
            dy_tile = dy[:, tile.batch, tile.rows].reshape(f, -1)
            if need_dw:      # in w's own layout: no transpose of a (large) dW at the end
                cols = im2col(xpad, kernel, stride, dilation, tile, out, cols_buffer)
                product = dy_tile @ cols.T
                if dw is None:
                    dw = product
                else:
                    dw += product
            if need_dx:
                dcols = _columns_gradient(xp, wmat, dy_tile, dcols_buffer)
                col2im_add(dcols, dxpad, kernel, stride, dilation, tile, out)
        return dw

    partials = _tile_threads.run(run_tiles, tiles, threads)
    dx = xp.ascontiguousarray(dxpad[interior(x.shape[2:], pad)]) if need_dx else None
    dw = _tile_threads.summed(partials).reshape(w.shape) if need_dw else None
    return dx, dw


def _buffer(xp, x: Array, kernel: Sequence[int], tiles: list[Tile], out) -> Array:
    """Flat scratch buffer big enough for the columns of the largest tile."""
    positions = max(math.prod(tile_out_sizes(t, out)) for t in tiles)
    return xp.empty(x.shape[0] * math.prod(kernel) * positions, dtype=x.dtype)


def _matrix_view(target: Array) -> Array | None:
    """``target (F, ...)`` as an ``(F, rest)`` view for NumPy's matmul ``out=``, else None."""
    if is_gpu_array(target) or not target[0].flags.c_contiguous:
        return None
    return target.reshape(target.shape[0], -1)     # merges contiguous axes: always a view


def _columns_gradient(xp, wmat: Array, dy_tile: Array, buffer: Array) -> Array:
    """``dcols (C k, n) = W^T dy``, in ``buffer``. With fewer positions n than filters it is
    computed as ``(dy^T W)^T`` (a transposed view, faster in OpenBLAS there: docs/benchmarks.md#tuning-constants);
    col2im then reads it strided, which only few positions can afford."""
    n = dy_tile.shape[1]
    dcols = buffer[:wmat.shape[1] * n]
    if n < wmat.shape[0] and not is_gpu_array(dy_tile):
        return xp.matmul(dy_tile.T, wmat, out=dcols.reshape(n, -1)).T
    return xp.matmul(wmat.T, dy_tile, out=dcols.reshape(wmat.shape[1], n))


def _whole_observation_groups(tiles: list[Tile], threads: int) -> bool:
    """True when no observation has tiles in two of the ``threads`` groups."""
    parts = _tile_threads.groups(tiles, threads)
    for before, after in zip(parts[:-1], parts[1:]):
        if before[-1].batch.stop > after[0].batch.start:
            return False
    return True
