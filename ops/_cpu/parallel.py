"""Independent NumPy work items on a few threads (NumPy releases the GIL inside its loops).

On the CPU the cores are ours, not OpenBLAS's: with more than one thread, the GEMM-bearing ops
(``owning_cores``) run the calling thread's BLAS single-threaded, and the work is split here
instead: convolution tiles (copies AND GEMMs, ``_tile_threads``), pooling blocks, batch-norm
channel blocks, ReLU ranges. Mixing the two schemes loses: OpenBLAS's workers keep spinning
for a while after each multi-threaded GEMM and take the cores our threads need (figures:
docs/benchmarks.md#tuning-constants). Thread count: ``LAYERGRAPH_NUM_THREADS`` when set, else the
usable cores (affinity and a container's CPU quota) capped by ``OMP_NUM_THREADS`` /
``OPENBLAS_NUM_THREADS`` (as BLAS itself would be), and 1 when OpenBLAS's per-thread control
is missing (BLAS then threads as configured).
Work items must write disjoint outputs; a ``run`` called from inside a work item runs
serially (nesting on one pool would deadlock).
"""
from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import blas_threads as _blas_threads
from .._backend import is_gpu_array

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_worker = threading.local()      # .busy: this thread is running a work item
_LIMIT_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def num_threads() -> int:
    """Threads for the ops' CPU work: ``LAYERGRAPH_NUM_THREADS`` when set (a positive integer;
    anything else is a ValueError, not a silent fallback), else ``default_threads()``."""
    value = os.environ.get("LAYERGRAPH_NUM_THREADS", "").strip()
    if not value:
        return default_threads()
    if not (value.isdigit() and int(value) > 0):
        raise ValueError("LAYERGRAPH_NUM_THREADS must be a positive integer (the number of CPU "
                         "threads for layergraph's ops) or unset (every usable core). "
                         f"Received: LAYERGRAPH_NUM_THREADS={value!r}.")
    return int(value)


def default_threads() -> int:
    """Usable cores (affinity, and a container's CPU quota), capped by ``OMP_NUM_THREADS`` /
    ``OPENBLAS_NUM_THREADS`` when set; 1 when the calling thread's BLAS thread count cannot be
    set (no OpenBLAS >= 0.3.27)."""
    limits = tuple(os.environ.get(name, "") for name in _LIMIT_VARIABLES)
    return _default_threads(limits)


@functools.lru_cache(maxsize=16)
def _default_threads(limits: tuple[str, ...]) -> int:
    if not _blas_threads.available():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    if quota is not None:
        cores = min(cores, quota)
    for value in limits:
        value = value.split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            cores = min(cores, int(value))
    return max(1, cores)


_CGROUP_FILES = ("/sys/fs/cgroup/cpu.max",                       # cgroup v2: "quota period"
                 "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")             # cgroup v1: quota (-1: none)


