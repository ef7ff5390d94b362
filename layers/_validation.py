"""Name-value parsing and value checks shared by every MATLAB-facing function.

MATLAB semantics:
* name-value arguments come as Python keywords or as positional ``"Name", value`` pairs;
* names are case-insensitive (an unambiguous prefix is accepted, as inputParser does);
* string values are validated with :func:`validatestring`: case-insensitive, any unambiguous
  prefix of an allowed value, returning the canonical spelling.

Every failure raises :class:`~layergraph.layers.errors.MException` naming the argument, the
value received and what is allowed ("Received: ...").
"""
from __future__ import annotations

import numbers
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .errors import MException


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, np.ndarray):
        return np.array2string(value, separator=" ")
    return repr(value)


def validatestring(value: Any, allowed: Sequence[str], func: str, argname: str) -> str:
    """Return the member of ``allowed`` that ``value`` names (case-insensitive, unique prefix).

    >>> validatestring("Ave", ["max", "average", "none"], "resnetLayers", "InitialPoolingLayer")
    'average'
    """
    ident = f"MATLAB:{func}:unrecognizedStringChoice"
    choices = ", ".join(f'"{a}"' for a in allowed)
    if not isinstance(value, str) or value == "":
        raise MException(
            ident,
            f"Expected {argname} to match one of these values: {choices}. "
            f"Received: {argname}={_fmt(value)}.",
        )
    low = value.lower()
    exact = [a for a in allowed if a.lower() == low]
    if exact:
        return exact[0]
    hits = [a for a in allowed if a.lower().startswith(low)]
    if len(hits) == 1:
        return hits[0]
    reason = "is ambiguous between" if hits else "does not match any of"
    raise MException(
        ident,
        f"Expected {argname} to match one of these values: {choices}. "
        f"Received: {argname}={_fmt(value)}, which {reason} "
        f"{', '.join(hits) if hits else 'them'}.",
    )


def parse_name_value(
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    names: Iterable[str],
    func: str,
) -> dict[str, Any]:
    """Collect name-value arguments given positionally and/or as keywords.

    Returns ``{CanonicalName: value}`` for the names given (defaults are the caller's job).

    >>> parse_name_value(["stride", 2], {"Name": "c"}, ["Name", "Stride"], "conv")
    {'Stride': 2, 'Name': 'c'}
    """
    names = list(names)
    if len(args) % 2:
        raise MException(
            f"MATLAB:{func}:nameValuePairs",
            f"Name-value arguments must come in pairs. Received {len(args)} positional "
            f"name-value items: {list(args)!r}.",
        )
    pairs = [(args[i], args[i + 1]) for i in range(0, len(args), 2)] + list(kwargs.items())
    out: dict[str, Any] = {}
    for key, value in pairs:
        if not isinstance(key, str):
            raise MException(
                f"MATLAB:{func}:invalidParameterName",
                f"Name-value argument names must be strings. Received: {_fmt(key)}. "
                f"Allowed names: {', '.join(names)}.",
            )
        canon = match_name(key, names, func)
        out[canon] = value
    return out


def match_name(key: str, names: Sequence[str], func: str) -> str:
    """Canonical spelling of a name-value argument name (case-insensitive, unique prefix)."""
    low = key.lower()
    exact = [n for n in names if n.lower() == low]
    if exact:
        return exact[0]
    hits = [n for n in names if n.lower().startswith(low)]
    if len(hits) == 1:
        return hits[0]
    raise MException(
        f"MATLAB:{func}:invalidParameterName" if not hits else f"MATLAB:{func}:ambiguousParameterName",
        f"'{key}' is not a{'n unambiguous' if hits else ' recognized'} name-value argument of "
        f"{func}. Allowed names: {', '.join(names)}.",
    )


def is_real_numeric(value: Any) -> bool:
    """True for Python/NumPy real numbers and arrays/lists/tuples of them (not bool, not str)."""
    if isinstance(value, (str, bytes, bool, np.bool_)):
        return False
    if isinstance(value, numbers.Real):
        return True
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        return False
    if isinstance(value, (list, tuple)) and _holds_logical(value):
        return False
    return arr.dtype.kind in "iuf" and arr.size > 0


