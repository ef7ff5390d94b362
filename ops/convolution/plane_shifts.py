"""Plane-shifted GEMMs of a 3-D (or large 2-D) convolution: im2col over the trailing axes only.

Columns over the trailing axes (``im2col.plane_columns``, k' = prod(K[1:]) rows per channel)
hold every input plane of a tile once. With first-axis stride s, kernel offset j reads input
plane ``o s + j d_1 = (o + q) s + r`` (r, q = divmod(j d_1, s)): the planes of phase r
(``xpad[:, :, r::s]``) shifted by q. Per phase the columns hold ``halo`` (largest q) planes
more than the tile's outputs. Forward: per phase the J offsets' weights are stacked into one
GEMM ``W (J F, C k') @ cols`` (J F rows run far better in BLAS than F), then the shifted slices
are summed into y. dW: ``cols @ DY^T`` with DY (J F, ext) holding dy shifted by each offset.
K_1 times fewer column copies than full im2col. F >= STACK_BELOW_FILTERS runs a GEMM per offset.

Halo-free stacking: offset i (shift q_i) needs the product only on planes ``q_i .. q_i + ob``
of the ``ob + halo`` column planes. A stacked GEMM over all of them wastes ``halo / ob`` of its
work (figures: docs/benchmarks.md#tuning-constants); when that is at least SEGMENT_WASTE,
the planes are cut into segments by the (contiguous) range of offsets that need them and each
segment is one GEMM with just those offsets' rows (``segments``).

Shapes as in ``convolution``: x ``(C, N, *S)``, w ``(F, C, *K)``, y / dy ``(F, N, *O)``.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from . import im2col
from .._backend import Array, is_gpu_array
from .._cpu import tile_threads as _tile_threads
from .._shapes import pad_array

STACK_BELOW_FILTERS = 64
"""Fewer filters: one stacked GEMM per phase, else one per offset (docs/benchmarks.md#tuning-constants)."""
SEGMENT_WASTE = 1 / 8
"""Halo >= this fraction of a tile's planes: segmented GEMMs (docs/benchmarks.md#tuning-constants)."""
MIN_PLANES_PER_TILE = 8
"""Least output planes per tile, within the threads' column cap (docs/benchmarks.md#tuning-constants)."""
PLANE_2D_MIN_POSITIONS = 256
"""2-D: plane shifts from this many positions per observation (docs/benchmarks.md#tuning-constants)."""
PLANE_3D_MIN_POSITIONS = 64
"""3-D: plane shifts from this many positions per observation (docs/benchmarks.md#tuning-constants)."""


def uses_plane_shifts(x: Array, w: Array, stride) -> bool:
    """A first-axis kernel of 2+ and GEMM depth C k' >= 32; in 3-D from PLANE_3D_MIN_POSITIONS
    positions per observation (on the CPU at unit stride), in 2-D on the CPU at unit stride
    from PLANE_2D_MIN_POSITIONS; 1-D: full im2col (faster there)."""
    if x.ndim not in (4, 5) or w.shape[2] < 2 or x.shape[0] * math.prod(w.shape[3:]) < 32:
        return False
    unit_stride_or_gpu = all(s == 1 for s in stride) or is_gpu_array(x)
    if x.ndim == 5:       # and not for a weight larger than the data (its permuted copies)
        positions = math.prod(x.shape[2:])
        return (unit_stride_or_gpu and positions >= PLANE_3D_MIN_POSITIONS
                and x.shape[1] * positions >= w.shape[0])
    return (all(s == 1 for s in stride) and not is_gpu_array(x)
            and math.prod(x.shape[2:]) >= PLANE_2D_MIN_POSITIONS)


def column_bytes(x: Array, w: Array, out) -> int:
    """Bytes of the plane columns of the whole batch (without halo planes)."""
    return x.shape[0] * math.prod(w.shape[3:]) * x.shape[1] * math.prod(out) * x.dtype.itemsize


def segments(shifts: list[int], planes: int) -> list[tuple[int, int, int, int]]:
    """``[(first plane, end plane, first offset, end offset)]``: the column planes of a phase
    cut by the range of offsets (shifts sorted ascending) whose outputs read them.

    >>> segments([0, 1, 2], 4)
    [(0, 1, 0, 1), (1, 2, 0, 2), (2, 4, 0, 3), (4, 5, 1, 3), (5, 6, 2, 3)]
    """
    bounds = sorted({0, planes + max(shifts)} | set(shifts) | {q + planes for q in shifts})
    cuts = []
    for begin, end in zip(bounds[:-1], bounds[1:]):
        needed = [i for i, q in enumerate(shifts) if q <= begin and end <= q + planes]
        if needed:
            cuts.append((begin, end, needed[0], needed[-1] + 1))
    return cuts


class PlaneTiling:
    """Tiles, padded input, phases and column buffer of a plane-shifted convolution;
    ``budget(total column bytes, least)`` gives the column bytes of one tile (at least
    ``least`` where the caller's cap allows: MIN_PLANES_PER_TILE output planes)."""

    def __init__(self, x: Array, w: Array, stride, pad, dilation, out,
                 budget: Callable[[int, int], int], pieces: int = 1):
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
        least = position_bytes * self.plane * (min(out[0], MIN_PLANES_PER_TILE) + self.halo)
        self.tiles = im2col.plan_tiles(x.shape[1], out, position_bytes, budget(total, least),
                                        self.halo, pieces)
        self.xpad = pad_array(x, pad)
        self.most = max((t.batch.stop - t.batch.start) * (t.rows.stop - t.rows.start + self.halo)
                        for t in self.tiles) * self.plane           # largest nb * ext

    def columns(self, tile: im2col.Tile, phase: int, buffer: Array
                ) -> tuple[Array, slice, int]:
        """``(cols (C k', nb, ext), output columns of the tile, span = its outputs per obs)``;
        the columns are written into ``buffer`` (``rows * most`` elements)."""
        halo = max(q for _, q in self.phases[phase])
        planes = self.xpad[:, :, phase::self.stride[0]]
        cols = im2col.plane_columns(planes, self.kernel_rest, self.stride[1:],
                                     self.dilation_rest, tile, self.out, halo, buffer)
        span = (tile.rows.stop - tile.rows.start) * self.plane
        first = tile.rows.start * self.plane
        return cols, slice(first, first + span), span


def _segmented(offsets: list[tuple[int, int]], tile: im2col.Tile, cols: Array) -> bool:
    """Segments pay on the CPU (BLAS time is the cost); a GPU keeps one stacked GEMM."""
    halo = max(q for _, q in offsets)
    return (halo > 0 and halo >= SEGMENT_WASTE * (tile.rows.stop - tile.rows.start)
            and not is_gpu_array(cols))


def forward(xp, x: Array, w: Array, stride, pad, dilation, out, threads: int,
            budget: Callable[[int, int], int]) -> Array:
    """``y (F, N, *O)`` by plane-shifted GEMMs, tile groups on ``threads`` threads."""
    f, kh = w.shape[:3:2]
    plan = PlaneTiling(x, w, stride, pad, dilation, out, budget, threads)
    w_by_offset = xp.ascontiguousarray(xp.moveaxis(w, 2, 0)).reshape(kh, f, plan.rows)
    y = xp.empty((f, x.shape[1]) + tuple(out), dtype=x.dtype)
    y3 = y.reshape(f, x.shape[1], -1)
    stack = f < STACK_BELOW_FILTERS

    def run_tiles(tiles: list[im2col.Tile]) -> None:
        buffer = xp.empty(plan.rows * plan.most, dtype=x.dtype)
        products = xp.empty((kh if stack else 1) * f * plan.most, dtype=x.dtype)
        for tile in tiles:
            _forward_tile(xp, plan, tile, w_by_offset, y3, stack, buffer, products)

    _tile_threads.run(run_tiles, plan.tiles, threads)
    return y


def _forward_tile(xp, plan: PlaneTiling, tile: im2col.Tile, w_by_offset: Array, y3: Array,
                  stack: bool, buffer: Array, products: Array) -> None:
    """The outputs ``y3 (F, N, L)`` of one tile (writes only that tile's columns of ``y3``)."""
    f = w_by_offset.shape[1]
    terms, used, first = [], 0, True
    for phase, offsets in plan.phases.items():
        cols, outputs, span = plan.columns(tile, phase, buffer)
        if stack:     # one GEMM (or one per segment) for the phase's offsets; summed below
            size = len(offsets) * f * cols.shape[1] * cols.shape[2]
            product = products[used:used + size].reshape((len(offsets), f) + cols.shape[1:])
            used += size
            weights = w_by_offset[[j for j, _ in offsets]].reshape(-1, plan.rows)
            _stacked_products(xp, weights, cols, product, offsets, tile, plan.plane)
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


def _stacked_products(xp, weights: Array, cols: Array, product: Array, offsets, tile, plane: int
                      ) -> None:
    """``product (J, F, nb, ext) = weights (J F, C k') @ cols (C k', nb, ext)``, computed only
    where the offsets' outputs read it when the halo wastes enough (see the module docstring)."""
    rows = product.reshape(-1, *product.shape[2:])                   # (J F, nb, ext)
    if not _segmented(offsets, tile, cols):
        xp.matmul(weights, cols.reshape(cols.shape[0], -1), out=rows.reshape(rows.shape[0], -1))
        return
    f = product.shape[1]
    by_observation = cols.transpose(1, 0, 2)                         # (nb, C k', ext)
    for begin, end, i0, i1 in segments([q for _, q in offsets], tile.rows.stop - tile.rows.start):
        part = slice(begin * plane, end * plane)
        xp.matmul(weights[i0 * f:i1 * f], by_observation[..., part],
                  out=rows[i0 * f:i1 * f, :, part].transpose(1, 0, 2))


def _sum_into(xp, target: Array, terms: list[Array]) -> None:
    if len(terms) == 1:
        target[...] = terms[0]
        return
    xp.add(terms[0], terms[1], out=target)
    for term in terms[2:]:
        target += term


def weight_gradient(xp, dy: Array, x: Array, w: Array, stride, pad, dilation, threads: int,
                    budget: Callable[[int, int], int]) -> Array:
    """``dw (F, C, *K)`` from plane columns, tile groups on ``threads`` threads."""
    f, kh = w.shape[:3:2]
    plan = PlaneTiling(x, w, stride, pad, dilation, dy.shape[2:], budget, threads)
    partials = _tile_threads.run(lambda tiles: _dw_tiles(xp, plan, tiles, dy, f, kh),
                                 plan.tiles, threads)
    dw_by_offset = _tile_threads.summed(partials)
    dw = dw_by_offset.reshape((kh, x.shape[0]) + tuple(w.shape[3:]) + (f,))
    return xp.ascontiguousarray(xp.moveaxis(dw, (0, -1), (2, 0)))


def _dw_tiles(xp, plan: PlaneTiling, tiles: list[im2col.Tile], dy: Array, f: int, kh: int
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
                product = _stacked_dw(xp, cols, shifted, dy3[:, tile.batch, outputs], offsets,
                                      tile, plan.plane)
                for i, (j, _) in enumerate(offsets):
                    dw_by_offset[j] += product[:, i * f:(i + 1) * f]
                continue
            for i, n in enumerate(range(tile.batch.start, tile.batch.stop)):   # per offset
                dy_t = dy3[:, n, outputs].T
                for j, q in offsets:
                    dw_by_offset[j] += cols[:, i, q * plan.plane:q * plan.plane + span] @ dy_t
    return dw_by_offset


def _stacked_dw(xp, cols: Array, shifted: Array, dy_tile: Array, offsets, tile, plane: int
                ) -> Array:
    """``(C k', J F)``: cols ``(C k', nb, ext)`` against dy ``(F, nb, span)`` shifted by each
    offset into ``shifted (J, F, nb, ext)``; zeros around the shifts, or (one observation and
    enough halo) segments that read only the shifted parts."""
    span = dy_tile.shape[-1]
    segmented = cols.shape[1] == 1 and _segmented(offsets, tile, cols)
    for i, (_, q) in enumerate(offsets):
        first = q * plane
        if not segmented:
            shifted[i, ..., :first] = 0
            shifted[i, ..., first + span:] = 0
        shifted[i, ..., first:first + span] = dy_tile
    rows = shifted.reshape(-1, cols.shape[1] * cols.shape[2])           # (J F, nb ext)
    if not segmented:
        return cols.reshape(cols.shape[0], -1) @ rows.T
    f = shifted.shape[1]
    product = xp.zeros((cols.shape[0], rows.shape[0]), dtype=cols.dtype)
    for begin, end, i0, i1 in segments([q for _, q in offsets], tile.rows.stop - tile.rows.start):
        part = slice(begin * plane, end * plane)
        product[:, i0 * f:i1 * f] += cols[:, 0, part] @ rows[i0 * f:i1 * f, part].T
    return product
