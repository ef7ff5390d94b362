"""1x1 (pointwise) convolutions as plain GEMMs on ``(C, N*L)`` views, split over threads.

Shapes: x ``(C, N, *S)``, w ``(F, C, 1, ...)``, y / dy ``(F, N, *O)``; a strided 1x1
convolution subsamples ``x`` first. With more than one thread (``_parallel``) the GEMM's long
axis is cut into one range per thread (each with one BLAS thread); dW's partial products over
those ranges are summed.
"""
from __future__ import annotations

from collections.abc import Sequence

from .._backend import Array
from .._cpu import parallel as _parallel, tile_threads as _tile_threads

SPLIT_ABOVE_BYTES = 2**20
"""GEMM operand bytes per thread range at least (smaller: not split) (docs/benchmarks.md#tuning-constants)."""


def applies(w: Array, pad: Sequence[Sequence[int]]) -> bool:
    """1x1 kernel without padding: a plain GEMM, dilation is irrelevant."""
    return all(k == 1 for k in w.shape[2:]) and not any(b or a for b, a in pad)


def subsample(xp, x: Array, stride: Sequence[int]) -> Array:
    """``x[:, :, ::s1, ::s2, ...]`` as a contiguous array (``x`` itself for unit stride)."""
    if all(s == 1 for s in stride):
        return xp.ascontiguousarray(x)
    return xp.ascontiguousarray(x[(slice(None), slice(None)) + tuple(slice(None, None, s)
                                                                   for s in stride)])


def _column_ranges(count: int, depth: int, like: Array) -> list[slice]:
    """Column ranges of a GEMM with ``count`` columns of ``depth`` elements, one per thread
    (one range when the work is too small to split)."""
    size = count * depth * like.dtype.itemsize
    threads = min(_tile_threads.num_threads(like=like), max(1, size // max(1, SPLIT_ABOVE_BYTES)))
    if threads <= 1 or size <= SPLIT_ABOVE_BYTES:
        return [slice(0, count)]
    bounds = [count * i // threads for i in range(threads + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def _split_matmul(xp, a: Array, b: Array) -> Array:
    """``a (M, K) @ b (K, n)``, the columns of ``b`` split over the threads."""
    parts = _column_ranges(b.shape[1], b.shape[0], b)
    if len(parts) == 1:
        return a @ b
    y = xp.empty((a.shape[0], b.shape[1]), dtype=b.dtype)
    _parallel.run(lambda part: xp.matmul(a, b[:, part], out=y[:, part]), parts,
                  threads=len(parts))
    return y


def _split_matmul_bt(xp, a: Array, b: Array) -> Array:
    """``a (M, n) @ b (K, n).T`` -> ``(M, K)``: the long ``n`` axis split over the threads,
    the partial products summed."""
    parts = _column_ranges(a.shape[1], a.shape[0] + b.shape[0], a)
    partials = _parallel.run(lambda part: a[:, part] @ b[:, part].T, parts, threads=len(parts))
    return _tile_threads.summed(partials)


def pointwise_forward(xp, x: Array, w: Array, stride: Sequence[int], out: Sequence[int]) -> Array:
    """``y (F, N, *out)`` of ``x (C, N, *S)`` and a 1x1 ``w (F, C, 1, ...)`` (no bias)."""
    f, c = w.shape[:2]
    y = _split_matmul(xp, w.reshape(f, c), subsample(xp, x, stride).reshape(c, -1))
    return y.reshape((f, x.shape[1]) + tuple(out))


def pointwise_backward(xp, dy: Array, x: Array, w: Array, stride: Sequence[int], need_dx: bool,
                       need_dw: bool) -> tuple[Array | None, Array | None]:
    """``(dx (C, N, *S), dw (F, C, 1, ...))`` of ``dy (F, N, *O)``; None where not needed."""
    f, c = w.shape[:2]
    dy2 = dy.reshape(f, -1)
    dw = None
    if need_dw:
        dw = _split_matmul_bt(xp, dy2, subsample(xp, x, stride).reshape(c, -1)).reshape(w.shape)
    dx = None
    if need_dx:
        dxs = _split_matmul(xp, xp.ascontiguousarray(w.reshape(f, c).T), dy2)
        dxs = dxs.reshape((c,) + dy.shape[1:])
        if all(s == 1 for s in stride):
            dx = dxs
        else:
            dx = xp.zeros(x.shape, dtype=x.dtype)
            dx[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)] = dxs
    return dx, dw
