"""Runtime control of the loaded OpenBLAS's thread count (ctypes; no new dependency).

NumPy bundles OpenBLAS (``libscipy_openblas64_*.so`` in numpy.libs, symbols prefixed
``scipy_`` and suffixed ``64_``; older wheels ``libopenblas*.so`` unprefixed). The library is
found in ``/proc/self/maps`` (already loaded by NumPy); when it is not there, or lacks the
symbols (MKL, Accelerate, a non-Linux system), every function here does nothing and says so
by returning None / False: callers must work either way.

``thread_local(n)`` sets the BLAS thread count of the CALLING thread only
(``openblas_set_num_threads_local``, OpenBLAS >= 0.3.27) and restores the previous value, so a
worker thread can run single-threaded GEMMs while the user's process-wide setting (the
``OPENBLAS_NUM_THREADS`` default, or an ``openblas_set_num_threads`` call) is left untouched.
"""
from __future__ import annotations

import contextlib
import ctypes
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
    """True when the calling thread's BLAS thread count can be changed (``thread_local`` works)."""
    return _functions()["local"] is not None


_current = threading.local()     # .count: the count this module last set in this thread


@contextlib.contextmanager
def thread_local(num_threads: int) -> Iterator[bool]:
    """Run the block with ``num_threads`` BLAS threads in the CALLING thread; restores on exit.

    Yields True when the setting took effect, False when OpenBLAS (>= 0.3.27) was not found.
    A block asking for the count already set here makes no library call (nested blocks are
    free; measured: a set-and-restore around a thread hand-off cost 20-40 us).
    """
    local = _functions()["local"]
    if local is None:
        yield False
        return
    count = int(num_threads)
    known = getattr(_current, "count", None)
    if known == count:
        yield True
        return
    previous = int(local(ctypes.c_int(count)))
    _current.count = count
    try:
        yield True
    finally:
        local(ctypes.c_int(previous))
        _current.count = known
