"""Shared by convolution and pooling layers: stride and padding properties, window arithmetic.

MATLAB PaddingSize layouts: 2-D row ``[t b l r]``; 3-D 2x3 ``[t l f; b r k]`` (held as the
nested tuple ``((t, l, f), (b, r, k))``). Internally padding is one ``(before, after)`` pair per
spatial dim in MATLAB order (h, w, d).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import _backend, _shapes
from ._display import int2str
from ._validation import _fmt, expand, is_real_numeric, positive_int_vector, validatestring
from .base import Layer
from .errors import MException

Pairs = tuple[tuple[int, int], ...]


def padding_size_from_pairs(pairs: Pairs) -> tuple:
    """((t, b), (l, r)) -> (t, b, l, r); ((t, b), (l, r), (f, k)) -> ((t, l, f), (b, r, k))."""
    if len(pairs) == 2:
        return tuple(int(p) for pair in pairs for p in pair)
    return tuple(int(b) for b, _ in pairs), tuple(int(a) for _, a in pairs)


def pairs_from_padding_size(padding_size: Any, ndim: int) -> Pairs:
    """Inverse of :func:`padding_size_from_pairs`."""
    if ndim == 2:
        t, b, l, r = padding_size
        return (t, b), (l, r)
    before, after = padding_size
    return tuple(zip(before, after))


def parse_padding(value: Any, ndim: int, func: str, argname: str = "Padding") -> tuple[str, tuple]:
    """MATLAB's Padding creation argument -> (PaddingMode, PaddingSize).

    'same'; a scalar p (all sides); a vector of one entry per spatial dim (both sides of that
    dim); 2-D ``[t b l r]``; 3-D 2x3 ``[t l f; b r k]``.
    """
    if isinstance(value, str):
        validatestring(value, ["same"], func, argname)
        return "same", padding_size_from_pairs(((0, 0),) * ndim)
    allowed = ("'same', a nonnegative integer, a vector of "
               + ("2 or 4 nonnegative integers [t b l r]" if ndim == 2
                  else "3 nonnegative integers or a 2x3 matrix [t l f; b r k]"))
    arr = np.asarray(value) if is_real_numeric(value) else np.zeros((0,))
    is_vector = arr.ndim <= 1 or (arr.ndim == 2 and 1 in arr.shape)
    full = 4 if ndim == 2 else 6  # every side given: [t b l r] or [t l f; b r k]
    vector_sizes = (1, ndim, full) if ndim == 2 else (1, ndim)
    if not ((is_vector and arr.size in vector_sizes) or (ndim == 3 and arr.shape == (2, 3))):
        raise MException(f"nnet_cnn:{func}:Invalid{argname}",
                         f"{argname} must be {allowed}. Received: {argname}={_fmt(value)}.")
    flat = positive_int_vector(value, func, argname, allow_zero=True,
                               ident=f"nnet_cnn:{func}:Invalid{argname}")
    if len(flat) != full:
        return "manual", padding_size_from_pairs(tuple((p, p) for p in expand(flat, ndim)))
    return "manual", flat if ndim == 2 else (flat[:3], flat[3:])


class WindowLayer(Layer, register=False):
    """A layer sliding a window over ``NDIM`` spatial dims (convolution, pooling)."""

    NDIM: int = 2

    def _window(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(window sizes, dilation) per spatial dim."""
        raise NotImplementedError

    def _vector(self, value: Any, argname: str) -> tuple[int, ...]:
        return expand(positive_int_vector(value, self.FUNC, argname, (1, self.NDIM)), self.NDIM)

    def _check_Stride(self, value: Any) -> tuple[int, ...]:
        return self._vector(value, "Stride")

    def _check_PaddingMode(self, value: Any) -> str:
        return validatestring(value, ["manual", "same"], self.FUNC, "PaddingMode")

    def _check_PaddingSize(self, value: Any) -> tuple:
        shape = (4,) if self.NDIM == 2 else (2, 3)
        layout = "a 1x4 vector [t b l r]" if self.NDIM == 2 else "a 2x3 matrix [t l f; b r k]"
        if not is_real_numeric(value) or np.shape(value) != shape:
            raise MException(
                f"nnet_cnn:{self.FUNC}:InvalidPaddingSize",
                f"PaddingSize must be {layout} of nonnegative integers. "
                f"Received: PaddingSize={_fmt(value)}.")
        return parse_padding(np.asarray(value), self.NDIM, self.FUNC, "PaddingSize")[1]

    def _set_padding(self, padding: Any) -> None:
        mode, size = parse_padding(padding, self.NDIM, self.FUNC)
        object.__setattr__(self, "PaddingMode", mode)
        object.__setattr__(self, "PaddingSize", size)

    def pads(self, spatial_in: tuple[int, ...]) -> Pairs:
        """(before, after) per spatial dim for an input of these spatial sizes."""
        if self.PaddingMode == "same":
            k, dilation = self._window()
            return _shapes.same_padding(spatial_in, k, self.Stride, dilation)
        return pairs_from_padding_size(self.PaddingSize, self.NDIM)

    def _spatial_output(self, size: tuple[int, ...]) -> tuple[int, ...]:
        """Output spatial sizes for an input of size (*spatial, channels)."""
        k, dilation = self._window()
        spatial = size[:-1]
        try:
            return _shapes.output_sizes(spatial, k, self.Stride, self.pads(spatial), dilation)
        except ValueError:
            raise self.layer_error(
                "InputTooSmall",
                f"The padded input is smaller than the window {'x'.join(map(str, k))}. "
                f"Received: input size {'x'.join(map(str, size))}.") from None

    def _resolved_padding_size(self, size: tuple[int, ...]) -> tuple:
        """PaddingSize for an input of size (*spatial, channels): what initialize stores."""
        return padding_size_from_pairs(self.pads(size[:-1]))

    def _stride_padding_text(self) -> str:
        padding = "'same'" if self.PaddingMode == "same" else f"[{int2str(self.PaddingSize)}]"
        return f"with stride [{int2str(self.Stride)}] and padding {padding}"


