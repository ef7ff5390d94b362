"""Spatial cropping of ``(C, N, *S)`` arrays to a window (crop2dLayer, crop3dLayer).

Shapes: x ``(C, N, *S)``; a window of sizes ``O <= S`` starting at 0-based ``start`` per
spatial dim; y ``(C, N, *O)``. The backward pass scatters ``dy`` into zeros of x's shape.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from ._backend import Array, get_xp


class CropCache(NamedTuple):
    """What crop_backward needs: x's shape and dtype, the window's index."""

    shape: tuple
    dtype: Any
    index: tuple


def center_crop_start(in_sizes: Sequence[int], out_sizes: Sequence[int]) -> tuple[int, ...]:
    """0-based start of a centred window: ``floor((S - O) / 2)`` per dim.

    >>> center_crop_start((7, 8), (4, 4))
    (1, 2)
    """
    return tuple((n - o) // 2 for n, o in zip(in_sizes, out_sizes))


def crop_forward(x: Array, start: Sequence[int], out_sizes: Sequence[int]
                 ) -> tuple[Array, CropCache]:
    """The window ``x[:, :, start:start + O]`` (a copy); returns ``(y, cache)``.

    Raises ValueError when the window does not lie inside x. See also: crop2dLayer.

    >>> import numpy as np
    >>> crop_forward(np.arange(5.0).reshape(1, 1, 5), (1,), (3,))[0].tolist()
    [[[1.0, 2.0, 3.0]]]
    """
    get_xp(x)
    start, out_sizes = tuple(int(s) for s in start), tuple(int(o) for o in out_sizes)
    spatial = x.shape[2:]
    if len(start) != len(spatial) or len(out_sizes) != len(spatial) or any(
            s < 0 or o < 1 or s + o > n for s, o, n in zip(start, out_sizes, spatial)):
        raise ValueError(
            "The crop window must lie inside the input. Received: input sizes "
            f"{tuple(spatial)}, window start {start} and sizes {out_sizes}.")
    index = _window(start, out_sizes)
    return x[index].copy(), CropCache(x.shape, x.dtype, index)


def crop_backward(dy: Array, cache: CropCache) -> Array:
    """``dx``: zeros of x's shape with ``dy`` in the window."""
    shape, dtype, index = cache
    dx = get_xp(dy).zeros(shape, dtype=dtype)
    dx[index] = dy
    return dx


def _window(start: tuple[int, ...], sizes: tuple[int, ...]) -> tuple[slice, ...]:
    return (slice(None), slice(None)) + tuple(slice(s, s + o) for s, o in zip(start, sizes))
