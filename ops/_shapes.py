"""Size arithmetic and padding shared by convolution and pooling (MATLAB's rules).

Notation per spatial dim: input size ``in``, kernel/pool size ``k``, stride ``s``, dilation ``d``,
padding ``(before, after)``; effective kernel ``(k - 1) d + 1``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from ._backend import Array, get_xp

Padding = tuple[tuple[int, int], ...]


def effective_kernel(k: Sequence[int], dilation: Sequence[int]) -> tuple[int, ...]:
    """Extent covered by a dilated kernel: ``(k - 1) d + 1`` per dim."""
    return tuple((ki - 1) * di + 1 for ki, di in zip(k, dilation))


def same_padding(in_sizes: Sequence[int], k: Sequence[int], stride: Sequence[int],
                 dilation: Sequence[int] | None = None) -> Padding:
    """MATLAB 'same' padding: output ``ceil(in/s)``, the odd pad goes after (bottom/right/back).

    total = max(0, (out - 1) s + (k - 1) d + 1 - in);
    before = floor(total/2); after = ceil(total/2).

    >>> same_padding((224,), (7,), (2,))
    ((2, 3),)
    """
    dilation = dilation if dilation is not None else (1,) * len(k)
    pads = []
    for n, ke, s in zip(in_sizes, effective_kernel(k, dilation), stride):
        total = max(0, (math.ceil(n / s) - 1) * s + ke - n)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def output_sizes(in_sizes: Sequence[int], k: Sequence[int], stride: Sequence[int],
                 pad: Padding, dilation: Sequence[int] | None = None) -> tuple[int, ...]:
    """Output sizes: ``floor((in + before + after - ((k - 1) d + 1)) / s) + 1`` per dim.

    Raises ValueError when the padded input is smaller than the (dilated) kernel.

    >>> output_sizes((7, 7), (3, 3), (2, 2), ((1, 1), (1, 1)))
    (4, 4)
    """
    dilation = dilation if dilation is not None else (1,) * len(k)
    sizes = []
    for n, ke, s, (before, after) in zip(in_sizes, effective_kernel(k, dilation), stride, pad):
        padded = n + before + after
        if padded < ke:
            raise ValueError(
                "The padded input is smaller than the kernel. "
                f"Received: input sizes {tuple(in_sizes)}, padding {tuple(pad)}, "
                f"kernel {tuple(k)}, dilation {tuple(dilation)}.")
        sizes.append((padded - ke) // s + 1)
    return tuple(sizes)


def check_geometry(ndim: int, k: Sequence[int], stride: Sequence[int], pad: Padding,
                   dilation: Sequence[int]) -> None:
    """Raise ValueError unless every argument has ``ndim`` entries of valid values."""
    named = {"kernel size": k, "stride": stride, "padding": pad, "dilation": dilation}
    for label, value in named.items():
        if len(value) != ndim:
            raise ValueError(
                f"The {label} must have one entry per spatial dimension ({ndim}). "
                f"Received: {label}={tuple(value)}.")
    if min(k) < 1 or min(stride) < 1 or min(dilation) < 1:
        raise ValueError(
            "Kernel size, stride and dilation must be positive integers. "
            f"Received: kernel={tuple(k)}, stride={tuple(stride)}, dilation={tuple(dilation)}.")
    if any(len(p) != 2 or min(p) < 0 for p in pad):
        raise ValueError(
            "Padding must be one (before, after) pair of non-negative integers per spatial "
            f"dimension. Received: padding={tuple(pad)}.")


def check_operands(x, w, b) -> None:
    """Convolution operands: x ``(C, N, *S)``, w ``(F, C, *K)`` (1 to 3 spatial dims), b ``(F,)``."""
    if x.ndim not in (3, 4, 5) or w.ndim != x.ndim or w.shape[1] != x.shape[0]:
        raise ValueError(
            "Expected x (C, N, *S) and w (F, C, *K) with 1 to 3 spatial dims and matching C. "
            f"Received: x of shape {x.shape} and w of shape {w.shape}.")
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(
            f"Expected a bias of shape ({w.shape[0]},). Received: b of shape {b.shape}.")


def pad_array(x: Array, pad: Padding, fill: float = 0.0) -> Array:
    """``x (C, N, *S)`` padded on the spatial axes with ``fill``; ``x`` itself when no padding."""
    if not any(before or after for before, after in pad):
        return x
    xpad = get_xp(x).full(padded_shape(x.shape, pad), fill, dtype=x.dtype)
    xpad[interior(x.shape[2:], pad)] = x
    return xpad


def padded_shape(shape: Sequence[int], pad: Padding) -> tuple[int, ...]:
    """Shape ``(C, N, *(S + before + after))`` of a padded ``(C, N, *S)`` array."""
    return tuple(shape[:2]) + tuple(n + b + a for n, (b, a) in zip(shape[2:], pad))


def interior(sizes: Sequence[int], pad: Padding) -> tuple[slice, ...]:
    """Index of the unpadded region inside a padded ``(C, N, *Sp)`` array."""
    return (slice(None), slice(None)) + tuple(slice(b, b + n) for n, (b, _) in zip(sizes, pad))
