"""Runtime control of the loaded OpenBLAS's thread count (ctypes; no new dependency).

NumPy bundles OpenBLAS (``libscipy_openblas64_*.so`` in numpy.libs, symbols prefixed
``scipy_`` and suffixed ``64_``; older wheels ``libopenblas*.so`` unprefixed). The library is
found in ``/proc/self/maps`` (already loaded by NumPy); when it is not there, or lacks the
symbols (MKL, Accelerate, a non-Linux system), every function here does nothing and says so
by returning None / False: callers must work either way.

``single_threaded()`` runs a block with one BLAS thread (``openblas_set_num_threads_local``,
OpenBLAS >= 0.3.27). OpenBLAS keeps one thread count per process, so the blocks of all threads
share it (reference counted): the user's setting (the ``OPENBLAS_NUM_THREADS`` default, or an
``openblas_set_num_threads`` call) holds outside the blocks and is restored when the last ends;
inside, every thread's BLAS calls are single-threaded (also a user's own NumPy calls made
meanwhile from another thread).
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator
from typing import Any

_PREFIXES = ("scipy_openblas_", "openblas_")
_SUFFIXES = ("64_", "_64_", "")
_STATE: dict[str, Any] = {"searched": False, "get": None, "set": None, "local": None}


def _find_library() -> ctypes.CDLL | None:
    """The OpenBLAS shared library mapped into this process, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()
                     and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _symbol(lib: ctypes.CDLL, stem: str) -> Any:
    for prefix in _PREFIXES:
        for suffix in _SUFFIXES:
            func = getattr(lib, f"{prefix}{stem}{suffix}", None)
            if func is not None:
                return func
    return None


def _functions() -> dict[str, Any]:
    """Looks the library up once (after NumPy has loaded it)."""
    if not _STATE["searched"]:
        import numpy  # noqa: F401  (loads OpenBLAS)

        _STATE["searched"] = True
        lib = _find_library()
        if lib is not None:
            _STATE["get"] = _symbol(lib, "get_num_threads")
            _STATE["set"] = _symbol(lib, "set_num_threads")
            _STATE["local"] = getattr(lib, "openblas_set_num_threads_local", None)
            for func in (_STATE["get"], _STATE["set"], _STATE["local"]):
                if func is not None:
                    func.restype = ctypes.c_int if func is not _STATE["set"] else None
    return _STATE


def get_num_threads() -> int | None:
    """OpenBLAS's current (process-wide) thread count, or None when it cannot be read."""
    get = _functions()["get"]
    return int(get()) if get is not None else None


def available() -> bool:
    """True when BLAS can be made single-threaded (``single_threaded`` works)."""
    return _functions()["local"] is not None


_lock = threading.Lock()
_holders = 0                 # blocks inside ``single_threaded`` now, all threads together
_saved: int | None = None    # the count to restore when the last block ends


@contextlib.contextmanager
def single_threaded() -> Iterator[bool]:
    """Run the block with OpenBLAS single-threaded; yields True when that took effect, False
    when OpenBLAS (>= 0.3.27) was not found.

    OpenBLAS has ONE thread count for the whole process (``openblas_set_num_threads_local``
    sets it too, whatever its name says), so the blocks of all threads share one setting: the
    first block to start saves the count and sets 1, the last one to end restores it. Setting
    and restoring per thread instead let a block end (and restore 2) while another thread's
    block was still running its GEMMs, and the count then drifted from call to call.
    Nested and concurrent blocks make no library call.
    """
    global _holders, _saved
    local = _functions()["local"]
    if local is None:
        yield False
        return
    with _lock:
        if _holders == 0:
            _saved = int(local(ctypes.c_int(1)))
        _holders += 1
    try:
        yield True
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _saved is not None and _saved != 1:
                local(ctypes.c_int(_saved))


def _after_fork_in_child() -> None:
    """A forked child has only the forking thread: no block of another thread is running."""
    global _lock, _holders
    _lock = threading.Lock()
    if _holders and _saved is not None and _STATE["local"] is not None:
        _STATE["local"](ctypes.c_int(_saved))
    _holders = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
