"""The one place that picks how a convolution runs (forward, dx, dW) and on how many threads.

Forward ``y``:
  * 1x1 kernel, no padding  -> ``pointwise`` (one GEMM on the ``(C, N*L)`` view);
  * ``plane_shifts.uses_plane_shifts`` (3-D from a few positions up, large 2-D; unit stride
    on the CPU, any stride on a GPU) -> ``plane_shifts.forward``;
  * otherwise -> ``im2col.tiled_forward`` (full im2col tiles within COLUMN_BUDGET_BYTES).
Input gradient ``dx``:
  * pointwise -> ``pointwise``;
  * unit stride, padding within the kernel extent, ``dy`` not tiny -> the forward convolution
    of ``dy`` with the flipped weights (``_full_convolution_dx``: gathers, not col2im);
  * otherwise -> ``im2col.tiled_backward`` (col2im).
Weight gradient ``dW``: pointwise, plane shifts or full im2col, as the forward.
dx and dW of a large layer run as independent halves on two threads (``tile_threads.in_pair``).

GPU arrays take the same decisions with one thread (the ``_cpu`` runtime passes them through);
the algorithms' GPU variants are inside them (no ``out=`` GEMMs, one stacked GEMM per phase).
Thread counts and tile sizes: ``tile_thread_count``, ``tile_budget`` and the constants below
(figures: docs/benchmarks.md#tuning-constants).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from . import im2col, plane_shifts, pointwise
from .._backend import Array
from .._cpu import tile_threads as _tile_threads

COLUMN_BUDGET_BYTES = 64 * 2**20
"""Hard cap on one tile's im2col buffer (backward holds two) (docs/benchmarks.md#tuning-constants)."""
CACHE_TILE_BYTES = 8 * 2**20
"""Column bytes of the tiles in flight, shared by the tile threads (docs/benchmarks.md#tuning-constants)."""
THREAD_ABOVE_BYTES = 2**20
"""Columns per tile thread at least (fewer: one thread, no smaller tile) (docs/benchmarks.md#tuning-constants)."""


def forward(xp, x: Array, w: Array, stride, pad, dilation, out) -> Array:
    """``y (F, N, *O)`` without bias, by the algorithm chosen above."""
    if pointwise.applies(w, pad):
        return pointwise.pointwise_forward(xp, x, w, stride, out)
    return _columns_forward(xp, x, w, stride, pad, dilation, out)


def gradients(xp, dy: Array, x: Array, w: Array, stride, pad, dilation, need_dx: bool,
              need_dw: bool) -> tuple[Array | None, Array | None]:
    """``(dx, dw)`` (None where not needed); dx and dW of a large layer on two threads."""
    def part(want_dx: bool, want_dw: bool) -> tuple[Array | None, Array | None]:
        return _weight_and_input_gradients(xp, dy, x, w, stride, pad, dilation, want_dx, want_dw)

    big = _full_column_bytes(x, w.shape[2:], dy.shape[2:]) > THREAD_ABOVE_BYTES
    if need_dx and need_dw and big:    # independent halves: one core each on two cores
        (dx, _), (_, dw) = _tile_threads.in_pair(lambda: part(True, False),
                                                 lambda: part(False, True), like=x)
        return dx, dw
    return part(need_dx, need_dw)


def _weight_and_input_gradients(xp, dy, x, w, stride, pad, dilation, need_dx, need_dw):
    if pointwise.applies(w, pad):
        return pointwise.pointwise_backward(xp, dy, x, w, stride, need_dx, need_dw)
    dx = None
    if need_dx and _has_full_convolution_dx(w, stride, pad, dilation) and \
            dy.size >= w.shape[0] ** 2:     # else the flipped weight copy costs more
        dx = _full_convolution_dx(xp, dy, w, pad, dilation, x.shape[2:])
    elif need_dx:
        dx = _tiled_backward(xp, dy, x, w, stride, pad, dilation, True, False)[0]
    dw = _columns_dw(xp, dy, x, w, stride, pad, dilation) if need_dw else None
    return dx, dw


