"""Independent tiles of a GEMM-based kernel on a few threads, each with single-threaded BLAS.

On a small machine the GEMMs of a convolution tile are skinny (F x C k' @ C k' x n) and its
column copies are single-threaded NumPy; running whole tiles (copies + GEMMs) on
``_parallel.num_threads()`` threads, each with ONE BLAS thread, keeps every core busy in both
phases instead of only in the GEMMs (figures: docs/benchmarks.md#tuning-constants). The tiles are cut into contiguous groups; each group is one work item
with its own scratch buffers and returns its own partial results (dW sums), so tiles must write
disjoint outputs and the result does not depend on the thread count beyond summation order.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import blas_threads as _blas_threads, parallel as _parallel
from .._backend import is_gpu_array


def groups(items: Sequence[Any], count: int) -> list[list[Any]]:
    """``items`` cut into at most ``count`` contiguous, nearly equal, non-empty groups.

    >>> groups([1, 2, 3, 4, 5], 2)
    [[1, 2], [3, 4, 5]]
    """
    count = max(1, min(count, len(items)))
    bounds = [len(items) * i // count for i in range(count + 1)]
    return [list(items[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def num_threads(like: Any = None) -> int:
    """``_parallel.num_threads()``; 1 for GPU arrays and when the BLAS thread count cannot be set
    per thread (then BLAS runs as configured)."""
    if is_gpu_array(like) or not _blas_threads.available():
        return 1
    return _parallel.num_threads()


def run(task: Callable[[list[Any]], Any], tiles: Sequence[Any], threads: int) -> list[Any]:
    """``[task(group) ...]`` over at most ``threads`` contiguous groups of ``tiles`` (``threads``
    from ``num_threads``): one group serially in the calling thread, else one group per pool
    thread (one BLAS thread each)."""
    parts = groups(tiles, threads)
    if len(parts) == 1:
        return [task(parts[0])]
    return _parallel.run(task, parts, threads=len(parts))


def in_pair(first: Callable[[], Any], second: Callable[[], Any], like: Any = None
            ) -> tuple[Any, Any]:
    """``(first(), second())``: on two threads, the calling one and a pool thread (each running
    its ops single-threaded, as nested runs are serial) when the ops have exactly two threads,
    else one after the other.
    Two independent halves of similar cost (a convolution's dx and dW) scale better so on two
    cores than each split over both threads (fewer hand-offs; docs/benchmarks.md#tuning-constants).
    With more threads each half keeps its own split."""
    if num_threads(like) != 2:
        return first(), second()
    a, b = _parallel.run(lambda task: task(), [first, second], threads=2)
    return a, b


def summed(partials: Sequence[Any]) -> Any:
    """The sum of per-thread partial results (added into the first one, in order).

    >>> summed([1, 2, 3])
    6
    """
    total = partials[0]
    for partial in partials[1:]:
        total += partial
    return total
