"""Array backend: NumPy on the CPU, CuPy on NVIDIA GPUs; the backend follows the data.

The only module of the package that imports cupy, and only lazily: ``get_xp`` looks in
``sys.modules``, so a CPU-only user never imports cupy.
"""
from __future__ import annotations

import functools
import importlib
import sys
from types import ModuleType
from typing import Any

import numpy as np

Array = Any
"""Type of an op's array arguments: ``numpy.ndarray`` or ``cupy.ndarray``."""

_SCALARS = (bool, int, float, complex, np.generic)


def _loaded_cupy() -> ModuleType | None:
    """The cupy module if something already imported it, else None (never imports)."""
    return sys.modules.get("cupy")


def is_gpu_array(x: Any) -> bool:
    """True when ``x`` is a CuPy array.

    >>> is_gpu_array(np.zeros(2))
    False
    """
    cupy = _loaded_cupy()
    return cupy is not None and isinstance(x, cupy.ndarray)


def get_xp(*arrays: Any) -> ModuleType:
    """Array module (numpy or cupy) of the arrays; None and Python/NumPy scalars are ignored.

    Raises TypeError when NumPy and CuPy arrays are mixed, or when an argument is not an array.

    >>> get_xp(np.zeros(2), None, 1.0).__name__
    'numpy'
    """
    kinds: dict[str, str] = {}
    for a in arrays:
        if a is None or isinstance(a, _SCALARS):
            continue
        if is_gpu_array(a):
            kinds.setdefault("cupy", f"cupy.ndarray of shape {a.shape}")
        elif isinstance(a, np.ndarray):
            kinds.setdefault("numpy", f"numpy.ndarray of shape {a.shape}")
        else:
            raise TypeError(
                "Expected NumPy or CuPy arrays. "
                f"Received: an object of type {type(a).__module__}.{type(a).__qualname__}.")
    if len(kinds) > 1:
        raise TypeError(
            "Cannot mix NumPy (CPU) and CuPy (GPU) arrays in one operation; move them to one "
            f"device first. Received: {kinds['numpy']} and {kinds['cupy']}.")
    return _loaded_cupy() if "cupy" in kinds else np


@functools.lru_cache(maxsize=1)
def gpu_available() -> bool:
    """True when cupy imports and sees at least one CUDA device (imports cupy on first call)."""
    try:
        cupy = importlib.import_module("cupy")
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - any import/driver failure means "no GPU"
        return False


@functools.lru_cache(maxsize=None)
def elementwise_kernel(in_params: str, out_params: str, operation: str, name: str) -> Any:
    """A compiled-once ``cupy.ElementwiseKernel`` (GPU fast paths; call it with CuPy arrays only).

    Every user keeps a pure-xp fallback for NumPy arrays, and a ``gpu`` parity test compares them.
    """
    return importlib.import_module("cupy").ElementwiseKernel(in_params, out_params, operation,
                                                             name)


def as_strided(x: Array, shape: tuple[int, ...], strides: tuple[int, ...]) -> Array:
    """``numpy`` / ``cupy.lib.stride_tricks.as_strided`` for ``x``'s library (a view; the
    caller guarantees every element lies inside ``x``)."""
    module = "cupy.lib.stride_tricks" if is_gpu_array(x) else "numpy.lib.stride_tricks"
    return importlib.import_module(module).as_strided(x, shape=shape, strides=strides)


def _require_cupy() -> ModuleType:
    if not gpu_available():
        raise RuntimeError(
            "A GPU array was requested, but CuPy with a CUDA device is not available. "
            "Install CuPy for your CUDA version (pip install 'layergraph[gpu]' installs cupy-cuda13x) "
            "on a machine with an NVIDIA GPU.")
    return importlib.import_module("cupy")


def to_device(x: Any, device: str) -> Array:
    """Copy ``x`` to ``device`` ("cpu" -> numpy.ndarray, "gpu" -> cupy.ndarray); no copy if there.

    >>> to_device([1.0, 2.0], "cpu")
    array([1., 2.])
    """
    if device == "cpu":
        return to_host(x)
    if device == "gpu":
        return _require_cupy().asarray(x)
    raise ValueError(f"device must be 'cpu' or 'gpu'. Received: device={device!r}.")


def to_host(x: Any) -> np.ndarray:
    """``x`` as a NumPy array (copies a CuPy array to the host)."""
    if is_gpu_array(x):
        return x.get()
    return np.asarray(x)

