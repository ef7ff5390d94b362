"""Graph merge points: elementwise addition of N inputs, concatenation along channels (axis 0).

Shapes: every x ``(C_i, N, *S)``; addition needs identical shapes, concatenation identical
``(N, *S)``; y ``(sum C_i, N, *S)`` for concatenation.
"""
from __future__ import annotations

from collections.abc import Sequence

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


def concat_forward(xs: Sequence[Array]) -> tuple[Array, list[int]]:
    """Concatenate along channels (axis 0); returns ``(y, cache)``. See also:
    depthConcatenationLayer.

    >>> import numpy as np
    >>> concat_forward([np.zeros((1, 2)), np.ones((2, 2))])[0].shape
    (3, 2)
    """
    xp = get_xp(*xs)
    _check_same(xs, lambda x: (x.shape[1:], x.dtype), "shape after the channel axis and dtype")
    return xp.concatenate(xs, axis=0), [x.shape[0] for x in xs]


def concat_backward(dy: Array, cache: list[int]) -> list[Array]:
    """Split ``dy`` back into the inputs' channel ranges (views of ``dy``: read-only)."""
    bounds = [0]
    for channels in cache:
        bounds.append(bounds[-1] + channels)
    return [dy[start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]


def _check_same(xs: Sequence[Array], key, what: str) -> None:
    if len(xs) < 1:
        raise ValueError("Expected at least one input. Received: an empty list.")
    for i, x in enumerate(xs[1:], start=2):
        if key(x) != key(xs[0]):
            raise ValueError(
                f"Inputs must have the same {what}. Received: input 1 of shape "
                f"{tuple(xs[0].shape)} ({xs[0].dtype}) and input {i} of shape "
                f"{tuple(x.shape)} ({x.dtype}).")