def _holds_logical(values: Sequence[Any]) -> bool:
    """True when a (nested) list or tuple holds a bool, which NumPy would turn into 0/1."""
    return any(_holds_logical(v) if isinstance(v, (list, tuple)) else isinstance(v, (bool, np.bool_))
               for v in values)


def positive_int_vector(
    value: Any,
    func: str,
    argname: str,
    lengths: Sequence[int] | None = None,
    allow_zero: bool = False,
    ident: str | None = None,
) -> tuple[int, ...]:
    """Validate a positive integer scalar or vector; return it as a tuple of Python ints.

    ``lengths`` restricts the allowed number of elements (e.g. ``(1, 3)``).
    """
    ident = ident or f"nnet_cnn:{func}:Invalid{argname}"
    what = "nonnegative" if allow_zero else "positive"
    allowed = f"a {what} integer" + (
        f" or a vector of {' or '.join(str(n) for n in lengths if n > 1)} {what} integers"
        if lengths and any(n > 1 for n in lengths) else (" vector" if lengths is None else "")
    )
    if not is_real_numeric(value):
        raise MException(ident, f"{argname} must be {allowed}. Received: {argname}={_fmt(value)}.")
    if lengths is not None and sum(n > 1 for n in np.shape(value)) > 1:
        raise MException(ident, f"{argname} must be {allowed}, not a matrix. "
                                f"Received: {argname}={_fmt(value)}.")
    arr = np.asarray(value, dtype=float).ravel()
    ok = np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
    ok = ok and (np.all(arr >= 0) if allow_zero else np.all(arr > 0))
    if lengths is not None and arr.size not in lengths:
        ok = False
    if not ok:
        raise MException(ident, f"{argname} must be {allowed}. Received: {argname}={_fmt(value)}.")
    return tuple(int(v) for v in arr)


def expand(values: tuple[int, ...], n: int) -> tuple[int, ...]:
    """Expand a scalar tuple to ``n`` dimensions: (3,) -> (3, 3, 3)."""
    return values * n if len(values) == 1 else tuple(values)


def check_name(value: Any, func: str) -> str:
    """Validate a layer Name (string scalar)."""
    if not isinstance(value, str):
        raise MException(
            f"nnet_cnn:{func}:InvalidName",
            f"Name must be a character vector or string scalar. Received: Name={_fmt(value)}.",
        )
    return value


def check_nonnegative_scalar(value: Any, func: str, argname: str) -> float:
    """Validate a finite nonnegative real scalar (learn-rate and L2 factors)."""
    if not is_real_numeric(value) or np.size(value) != 1:
        raise MException(
            f"nnet_cnn:{func}:Invalid{argname}",
            f"{argname} must be a finite nonnegative scalar. Received: {argname}={_fmt(value)}.",
        )
    v = float(np.asarray(value).ravel()[0])
    if not np.isfinite(v) or v < 0:
        raise MException(
            f"nnet_cnn:{func}:Invalid{argname}",
            f"{argname} must be a finite nonnegative scalar. Received: {argname}={_fmt(value)}.",
        )
    return v


__all__ = [
    "validatestring", "parse_name_value", "match_name", "is_real_numeric",
    "positive_int_vector", "expand", "check_name", "check_nonnegative_scalar",
]



def positive_int(value: Any, func: str, argname: str, minimum: int = 1) -> int:
    """Validate an integer scalar >= ``minimum`` (default: positive)."""
    ok = is_real_numeric(value) and np.size(value) == 1
    v = float(np.asarray(value).ravel()[0]) if ok else float("nan")
    if not (ok and np.isfinite(v) and v == round(v) and v >= minimum):
        what = "a positive integer" if minimum == 1 else f"an integer greater than or equal to {minimum}"
        raise MException(
            f"nnet_cnn:{func}:Invalid{argname}",
            f"{argname} must be {what}. Received: {argname}={_fmt(value)}.",
        )
    return int(v)


def real_scalar(value: Any, func: str, argname: str, low: float, high: float = np.inf,
                what: str = "") -> float:
    """Validate a real scalar in ``[low, high]``; ``what`` describes the allowed range."""
    ok = is_real_numeric(value) and np.size(value) == 1
    v = float(np.asarray(value).ravel()[0]) if ok else float("nan")
    if not (ok and low <= v <= high):
        raise MException(
            f"nnet_cnn:{func}:Invalid{argname}",
            f"{argname} must be {what or f'a real scalar in [{low}, {high}]'}. "
            f"Received: {argname}={_fmt(value)}.",
        )
    return v


