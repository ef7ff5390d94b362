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

from . import _im2col, _parallel, _pointwise_conv, _tile_threads
from ._backend import Array, get_xp, is_gpu_array
from ._shapes import Padding, check_geometry, check_operands, output_sizes

COLUMN_BUDGET_BYTES = 64 * 2**20
"""Upper bound on the im2col buffer of one tile (forward; backward holds two such buffers)."""
CACHE_TILE_BYTES = 8 * 2**20
"""Column bytes of the tiles in flight, shared by the tile threads (each tile: this / threads,
below COLUMN_BUDGET_BYTES): cache-sized tiles run GEMMs up to 2x faster than one huge column
matrix. On 2 cores: one thread, 8 MiB tiles up to 16% faster than 4 MiB (even on two of five
shapes); a 2-thread training step, 4 MiB per thread 3-10% faster than 8 MiB."""


def conv_forward(x: Array, w: Array, b: Array | None, stride: Sequence[int], pad: Padding,
                 dilation: Sequence[int]) -> tuple[Array, tuple]:
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
    return y, (x, w, b is not None, stride, pad, dilation)


def conv_backward(dy: Array, cache: tuple, need: Sequence[bool] = (True, True, True)
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
        if need_dx and _has_full_convolution_dx(w, stride, pad, dilation):
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


def _tile_budget(total: int = 0, pieces: int = 1) -> int:
    """Column bytes of one tile when ``pieces`` threads share the cache budget, and small
    enough for ``pieces`` tiles out of ``total`` bytes of columns (one group per thread)."""
    shared = max(THREAD_ABOVE_BYTES, CACHE_TILE_BYTES // max(1, pieces))
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
        dw_t = xp.zeros(wmat.shape[::-1], dtype=x.dtype) if need_dw else None   # (C*k, F)
        cols_buffer = _buffer(xp, x, kernel, group, out) if need_dw else None
        dcols_buffer = _buffer(xp, x, kernel, group, out) if need_dx else None
        for tile in group:
            dy_tile = dy[:, tile.batch, tile.rows].reshape(f, -1)
            if need_dw:
                cols = _im2col.im2col(xpad, kernel, stride, dilation, tile, out, cols_buffer)
                dw_t += cols @ dy_tile.T        # faster in BLAS than dy_tile @ cols.T
            if need_dx:
                dcols = dcols_buffer[:wmat.shape[1] * dy_tile.shape[1]]
                dcols = dcols.reshape(wmat.shape[1], -1)
                xp.matmul(wmat.T, dy_tile, out=dcols)
                _im2col.col2im_add(dcols, dxpad, kernel, stride, dilation, tile, out)
        return dw_t

    partials = _tile_threads.run(run_tiles, tiles, threads)
    dx = xp.ascontiguousarray(dxpad[_im2col.interior(x.shape[2:], pad)]) if need_dx else None
    dw = None
    if need_dw:
        dw = xp.ascontiguousarray(_tile_threads.summed(partials).T).reshape(w.shape)
    return dx, dw


def _whole_observation_groups(tiles: list[_im2col.Tile], threads: int) -> bool:
    """True when no observation has tiles in two of the ``threads`` groups."""
    parts = _tile_threads.groups(tiles, threads)
    for before, after in zip(parts[:-1], parts[1:]):
        if before[-1].batch.stop > after[0].batch.start:
            return False
    return True


# ---- plane-shifted GEMMs ---------------------------------------------------------------------
# Columns over the trailing spatial axes only (``_im2col.plane_columns``, k' = prod(K[1:]) rows
# per channel) hold every input plane of a tile once. With first-axis stride s, kernel offset j
# reads input plane ``o s + j d_1 = (o + q) s + r`` (r, q = divmod(j d_1, s)): the planes of
# phase r (``xpad[:, :, r::s]``) shifted by q. Per phase, the columns hold ``halo`` (largest q)
# planes more than the tile's outputs. Forward: per phase ONE GEMM ``W (J F, C k') @ cols``
# stacking the phase's J offsets (J F rows run far better in BLAS than F), then the shifted
# slices summed into y. dW: one GEMM ``cols @ DY^T`` with DY (J F, nb ext) holding dy shifted
# by each offset. K_1 times fewer column copies than full im2col; the stacked GEMMs also cover
# the halo planes (ext/span more work), so F >= STACK_BELOW_FILTERS runs a GEMM per offset.

STACK_BELOW_FILTERS = 64
"""Fewer filters than this: stack a phase's first-axis offsets into one GEMM (BLAS runs an
(F, K) @ (K, n) product with small F well below peak); else one GEMM per offset, no halo work."""


THREAD_ABOVE_BYTES = 2**20
"""Columns of all tiles above this: tiles run on ``_tile_threads`` threads, at most one thread
per this many bytes, and no tile below it (smaller, the hand-offs cost more than they save)."""


def _column_bytes(x: Array, w: Array, out) -> int:
    """Bytes of the plane columns of the whole batch (without halo planes)."""
    return x.shape[0] * math.prod(w.shape[3:]) * x.shape[1] * math.prod(out) * x.dtype.itemsize


def _uses_plane_shifts(x: Array, w: Array, stride) -> bool:
    """3-D, a first-axis kernel of 2+ and GEMM depth C k' >= 32 (1-D/2-D: full im2col, faster)."""
    return x.ndim == 5 and w.shape[2] > 1 and x.shape[0] * math.prod(w.shape[3:]) >= 32


class _PlaneTiling:
    """Tiles, padded input, phases and column buffer of a plane-shifted convolution."""

    def __init__(self, xp, x: Array, w: Array, stride, pad, dilation, out, pieces: int = 1):
        self.kernel_rest, self.out = w.shape[3:], tuple(out)
        self.stride, self.dilation_rest = stride, dilation[1:]
        self.rows = x.shape[0] * math.prod(w.shape[3:])              # C k'
        self.plane = math.prod(out[1:])
        self.phases: dict[int, list[tuple[int, int]]] = {}           # r -> [(j, q)]
        for j in range(w.shape[2]):
            q, r = divmod(j * dilation[0], stride[0])
            self.phases.setdefault(r, []).append((j, q))
        self.halo = max(q for offsets in self.phases.values() for _, q in offsets)
        position_bytes = self.rows * x.dtype.itemsize
        total = position_bytes * x.shape[1] * (out[0] + self.halo) * self.plane
        self.tiles = _im2col.plan_tiles(x.shape[1], out, position_bytes,
                                        _tile_budget(total, pieces), self.halo, pieces)
        self.xpad = _im2col.pad_array(x, pad)
        self.most = max((t.batch.stop - t.batch.start) * (t.rows.stop - t.rows.start + self.halo)
                        for t in self.tiles) * self.plane           # largest nb * ext

    def columns(self, tile: _im2col.Tile, phase: int, buffer: Array
                ) -> tuple[Array, slice, int]:
        """``(cols (C k', nb, ext), output columns of the tile, span = its outputs per obs)``;
        the columns are written into ``buffer`` (``rows * most`` elements)."""
        halo = max(q for _, q in self.phases[phase])
        planes = self.xpad[:, :, phase::self.stride[0]]
        cols = _im2col.plane_columns(planes, self.kernel_rest, self.stride[1:],
                                     self.dilation_rest, tile, self.out, halo, buffer)
        span = (tile.rows.stop - tile.rows.start) * self.plane
        first = tile.rows.start * self.plane
        return cols, slice(first, first + span), span


def _columns_forward(xp, x, w, stride, pad, dilation, out):
    """``_tiled_forward`` or its plane-shifted variant, whichever fits the geometry."""
    if not _uses_plane_shifts(x, w, stride):
        return _tiled_forward(xp, x, w, stride, pad, dilation, out)
    f, kh = w.shape[:3:2]
    threads = _tile_thread_count(x, _column_bytes(x, w, out))
    plan = _PlaneTiling(xp, x, w, stride, pad, dilation, out, threads)
    w_by_offset = xp.ascontiguousarray(xp.moveaxis(w, 2, 0)).reshape(kh, f, plan.rows)
    y = xp.empty((f, x.shape[1]) + tuple(out), dtype=x.dtype)
    y3 = y.reshape(f, x.shape[1], -1)
    stack = f < STACK_BELOW_FILTERS

    def run_tiles(tiles: list[_im2col.Tile]) -> None:
        buffer = xp.empty(plan.rows * plan.most, dtype=x.dtype)
        products = xp.empty((kh if stack else 1) * f * plan.most, dtype=x.dtype)
        for tile in tiles:
            _forward_tile(xp, plan, tile, w_by_offset, y3, stack, buffer, products)

    _tile_threads.run(run_tiles, plan.tiles, threads)
    return y


def _forward_tile(xp, plan: _PlaneTiling, tile: _im2col.Tile, w_by_offset: Array, y3: Array,
                  stack: bool, buffer: Array, products: Array) -> None:
    """The outputs ``y3 (F, N, L)`` of one tile (writes only that tile's columns of ``y3``)."""
    f = w_by_offset.shape[1]
    terms, used, first = [], 0, True
    for phase, offsets in plan.phases.items():
        cols, outputs, span = plan.columns(tile, phase, buffer)
        if stack:     # one GEMM for the phase's offsets; products stay for the sum below
            size = len(offsets) * f * cols.shape[1] * cols.shape[2]
            product = products[used:used + size].reshape((len(offsets), f) + cols.shape[1:])
            used += size
            weights = w_by_offset[[j for j, _ in offsets]].reshape(-1, plan.rows)
            xp.matmul(weights, cols.reshape(plan.rows, -1),
                      out=product.reshape(len(offsets) * f, -1))
            terms += [product[i, ..., q * plan.plane:q * plan.plane + span]
                      for i, (_, q) in enumerate(offsets)]
            continue
        target = y3[:, tile.batch, outputs].transpose(1, 0, 2)  # (nb, F, span)
        product = products[:f * cols.shape[1] * span].reshape(cols.shape[1], f, span)
        columns = cols.transpose(1, 0, 2)                        # (nb, C k', ext)
        for j, q in offsets:      # per offset: (nb, F, span) batched GEMMs
            view = columns[..., q * plan.plane:q * plan.plane + span]
            xp.matmul(w_by_offset[j], view, out=target if first else product)
            if not first:
                target += product
            first = False
    if stack:
        _sum_into(xp, y3[:, tile.batch, outputs], terms)


def _sum_into(xp, target: Array, terms: list[Array]) -> None:
    if len(terms) == 1:
        target[...] = terms[0]
        return
    xp.add(terms[0], terms[1], out=target)
    for term in terms[2:]:
        target += term


def _columns_dw(xp, dy, x, w, stride, pad, dilation):
    """``dw (F, C, *K)`` by full im2col tiles, or per phase from plane columns."""
    if not _uses_plane_shifts(x, w, stride):
        return _tiled_backward(xp, dy, x, w, stride, pad, dilation, False, True)[1]
    f, kh = w.shape[:3:2]
    threads = _tile_thread_count(x, _column_bytes(x, w, dy.shape[2:]))
    plan = _PlaneTiling(xp, x, w, stride, pad, dilation, dy.shape[2:], threads)
    partials = _tile_threads.run(lambda tiles: _dw_tiles(xp, plan, tiles, dy, f, kh),
                                 plan.tiles, threads)
    dw_by_offset = _tile_threads.summed(partials)
    dw = dw_by_offset.reshape((kh, x.shape[0]) + tuple(w.shape[3:]) + (f,))
    return xp.ascontiguousarray(xp.moveaxis(dw, (0, -1), (2, 0)))


def _dw_tiles(xp, plan: _PlaneTiling, tiles: list[_im2col.Tile], dy: Array, f: int, kh: int
              ) -> Array:
    """dW of ``tiles`` as ``(K_1, C k', F)`` (own buffers: one call per thread)."""
    dtype = dy.dtype
    dy3 = dy.reshape(f, dy.shape[1], -1)
    dw_by_offset = xp.zeros((kh, plan.rows, f), dtype=dtype)   # (K_1, C k', F)
    stack = f < STACK_BELOW_FILTERS
    buffer = xp.empty(plan.rows * plan.most, dtype=dtype)
    shifted_buffer = xp.empty(kh * f * plan.most if stack else 0, dtype=dtype)
    for tile in tiles:
        for phase, offsets in plan.phases.items():
            cols, outputs, span = plan.columns(tile, phase, buffer)
            if stack:
                shifted = shifted_buffer[:len(offsets) * f * cols.shape[1] * cols.shape[2]]
                shifted = shifted.reshape((len(offsets), f) + cols.shape[1:])
                for i, (_, q) in enumerate(offsets):   # dy shifted by q planes, zeros around
                    first = q * plan.plane
                    shifted[i, ..., :first] = 0
                    shifted[i, ..., first:first + span] = dy3[:, tile.batch, outputs]
                    shifted[i, ..., first + span:] = 0
                product = cols.reshape(plan.rows, -1) @ shifted.reshape(-1, cols.shape[1] *
                                                                        cols.shape[2]).T
                for i, (j, _) in enumerate(offsets):
                    dw_by_offset[j] += product[:, i * f:(i + 1) * f]
                continue
            for i, n in enumerate(range(tile.batch.start, tile.batch.stop)):   # per offset
                dy_t = dy3[:, n, outputs].T
                for j, q in offsets:
                    dw_by_offset[j] += cols[:, i, q * plan.plane:q * plan.plane + span] @ dy_t
    return dw_by_offset