# MATLAB PaddingValue modes -> numpy.pad modes ([1 2 3] padded by 2 on the left):
# 'replicate' 1 1 | 1 2 3; 'symmetric-include-edge' 2 1 | 1 2 3; 'symmetric-exclude-edge' 3 2 | 1 2 3
PADDING_MODES = {"replicate": "edge", "symmetric-include-edge": "symmetric",
                 "symmetric-exclude-edge": "reflect"}


def pad_spatial(x: Any, pads: Pairs, value: float | str) -> Any:
    """Pad the spatial axes of an internal ``(C, N, *S)`` array with a constant or a mode."""
    xp = _backend.get_xp(x)
    widths = ((0, 0), (0, 0), *pads)
    if isinstance(value, str):
        return xp.pad(x, widths, mode=PADDING_MODES[value])
    return xp.pad(x, widths, mode="constant", constant_values=value)


def pad_spatial_backward(dx: Any, pads: Pairs, value: float | str) -> Any:
    """Gradient of :func:`pad_spatial`: each padded element's gradient goes to its source."""
    if not isinstance(value, str):
        inner = (slice(b, n - a) for n, (b, a) in zip(dx.shape[2:], pads))
        return dx[(slice(None), slice(None), *inner)]
    xp = _backend.get_xp(dx)
    for axis, (b, a) in enumerate(pads, start=2):
        n = dx.shape[axis] - b - a
        source = np.pad(np.arange(n), (b, a), mode=PADDING_MODES[value])
        fold = xp.asarray(np.eye(n, dtype=dx.dtype)[source])  # (padded, n) one-hot rows
        dx = xp.moveaxis(xp.tensordot(dx, fold, axes=([axis], [0])), -1, axis)
    return dx