def float_array(value: Any, func: str, argname: str) -> np.ndarray:
    """A copy of a real numeric array (floating dtypes kept, others become single)."""
    if not is_real_numeric(value) or not np.all(np.isfinite(np.asarray(value, dtype=float))):
        raise MException(
            f"nnet_cnn:{func}:Invalid{argname}",
            f"{argname} must be a finite real numeric array. Received: {argname}={_fmt(value)}.",
        )
    arr = np.array(value)
    return arr if arr.dtype.kind == "f" else arr.astype(np.float32)


def matlab_shape(value: Any, expected: Sequence[int], func: str, argname: str) -> np.ndarray:
    """``value`` as a float array of shape ``expected`` (MATLAB drops trailing singletons, so
    shapes that differ only by trailing 1s are accepted)."""
    arr = float_array(value, func, argname)
    expected = tuple(int(n) for n in expected)
    if _strip_ones(arr.shape) != _strip_ones(expected):
        raise MException(
            f"nnet_cnn:{func}:Invalid{argname}Size",
            f"{argname} must be an array of size {'x'.join(map(str, expected))}. "
            f"Received: an array of size {'x'.join(map(str, arr.shape)) or '1x1'}.",
        )
    return arr.reshape(expected)


def _strip_ones(shape: Sequence[int]) -> tuple[int, ...]:
    shape = list(shape)
    while shape and shape[-1] == 1:
        shape.pop()
    return tuple(shape)


def initializer(value: Any, allowed: Sequence[str], func: str, argname: str) -> Any:
    """An initializer name (validatestring against ``allowed``) or a callable ``f(size)``."""
    return value if callable(value) else validatestring(value, allowed, func, argname)


def is_unset(value: Any) -> bool:
    """None or an empty array/list: a learnable or statistic left to initialisation (a ragged
    list is "set", so that its validation reports it)."""
    if value is None:
        return True
    try:
        return np.size(value) == 0
    except (ValueError, TypeError):
        return False


def logical_scalar(value: Any, func: str, argname: str) -> bool:
    """A MATLAB logical scalar: True/False, NumPy bools, or a real 0/1 scalar."""
    if isinstance(value, (bool, np.bool_)) or (is_real_numeric(value) and np.size(value) == 1
                                               and float(np.asarray(value).ravel()[0]) in (0, 1)):
        return bool(np.asarray(value).ravel()[0])
    raise MException(f"nnet_cnn:{func}:Invalid{argname}",
                     f"{argname} must be a logical scalar (true/false or 1/0). "
                     f"Received: {argname}={_fmt(value)}.")


__all__ += ["positive_int", "real_scalar", "float_array", "matlab_shape", "initializer", "is_unset",
            "logical_scalar"]


def describe(value: Any, depth: int = 0) -> str:
    """What a value is, for a "Received:" message: its type and size, never its full contents.

    >>> describe([np.zeros((16, 16, 16, 1, 32), np.float32)])
    'a list of 1 element (a 16x16x16x1x32 float32 array)'
    """
    if value is None or isinstance(value, (bool, int, float, complex, np.bool_, np.number)):
        return repr(value.item() if isinstance(value, (np.bool_, np.number)) else value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        size = "x".join(map(str, shape)) or "scalar"
        dtype = getattr(value, "dtype", None)
        if str(dtype) == "category":
            return f"a categorical of {len(value)} labels"
        kind = "array" if isinstance(value, np.ndarray) else type(value).__name__
        return f"a {size} {dtype} {kind}" if dtype is not None else f"a {size} {kind}"
    if isinstance(value, (list, tuple)):
        n = len(value)
        text = f"a {type(value).__name__} of {n} element{'' if n == 1 else 's'}"
        if n and depth < 2:
            inner = ", ".join(describe(v, depth + 1) for v in value[:3])
            text += f" ({inner}{', ...' if n > 3 else ''})"
        return text
    if isinstance(value, dict):
        return f"a dict with keys {list(value)[:5]}"
    return f"an object of type {type(value).__name__}"
