"""Shared harness for the benchmarks: thread pinning, paired timing, sgemm peak, tables.

Import this module FIRST in every benchmark script and call ``pin_threads(n)`` before numpy or
torch is imported: OpenBLAS/MKL/OpenMP read their thread counts from the environment when they
load, and threadpoolctl is not a dependency. torch then gets ``torch.set_num_threads(n)`` (and one
inter-op thread), so both frameworks run with the same number of BLAS/compute threads.

Timing method: ``paired_times`` alternates ours/theirs inside every repetition (ours first on
even repetitions, theirs first on odd ones), after one untimed warm-up call of each, and the
report uses medians, so a burst of load from another process hits both sides alike. Every
timed call starts after ``SETTLE_S`` of sleep: torch's OpenMP workers (libgomp) keep spinning
for ~10 ms of CPU after each torch call, which would otherwise take a core from the call timed
next (measured: a 2-D conv forward of ours right after a torch call, 12.3 ms instead of 6.2 ms
on 2 threads). A user runs one framework at a time; the pause measures each side as alone.
``--clock cpu`` times with the process CPU clock instead of the wall clock: with ``--threads 1``
on a shared machine it is much less disturbed by other processes (with more threads it sums
the threads' CPU time, so use it only with one).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Callable

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                   "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
clock: Callable[[], float] = time.perf_counter  # set by setup(); read by every timing below
SETTLE_S = 0.03
"""Sleep before every timed call of ``paired_times`` (torch's spinning workers go idle)."""


def base_parser(description: str) -> argparse.ArgumentParser:
    """Arguments every benchmark takes: --threads, --reps, --quick, --clock."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="BLAS/compute threads for BOTH frameworks (default: all cores)")
    parser.add_argument("--reps", type=int, default=5, help="paired repetitions (median reported)")
    parser.add_argument("--quick", action="store_true", help="fewer/smaller cases (smoke run)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall clock (default) or process CPU time (use with --threads 1)")
    return parser


def setup(args: argparse.Namespace) -> None:
    """Apply the common options: pin the threads (before numpy loads) and choose the clock;
    tune glibc's malloc as the entry points do (``ops._cpu.memory``), so that op benchmarks
    (which call the ops without an Executor) see the allocator of a training run. The
    setting is process-wide: torch's allocations get it too."""
    global clock
    pin_threads(args.threads)
    from layergraph.ops._cpu import memory as _memory       # imports numpy: after pin_threads
    _memory.keep_freed_memory()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter


def pin_threads(n: int) -> None:
    """Set the BLAS/OpenMP thread variables to ``n``; must run before numpy is imported."""
    if n < 1:
        raise SystemExit(f"--threads must be a positive integer. Received: {n}.")
    if "numpy" in sys.modules:
        raise SystemExit("pin_threads() must be called before numpy is imported "
                         "(OpenBLAS reads OPENBLAS_NUM_THREADS once, when it loads).")
    for var in THREAD_ENV_VARS:
        os.environ[var] = str(n)


def pin_torch_threads(torch, n: int) -> None:
    """Give torch the same intra-op thread count as numpy's BLAS, one inter-op thread."""
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set (torch allows it once per process)
        pass


def paired_times(ours: Callable[[], object], theirs: Callable[[], object], reps: int,
                 warmup: int = 1) -> tuple[list[float], list[float]]:
    """Time ``ours`` and ``theirs`` alternately ``reps`` times; returns two lists of seconds."""
    for _ in range(warmup):
        ours()
        theirs()
    ours_s, theirs_s = [], []
    for rep in range(reps):
        order = ((ours, ours_s), (theirs, theirs_s))
        for fn, sink in (order if rep % 2 == 0 else order[::-1]):
            time.sleep(SETTLE_S)
            start = clock()
            fn()
            sink.append(clock() - start)
    return ours_s, theirs_s


def median(values: list[float]) -> float:
    return statistics.median(values)


def sgemm_peak_gflops(np, n: int = 2048, reps: int = 5) -> float:
    """Best achieved GFLOP/s of an (n x n) @ (n x n) float32 matmul with numpy on this process's threads."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=out)  # warm-up: thread pool start, page faults
    best = float("inf")
    for _ in range(reps):
        start = clock()
        np.matmul(a, b, out=out)
        best = min(best, clock() - start)
    return 2.0 * n ** 3 / best / 1e9


def format_table(headers: list[str], rows: list[list[object]]) -> str:
    """Plain fixed-width text table (right-aligned cells, first column left-aligned)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        return "  ".join([first] + rest)

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def machine_line(threads: int) -> str:
    """One line naming the machine, the thread setting and the clock, printed first by every run."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    clock_name = "process CPU time" if clock is time.process_time else "wall clock"
    return (f"# {os.cpu_count()} cores, {threads} thread(s) per framework, {clock_name}, "
            f"load average {load:.2f} at start (the machine may be shared: expect noise)")
