"""Graph merge points: elementwise addition of N inputs, concatenation along an axis.

Shapes: every x ``(C_i, N, *S)``; addition needs identical shapes, concatenation identical
``(N, *S)``; y ``(sum C_i, N, *S)`` for concatenation (channels; any axis alike).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ._backend import Array, get_xp


def add_forward(xs: Sequence[Array]) -> tuple[Array, int]:
    """``y = x_1 + ... + x_n``; returns ``(y, cache)``. See also: additionLayer.

    >>> import numpy as np
    >>> add_forward([np.ones(2), np.ones(2), np.ones(2)])[0].tolist()
    [3.0, 3.0]
    """
    get_xp(*xs)
    _check_same(xs, lambda x: (x.shape, x.dtype), "shape and dtype")
    y = xs[0].copy()
    for x in xs[1:]:
        y += x
    return y, len(xs)


def add_backward(dy: Array, cache: int) -> list[Array]:
    """``dx_i = dy`` for every input: the SAME array object each time, so treat it as read-only."""
    return [dy] * cache


class ConcatCache(NamedTuple):
    """What concat_backward needs: the axis and each input's size along it."""

    axis: int
    sizes: list


def concat_forward(xs: Sequence[Array], axis: int = 0) -> tuple[Array, ConcatCache]:
    """Concatenate along ``axis`` (default 0: channels); returns ``(y, cache)``. See also:
    depthConcatenationLayer, concatenationLayer.

    >>> import numpy as np
    >>> concat_forward([np.zeros((1, 2)), np.ones((2, 2))])[0].shape
    (3, 2)
    >>> concat_forward([np.zeros((1, 2)), np.ones((1, 3))], axis=1)[0].shape
    (1, 5)
    """
    xp = get_xp(*xs)
    if xs and not -xs[0].ndim <= axis < xs[0].ndim:
        raise ValueError(f"The axis must be one of the {xs[0].ndim} axes of the inputs. "
                         f"Received: axis={axis}.")
    axis = axis % xs[0].ndim if xs else axis
    _check_same(xs, lambda x: (x.shape[:axis] + x.shape[axis + 1:], x.dtype),
                f"shape outside axis {axis} and dtype")
    return xp.concatenate(xs, axis=axis), ConcatCache(axis, [x.shape[axis] for x in xs])


def concat_backward(dy: Array, cache: ConcatCache) -> list[Array]:
    """Split ``dy`` back into the inputs' ranges along the axis (views of ``dy``: read-only)."""
    axis, sizes = cache
    bounds = [0]
    for size in sizes:
        bounds.append(bounds[-1] + size)
    lead = (slice(None),) * axis
    return [dy[lead + (slice(start, stop),)] for start, stop in zip(bounds[:-1], bounds[1:])]


def _check_same(xs: Sequence[Array], key, what: str) -> None:
    if len(xs) < 1:
        raise ValueError("Expected at least one input. Received: an empty list.")
    for i, x in enumerate(xs[1:], start=2):
        if key(x) != key(xs[0]):
            raise ValueError(
                f"Inputs must have the same {what}. Received: input 1 of shape "
                f"{tuple(xs[0].shape)} ({xs[0].dtype}) and input {i} of shape "
                f"{tuple(x.shape)} ({x.dtype}).")
