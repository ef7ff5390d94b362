"""Process-wide CPU settings the entry points apply before running a network.

trainNetwork, DAGNetwork predict / classify / activations and dlnetwork forward / predict call
``prepare(device)``; the Executor itself changes nothing in the process.
"""
from __future__ import annotations

from ..ops._cpu import memory as _memory


def prepare(device: str) -> None:
    """On the CPU: keep freed heap memory for reuse (glibc malloc tuning, once per process;
    ``LAYERGRAPH_KEEP_FREED_MEMORY=0`` opts out; see ``ops._cpu.memory``)."""
    if device == "cpu":
        _memory.keep_freed_memory()