def cgroup_cpu_quota() -> int | None:
    """CPUs a container's CPU quota allows (rounded up), or None when there is no quota: a
    ``--cpus=2`` container on a 64-core host sees 64 cores but must not start 64 threads."""
    for path in _CGROUP_FILES:
        try:
            with open(path) as f:
                fields = f.read().split()
            if path.endswith("cpu.max"):
                quota, period = fields[0], fields[1] if len(fields) > 1 else "100000"
            else:
                with open(path.replace("cfs_quota_us", "cfs_period_us")) as f:
                    quota, period = fields[0], f.read().strip()
        except (OSError, IndexError):
            continue
        if quota in ("max", "-1") or not period.isdigit() or int(period) <= 0:
            return None
        if quota.isdigit() and int(quota) > 0:
            return max(1, -(-int(quota) // int(period)))
        return None
    return None


@contextlib.contextmanager
def owning_cores(like: Any = None) -> Iterator[None]:
    """With more than one thread (and CPU data), BLAS runs single-threaded inside the block
    (process-wide, ``_blas_threads.single_threaded``): the op splits its work over ``run``'s
    threads instead. Every BLAS call then has the same thread count on every call."""
    if is_gpu_array(like) or num_threads() <= 1:
        yield
        return
    with _blas_threads.single_threaded():
        yield


def run(task: Callable[[Any], Any], items: Iterable[Any], like: Any = None,
        threads: int | None = None) -> list[Any]:
    """``[task(item) for item in items]`` on up to ``num_threads()`` (or ``threads``) threads;
    re-raises errors. Each thread runs its BLAS single-threaded.

    The calling thread works too, beside ``threads - 1`` pool threads: one hand-off fewer.
    Serial when ``like`` is a GPU array (CuPy work is asynchronous already) and when called
    from inside a work item.

    >>> out = [0] * 4
    >>> _ = run(lambda i: out.__setitem__(i, i * i), range(4))
    >>> out
    [0, 1, 4, 9]
    """
    items = list(items)
    nested = getattr(_worker, "busy", False)
    wanted = num_threads() if threads is None else threads
    threads = 1 if is_gpu_array(like) or nested else min(wanted, len(items))
    if threads <= 1:
        return [task(item) for item in items]
    batch = _Batch(task, items, threads)
    pool = _helper_pool(threads - 1)
    for first in range(1, threads):
        pool.submit(_as_worker, batch.work, first)
    _as_worker(batch.work, 0)
    return batch.results_when_done()


class _Batch:
    """The items of one ``run``: item k < threads is the k-th thread's own (the calling thread
    is thread 0), later items go to whichever thread comes free first."""

    def __init__(self, task: Callable[[Any], Any], items: list[Any], threads: int):
        self.task, self.items = task, items
        self.results: list[Any] = [None] * len(items)
        self.failures: list[tuple[int, BaseException]] = []
        self.unclaimed = threads            # the next item nobody owns yet
        self.settled = 0                    # items finished, failed or skipped after a failure
        self.changed = threading.Condition()

    def work(self, index: int | None) -> None:
        while index is not None:
            failed = None
            if not self.failures:           # after a failure no item starts
                try:
                    self.results[index] = self.task(self.items[index])
                except BaseException as error:  # noqa: BLE001  (re-raised by results_when_done)
                    failed = error
            with self.changed:
                if failed is not None:
                    self.failures.append((index, failed))
                    self.settled += len(self.items) - self.unclaimed
                    self.unclaimed = len(self.items)
                self.settled += 1
                self.changed.notify_all()
                index = self.unclaimed if self.unclaimed < len(self.items) else None
                self.unclaimed += index is not None

    def results_when_done(self) -> list[Any]:
        """The results once every item is settled; after a failure, the error of the earliest
        failed item."""
        with self.changed:
            self.changed.wait_for(lambda: self.settled == len(self.items))
        if self.failures:
            raise min(self.failures, key=lambda failure: failure[0])[1]
        return self.results


def _helper_pool(size: int) -> ThreadPoolExecutor:
    """The pool of helper threads, grown to at least ``size`` threads."""
    global _pool, _pool_size
    if _pool is None or _pool_size < size:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool, _pool_size = ThreadPoolExecutor(size, "layergraph"), size
    return _pool


def _forget_pool() -> None:
    """In a forked child the pool's threads do not exist: start a new pool on first use."""
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _as_worker(task: Callable[[Any], Any], item: Any) -> Any:
    _worker.busy = True
    try:
        with _blas_threads.single_threaded():
            return task(item)
    finally:
        _worker.busy = False


MIN_SPLIT_ELEMENTS = 2**16
"""Elements per thread at least when an array is split (fewer: not split) (docs/benchmarks.md#tuning-constants)."""


def split(size: int, like: Any = None) -> list[slice]:
    """About ``num_threads()`` equal ranges of ``range(size)``, none shorter than
    MIN_SPLIT_ELEMENTS (one range for small or GPU arrays).

    >>> split(10)
    [slice(0, 10, None)]
    """
    pieces = 1 if size < MIN_SPLIT_ELEMENTS or is_gpu_array(like) else \
        min(num_threads(), max(1, size // MIN_SPLIT_ELEMENTS))
    bounds = [size * i // pieces for i in range(pieces + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
