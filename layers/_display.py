"""MATLAB display text: property values, ``int2str`` vectors and the object display.

    >>> int2str((2, 2, 2))
    '2  2  2'
    >>> format_value((7, 7, 7)), format_value(None), format_value("auto"), format_value(1e-5)
    ('[7 7 7]', '[]', "'auto'", '1.0000e-05')
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

_MATLAB_CLASS = {"float32": "single", "float64": "double", "bool": "logical"}


def int2str(values: Any) -> str:
    """MATLAB ``int2str`` of a vector or matrix: columns of width max-digits + 2, rows joined by ';'.

    >>> int2str(((0, 0, 0), (1, 10, 0)))
    '0   0   0;1  10   0'
    """
    arr = np.atleast_2d(np.asarray(values, dtype=np.int64))
    width = max(len(str(v)) for v in arr.ravel()) + 2
    rows = ["".join(f"{v:{width}d}" for v in row) for row in arr]
    lead = min(len(r) - len(r.lstrip()) for r in rows)
    return ";".join(r[lead:] for r in rows)


def format_number(value: Any) -> str:
    """MATLAB ``format short`` of a real scalar: ``1``, ``0.1000``, ``1.0000e-03``, ``1.0000e-05``.

    Integers print bare; other values print fixed with 4 decimals when 1e-3 < |x| < 1e3, and in
    exponent form otherwise (MATLAB shows 0.001 as ``1.0000e-03``).
    """
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    v = float(value)
    if not np.isfinite(v):
        return "NaN" if np.isnan(v) else ("Inf" if v > 0 else "-Inf")
    if v == round(v) and abs(v) < 1e9:
        return str(int(v))
    if 1e-3 < abs(v) < 1e3:
        return f"{v:.4f}"
    return f"{v:.4e}"


def _size_class(shape: Sequence[int], cls: str) -> str:
    dims = tuple(shape) if len(shape) >= 2 else (1, *shape) if shape else (1, 1)
    return f"[{'x'.join(str(int(s)) for s in dims)} {cls}]"


def format_value(value: Any) -> str:
    """One property value as MATLAB's object display shows it."""
    if value is None:
        return "[]"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return format_number(value)
    if isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        return "{" + "  ".join(f"'{v}'" for v in value) + "}" if value else "{}"
    arr = np.asarray(value)
    cls = _MATLAB_CLASS.get(arr.dtype.name, "double" if arr.dtype.kind in "iu" else arr.dtype.name)
    if arr.size == 0:
        return "[]"
    if arr.size == 1:
        return format_number(arr.ravel()[0])
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[0] == 1):
        if arr.size <= 10:
            return "[" + " ".join(format_number(v) for v in arr.ravel()) + "]"
        return _size_class((1, arr.size), cls)
    return _size_class(arr.shape, cls)


def object_display(class_name: str, groups: Sequence[tuple[str, Sequence[tuple[str, Any]]]]) -> str:
    """MATLAB's ``<Class> with properties:`` display; ``groups`` = [(title, [(name, value)])].

    The first group has no title; a titled group without properties prints "No properties.".
    """
    names = [n for _, props in groups for n, _ in props]
    width = max((len(n) for n in names), default=0) + 4
    lines = [f"  {class_name} with properties:", ""]
    for title, props in groups:
        if title:
            lines.append(f"   {title}")
        if not props and title:
            lines.append("    No properties.")
        lines += [f"{n:>{width}}: {format_value(v)}" for n, v in props]
        lines.append("")
    lines.append("  Use properties method to see a list of all properties.")
    return "\n".join(lines)
