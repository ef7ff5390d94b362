"""Independent NumPy work items on a few threads (NumPy releases the GIL inside its loops).

BLAS already runs the GEMMs on several threads; this can spread the memory-bound elementwise
work (pooling passes, batch-norm channel blocks, ReLU, im2col offsets) the same way. It is
opt-in: ``LAYERGRAPH_NUM_THREADS`` (default 1). Measured on 2 cores with 2 OpenBLAS threads,
a training step got ~15% SLOWER with 2 elementwise threads (OpenBLAS workers spin after each
GEMM and the GIL serialises the Python between NumPy calls), while isolated pooling/BN ran
25-30% faster on an idle machine. Work items must write disjoint outputs; a ``run`` called
from inside a work item runs serially (nesting on one pool would deadlock).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ._backend import is_gpu_array

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_worker = threading.local()      # .busy: this thread is running a work item


def num_threads() -> int:
    """Threads for elementwise work: ``LAYERGRAPH_NUM_THREADS`` when a positive integer, else 1."""
    value = os.environ.get("LAYERGRAPH_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def run(task: Callable[[Any], None], items: Iterable[Any], like: Any = None) -> None:
    """``task(item)`` for every item, on up to ``num_threads()`` threads; re-raises errors.

    Serial when ``like`` is a GPU array (CuPy work is asynchronous already) and when called
    from inside a work item.

    >>> out = [0] * 4
    >>> run(lambda i: out.__setitem__(i, i * i), range(4))
    >>> out
    [0, 1, 4, 9]
    """
    global _pool, _pool_size
    items = list(items)
    nested = getattr(_worker, "busy", False)
    threads = 1 if is_gpu_array(like) or nested else min(num_threads(), len(items))
    if threads <= 1:
        for item in items:
            task(item)
        return
    if _pool is None or _pool_size < threads:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool, _pool_size = ThreadPoolExecutor(threads, "layergraph"), threads
    for _ in _pool.map(lambda item: _as_worker(task, item), items):
        pass


def _as_worker(task: Callable[[Any], None], item: Any) -> None:
    _worker.busy = True
    try:
        task(item)
    finally:
        _worker.busy = False


MIN_SPLIT_ELEMENTS = 2**16
"""Arrays smaller than this are not split (thread hand-off costs more than it saves)."""


def split(size: int, like: Any = None) -> list[slice]:
    """About ``num_threads()`` equal ranges of ``range(size)`` (one for small or GPU arrays).

    >>> split(10)
    [slice(0, 10, None)]
    """
    pieces = 1 if size < MIN_SPLIT_ELEMENTS or is_gpu_array(like) else num_threads()
    bounds = [size * i // pieces for i in range(pieces + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
