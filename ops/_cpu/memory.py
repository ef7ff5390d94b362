"""Keep freed heap memory in the process (glibc only), so large arrays stop page-faulting.

NumPy allocates its buffers with ``malloc``. With glibc's defaults, blocks above a dynamic
threshold (at most 32 MiB) are fresh ``mmap`` s and free memory at the top of the heap is handed
back to the OS, so every training step faults in and zeroes its activations again (cost:
docs/benchmarks.md#tuning-constants).
``keep_freed_memory()`` sets ``M_MMAP_THRESHOLD`` (64 MiB) and ``M_TRIM_THRESHOLD`` (1 GiB) once
per process, so freed blocks are reused instead; the resident size then stays near its peak.
Set ``LAYERGRAPH_KEEP_FREED_MEMORY=0`` to leave the allocator alone; an explicit glibc setting
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``GLIBC_TUNABLES`` naming malloc) is
respected the same way. Elsewhere (non-glibc) it does nothing.
"""
from __future__ import annotations

import ctypes
import os

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES = 64 * 2**20
"""glibc M_MMAP_THRESHOLD: blocks below this come from the reusable heap (docs/benchmarks.md#tuning-constants)."""
TRIM_THRESHOLD_BYTES = 2**30
"""glibc M_TRIM_THRESHOLD: free heap top kept up to this before returning it (docs/benchmarks.md#tuning-constants)."""
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
_done = False


def keep_freed_memory() -> bool:
    """Tune glibc's malloc once per process (see module docstring); True when it is tuned."""
    global _done
    if not _done and os.environ.get("LAYERGRAPH_KEEP_FREED_MEMORY", "1") != "0" \
            and not _user_configured():
        _done = _tune()
    return _done


def _user_configured() -> bool:
    """The process was started with its own malloc thresholds (environment tunables)."""
    return any(name in os.environ for name in _USER_SETTINGS) or \
        "malloc" in os.environ.get("GLIBC_TUNABLES", "")


def _tune() -> bool:
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):      # no C library handle, or not glibc
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # both or neither: setting one alone turns off glibc's dynamic adjustment of the other
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))


def available_bytes() -> int | None:
    """Memory this process may still use: the smallest of ``MemAvailable`` (``/proc/meminfo``),
    the room under a cgroup v2 limit (``memory.max`` minus ``memory.current``) and the address
    space left under ``RLIMIT_AS`` (its soft limit minus ``VmSize``); None when none can be
    read (not Linux)."""
    found = [room for room in (_meminfo_available(), _cgroup_room(), _address_space_room())
             if room is not None]
    return min(found) if found else None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current") as f:
            return max(0, int(limit) - int(f.read().strip()))
    except (OSError, ValueError):
        return None


def _address_space_room() -> int | None:
    """``RLIMIT_AS`` (``ulimit -v``) minus the address space in use: NumPy's MemoryError comes
    from this limit long before physical memory runs out."""
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    used = 0
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    used = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    return max(0, soft - used)