def _has_full_convolution_dx(w: Array, stride, pad, dilation) -> bool:
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


def _columns_forward(xp, x, w, stride, pad, dilation, out):
    """Full im2col tiles or plane-shifted columns, whichever fits the geometry."""
    if not plane_shifts.uses_plane_shifts(x, w, stride):
        threads = tile_thread_count(x, _full_column_bytes(x, w.shape[2:], out))
        tiles = _tiles(x, w.shape[2:], out, threads)
        return im2col.tiled_forward(xp, x, w, stride, pad, dilation, out, tiles, threads)
    threads = tile_thread_count(x, plane_shifts.column_bytes(x, w, out))
    return plane_shifts.forward(xp, x, w, stride, pad, dilation, out, threads,
                                lambda total, least: tile_budget(total, threads, least))


def _columns_dw(xp, dy, x, w, stride, pad, dilation):
    """``dw (F, C, *K)`` by full im2col tiles, or per phase from plane columns."""
    if not plane_shifts.uses_plane_shifts(x, w, stride):
        return _tiled_backward(xp, dy, x, w, stride, pad, dilation, False, True)[1]
    threads = tile_thread_count(x, plane_shifts.column_bytes(x, w, dy.shape[2:]))
    return plane_shifts.weight_gradient(xp, dy, x, w, stride, pad, dilation, threads,
                                        lambda total, least: tile_budget(total, threads, least))


def _tiled_backward(xp, dy, x, w, stride, pad, dilation, need_dx, need_dw):
    threads = tile_thread_count(x, _full_column_bytes(x, w.shape[2:], dy.shape[2:]))
    tiles = _tiles(x, w.shape[2:], dy.shape[2:], threads)
    return im2col.tiled_backward(xp, dy, x, w, stride, pad, dilation, need_dx, need_dw, tiles,
                                 threads)


def _tiles(x: Array, kernel: Sequence[int], out: Sequence[int], pieces: int = 1
           ) -> list[im2col.Tile]:
    """Full-im2col tiles within the budget, at least ``pieces`` of them when possible."""
    position_bytes = x.shape[0] * math.prod(kernel) * x.dtype.itemsize
    budget = tile_budget(position_bytes * x.shape[1] * math.prod(out), pieces)
    return im2col.plan_tiles(x.shape[1], out, position_bytes, budget, pieces=pieces)


def tile_thread_count(x: Array, column_bytes: int) -> int:
    """Threads for the tiles of a convolution whose columns (all tiles) take ``column_bytes``:
    at most one per THREAD_ABOVE_BYTES of columns (a many-core machine gets no sliver tiles)."""
    if column_bytes <= THREAD_ABOVE_BYTES:
        return 1
    return min(_tile_threads.num_threads(like=x), column_bytes // max(1, THREAD_ABOVE_BYTES))


def tile_budget(total: int = 0, pieces: int = 1, least: int = 0) -> int:
    """Column bytes of one tile when ``pieces`` threads share the cache budget (or ``least``,
    if more, within the threads' share of COLUMN_BUDGET_BYTES: the tiles in flight stay
    within it on any core count), and small enough for ``pieces`` tiles out of ``total``
    bytes of columns (one group per thread)."""
    pieces = max(1, pieces)
    shared = max(THREAD_ABOVE_BYTES, CACHE_TILE_BYTES // pieces,
                 min(least, COLUMN_BUDGET_BYTES // pieces))
    budget = min(COLUMN_BUDGET_BYTES, shared)
    return min(budget, max(1, -(-total // pieces))) if pieces > 1 else budget


def _full_column_bytes(x: Array, kernel: Sequence[int], out: Sequence[int]) -> int:
    return x.shape[0] * math.prod(kernel) * x.shape[1] * math.prod(out) * x.dtype.itemsize
