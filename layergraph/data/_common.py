"""Shared pieces of the datastores: the global generator, errors, argument checks.

The one import of the package's random generator lives here, so a move of that module is a
one-line change.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from ..layers.errors import MException
from ..layers._validation import parse_name_value, validatestring  # noqa: F401 (re-exported)
from ..rng import global_generator  # noqa: F401 (the one place data/ reaches the generator)


def error(func: str, reason: str, message: str) -> MException:
    """``MException("MATLAB:datastoreio:<func>:<reason>", message)``."""
    return MException(f"MATLAB:datastoreio:{func}:{reason}", message)


def logical_scalar(value: Any, func: str, name: str) -> bool:
    """A MATLAB logical scalar: True/False or 0/1."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer)) and value in (0, 1)):
        return bool(value)
    raise error(func, f"Invalid{name}", f"{name} must be a logical scalar (true or false). "
                                        f"Received: {name}={value!r}.")


def positive_integer(value: Any, func: str, name: str, minimum: int = 1) -> int:
    """A whole number >= ``minimum`` (MATLAB's ``7`` or ``7.0``)."""
    ok = (isinstance(value, (numbers.Real, np.number)) and not isinstance(value, (bool, np.bool_))
          and np.isfinite(float(value)) and float(value) == int(float(value))
          and int(float(value)) >= minimum)
    if not ok:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise error(func, f"Invalid{name}", f"{name} must be {what}. Received: {name}={value!r}.")
    return int(float(value))


def observation_indices(indices: Any, n: int, func: str) -> np.ndarray:
    """0-based observation indices (or a logical mask of length n) -> int64 array; checked."""
    arr = np.asarray(indices)
    if arr.dtype == bool:
        if arr.ndim != 1 or arr.size != n:
            raise error(func, "InvalidIndices", f"A logical mask must have one element per "
                        f"observation ({n}). Received: mask of size {arr.size}.")
        return np.flatnonzero(arr)
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
        raise error(func, "InvalidIndices", "indices must be 0-based integer indices or a logical "
                    f"mask. Received: {type(indices).__name__} of dtype {arr.dtype}.")
    arr = arr.astype(np.int64).ravel()
    bad = arr[(arr < 0) | (arr >= n)]
    if bad.size:
        raise error(func, "IndexOutOfRange", f"indices must lie in 0..{n - 1} (0-based). "
                    f"Received: {int(bad[0])}.")
    return arr


def size_text(shape: Sequence[int]) -> str:
    """MATLAB's ``16x16x8`` size text."""
    return "x".join(str(int(s)) for s in shape)
