"""dlarray data formats: MATLAB's dimension labels S (spatial), C (channel), B (batch),
T (time), U (unspecified).

A formatted dlarray keeps its dimensions sorted S..., C, B, T, U... (MATLAB permutes them on
creation) and has exactly one label per dimension of its data (trailing singletons included).
The deep-learning functions work on the ops' internal layout ``(C, N, *spatial)`` where the
spatial axes are the S dimensions followed by T; ``to_internal``/``from_internal`` convert.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..layers.errors import MException

LABELS = "SCBTU"
_RANK = {label: i for i, label in enumerate(LABELS)}


def parse(fmt: Any, func: str = "dlarray") -> str:
    """The validated, upper-case format string (unsorted); '' for an empty format."""
    if not isinstance(fmt, str):
        raise MException(f"deep:{func}:InvalidFormat",
                         "The data format must be a string of the labels S, C, B, T and U. "
                         f"Received: {type(fmt).__name__}.")
    upper = fmt.upper()
    bad = sorted(set(upper) - set(LABELS))
    repeated = [label for label in "CBT" if upper.count(label) > 1]
    if bad or repeated:
        what = f"invalid labels {bad}" if bad else f"the labels {repeated} more than once"
        raise MException(f"deep:{func}:InvalidFormat",
                         "The data format must contain only S, C, B, T and U, with C, B and T at most "
                         f"once. Received: '{fmt}' with {what}.")
    return upper


def sort_order(fmt: str) -> tuple[int, ...]:
    """Axis permutation that sorts ``fmt`` into S, C, B, T, U order (stable)."""
    return tuple(sorted(range(len(fmt)), key=lambda i: (_RANK[fmt[i]], i)))


def sorted_format(fmt: str) -> str:
    return "".join(fmt[i] for i in sort_order(fmt))


def spatial_axes(fmt: str) -> tuple[int, ...]:
    """The axes the ops treat as spatial: every S, then T."""
    return tuple(i for i, c in enumerate(fmt) if c == "S") + tuple(i for i, c in enumerate(fmt) if c == "T")


def internal_order(fmt: str, func: str) -> tuple[int | None, int | None, tuple[int, ...]]:
    """(channel axis, batch axis, spatial axes) of a formatted array for a deep-learning op.

    U dimensions are rejected (the op would not know what to do with them).
    """
    if not fmt:
        raise MException(f"deep:{func}:UnformattedInput",
                         f"{func} needs a formatted dlarray (for example 'SSCB' or 'CB') or the "
                         "DataFormat option. Received: an unformatted array.")
    if "U" in fmt:
        raise MException(f"deep:{func}:InvalidFormat",
                         f"{func} supports the labels S, C, B and T only. Received: format '{fmt}'.")
    return (fmt.find("C") if "C" in fmt else None, fmt.find("B") if "B" in fmt else None,
            spatial_axes(fmt))


def to_internal(xp, x, fmt: str, func: str):
    """``x`` (MATLAB layout, format ``fmt``) -> ``(C, N, *spatial)``; returns ``(array, undo)``
    where ``undo(y_internal)`` maps an array of the same internal shape back."""
    c, b, spatial = internal_order(fmt, func)
    axes = [a for a in (c, b) if a is not None] + list(spatial)
    y = x.transpose(axes) if axes != list(range(x.ndim)) else x
    shape = list(y.shape)
    if c is None:
        shape.insert(0, 1)
    if b is None:
        shape.insert(1, 1)
    internal = y.reshape(shape)

    def undo(g):
        g = g.reshape(y.shape)
        inverse = [0] * len(axes)
        for i, a in enumerate(axes):
            inverse[a] = i
        return g.transpose(inverse) if axes != list(range(x.ndim)) else g
    return internal, undo


def from_internal(y, fmt: str):
    """``(C, N, *spatial)`` -> MATLAB layout of format ``fmt`` (which must contain S/T, C, B as
    the internal array does, in sorted order; missing C or B are dropped)."""
    shape = list(y.shape)
    keep = []
    if "C" in fmt:
        keep.append(0)
    if "B" in fmt:
        keep.append(1)
    spatial_count = len(shape) - 2
    s_count = fmt.count("S")
    t_count = fmt.count("T")
    if s_count + t_count != spatial_count:
        raise ValueError(f"internal array of shape {tuple(shape)} does not match format '{fmt}'")
    squeezed = y.reshape([shape[i] for i in keep] + shape[2:])
    # squeezed axes: [C][B] S... T ; target order: S... C B T
    n_cb = len(keep)
    s_axes = list(range(n_cb, n_cb + s_count))
    t_axes = list(range(n_cb + s_count, n_cb + s_count + t_count))
    order = s_axes + list(range(n_cb)) + t_axes
    return squeezed.transpose(order) if order != list(range(len(order))) else squeezed


def labels_text(shape: Sequence[int], fmt: str) -> str:
    """MATLAB's size line: ``3(S) × 2(S) × 1(T)`` or ``3×4`` when unformatted."""
    if fmt:
        return " × ".join(f"{n}({c})" for n, c in zip(shape, fmt))
    dims = list(shape) if len(shape) >= 2 else ([1, shape[0]] if len(shape) == 1 else [1, 1])
    return "×".join(map(str, dims))
