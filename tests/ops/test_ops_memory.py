"""keep_freed_memory: glibc keeps freed blocks, so a re-allocated large array does not fault."""
import platform
import resource

import numpy as np
import pytest

from layergraph.ops._cpu import memory as _memory

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc malloc only")


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


@glibc
def test_reallocated_large_array_does_not_page_fault():
    assert _memory.keep_freed_memory()
    size = 40 * 2**20 // 4                   # above glibc's default 32 MiB mmap ceiling
    np.ones(size, np.float32)                # fault it in once, then free it
    before = _faults()
    for _ in range(3):
        np.ones(size, np.float32)
    assert _faults() - before < 100          # untuned: hundreds of faults per allocation


@pytest.mark.parametrize("name, value", [("LAYERGRAPH_KEEP_FREED_MEMORY", "0"),
                                         ("MALLOC_MMAP_THRESHOLD_", "65536"),
                                         ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0")])
def test_opt_out_or_user_malloc_settings_leave_the_allocator_alone(name, value, monkeypatch):
    for other in ("LAYERGRAPH_KEEP_FREED_MEMORY", "MALLOC_MMAP_THRESHOLD_",
                  "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"):
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setattr(_memory, "_done", False)
    monkeypatch.setenv(name, value)
    monkeypatch.setattr(_memory, "_tune", lambda: pytest.fail("allocator tuned"))
    assert _memory.keep_freed_memory() is False


def test_available_bytes_reads_meminfo_and_a_cgroup_limit(monkeypatch, tmp_path):
    files = {"/proc/meminfo": "MemTotal: 100 kB\nMemAvailable: 64 kB\n",
             "/sys/fs/cgroup/memory.max": "50000\n", "/sys/fs/cgroup/memory.current": "20000\n"}

    def fake_open(path, *args, **kwargs):
        if path not in files:
            raise FileNotFoundError(path)
        import io
        return io.StringIO(files[path])

    monkeypatch.setattr(_memory, "open", fake_open, raising=False)
    assert _memory.available_bytes() == 30000          # the cgroup room is the smaller
    files["/sys/fs/cgroup/memory.max"] = "max\n"
    assert _memory.available_bytes() == 64 * 1024      # no cgroup limit: MemAvailable
    del files["/proc/meminfo"]
    assert _memory.available_bytes() is None           # neither readable


def test_available_bytes_is_lowered_to_the_address_space_left_under_rlimit_as(monkeypatch):
    import resource as resource_module
    files = {"/proc/meminfo": "MemAvailable: 8000 kB\n", "/proc/self/status": "VmSize:  1000 kB\n"}

    def fake_open(path, *args, **kwargs):
        if path not in files:
            raise FileNotFoundError(path)
        import io
        return io.StringIO(files[path])

    monkeypatch.setattr(_memory, "open", fake_open, raising=False)
    monkeypatch.setattr(resource_module, "getrlimit", lambda kind: (3000 * 1024, -1))
    assert _memory.available_bytes() == 2000 * 1024     # 3000 kB allowed, 1000 kB in use
    monkeypatch.setattr(resource_module, "getrlimit",
                        lambda kind: (resource_module.RLIM_INFINITY,) * 2)
    assert _memory.available_bytes() == 8000 * 1024
