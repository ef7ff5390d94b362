"""convolution2dLayer / convolution3dLayer: one N-d ConvolutionLayer with 2-D and 3-D fronts.

MATLAB layouts: Weights ``h x w [x d] x C x F``, Bias ``1 x 1 [x 1] x F``. Internal (ops):
Weights ``(F, C, h, w[, d])``, Bias ``(F,)``. Execution: :func:`layergraph.ops.convolution.conv_forward`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import convolution as conv_ops
from . import _learnables, _spatial
from .context import ForwardContext
from ._spatial import WindowLayer
from ._validation import (parse_name_value, positive_int, real_scalar,
                          validatestring)

_OPTIONS = ("Name", "Stride", "DilationFactor", "Padding", "PaddingValue", "NumChannels", "Weights",
            "Bias") + _learnables.WEIGHT_BIAS_HIDDEN


class ConvolutionLayer(_learnables.FilterBank, _learnables.WeightsAndBias, WindowLayer, register=False):
    """N-d convolution layer (see Convolution2DLayer / Convolution3DLayer).

    Properties: FilterSize, NumChannels ('auto' until known), NumFilters, Stride,
    DilationFactor, PaddingMode ('manual' | 'same'), PaddingSize, PaddingValue; learnables
    Weights (``h x w [x d] x C x F``) and Bias (``1 x 1 [x 1] x F``); WeightsInitializer
    ('glorot'), BiasInitializer ('zeros'), Weight/Bias LearnRateFactor (1) and L2Factor (1 / 0).
    Op: :func:`layergraph.ops.convolution.conv_forward` / ``conv_backward``.
    """

    DEFAULT_NAME = "conv"
    LEARNABLES = ("Weights", "Bias")
    HYPERPARAMETERS = ("FilterSize", "NumChannels", "NumFilters", "Stride", "DilationFactor",
                       "PaddingMode", "PaddingSize", "PaddingValue")
    HIDDEN = _learnables.WEIGHT_BIAS_HIDDEN
    READ_ONLY = ("FilterSize", "NumChannels", "NumFilters")

    def __init__(self, filterSize: Any, numFilters: Any, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, _OPTIONS, self.FUNC)
        defaults = {"Name": "", "Stride": 1, "DilationFactor": 1, "PaddingValue": 0,
                    "NumChannels": "auto", **_learnables.WEIGHT_BIAS_DEFAULTS}
        self._init("FilterSize", filterSize)
        self._init("NumFilters", numFilters)
        self._set_padding(opts.pop("Padding", 0))
        for name, value in {**defaults, **opts}.items():
            if name not in ("Weights", "Bias"):
                self._init(name, value)
        self.Weights = opts.get("Weights")
        self.Bias = opts.get("Bias")

    # ---- validation hooks ----------------------------------------------------------------
    def _check_FilterSize(self, value: Any) -> tuple[int, ...]:
        return self._vector(value, "FilterSize")

    def _check_DilationFactor(self, value: Any) -> tuple[int, ...]:
        return self._vector(value, "DilationFactor")

    def _check_NumFilters(self, value: Any) -> int:
        return positive_int(value, self.FUNC, "NumFilters")

    def _check_NumChannels(self, value: Any) -> Any:
        if isinstance(value, str) and value.lower() == "auto":
            return "auto"
        return positive_int(value, self.FUNC, "NumChannels")

    def _check_PaddingValue(self, value: Any) -> float | str:
        if isinstance(value, str):
            return validatestring(value, list(_spatial.PADDING_MODES), self.FUNC, "PaddingValue")
        return real_scalar(value, self.FUNC, "PaddingValue", -np.inf, np.inf,
                           "a real scalar, 'replicate', 'symmetric-include-edge' or "
                           "'symmetric-exclude-edge'")

    def _weights_shape(self, channels: int | None = None) -> tuple[int, ...]:
        c = channels if channels is not None else self.NumChannels
        return (*self.FilterSize, c, self.NumFilters)

    # ---- display ---------------------------------------------------------------------------
    def description(self) -> str:
        size = "x".join(map(str, self.FilterSize))
        if self.NumChannels != "auto":
            size += f"x{self.NumChannels}"
        return f"{self.NumFilters} {size} convolutions {self._stride_padding_text()}"

    # ---- sizes -----------------------------------------------------------------------------
    def _window(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return self.FilterSize, self.DilationFactor

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        size = self._one_input(input_sizes, self.NDIM + 1)
        if self.NumChannels != "auto" and size[-1] != self.NumChannels:
            raise self.layer_error(
                "WrongNumChannels",
                f"The layer expects {self.NumChannels} input channels (NumChannels). "
                f"Received: an input with {size[-1]} channels.")
        return [(*self._spatial_output(size), self.NumFilters)]

    def initialize(self, input_sizes: list[tuple[int, ...]], rng: np.random.Generator) -> "ConvolutionLayer":
        size = self._one_input(input_sizes)
        self.output_sizes(input_sizes)
        channels = size[-1]
        new = self.copy()
        object.__setattr__(new, "NumChannels", channels)
        object.__setattr__(new, "PaddingSize", self._resolved_padding_size(size))
        self._initialize_filters(new, channels, rng)
        return new

    # ---- execution -------------------------------------------------------------------------
    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        x = xs[0]
        pads = self.pads(tuple(x.shape[2:]))
        if self.PaddingValue != 0:
            x = _spatial.pad_spatial(x, pads, self.PaddingValue)
            padded, pads = pads, ((0, 0),) * self.NDIM
        else:
            padded = None
        y, cache = conv_ops.conv_forward(x, params["Weights"], params["Bias"], self.Stride, pads,
                                         self.DilationFactor)
        return [y], (cache, padded), {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        conv_cache, padded = cache
        dx, dw, db = conv_ops.conv_backward(dys[0], conv_cache, need=(need_dx, True, True))
        if dx is not None and padded is not None:
            dx = _spatial.pad_spatial_backward(dx, padded, self.PaddingValue)
        return [dx], {"Weights": dw, "Bias": db}


class Convolution2DLayer(ConvolutionLayer):
    """2-D convolution layer; built by :func:`convolution2dLayer`."""

    NDIM = 2
    TYPE = "2-D Convolution"
    FUNC = "convolution2dLayer"


class Convolution3DLayer(ConvolutionLayer):
    """3-D convolution layer; built by :func:`convolution3dLayer`."""

    NDIM = 3
    TYPE = "3-D Convolution"
    FUNC = "convolution3dLayer"


def convolution2dLayer(filterSize: Any, numFilters: Any, *args: Any, **kwargs: Any) -> Convolution2DLayer:
    """MATLAB ``convolution2dLayer(filterSize, numFilters, Name=Value)``."""
    return Convolution2DLayer(filterSize, numFilters, *args, **kwargs)


def convolution3dLayer(filterSize: Any, numFilters: Any, *args: Any, **kwargs: Any) -> Convolution3DLayer:
    """MATLAB ``convolution3dLayer(filterSize, numFilters, Name=Value)``; e.g.
    ``convolution3dLayer(11, 96, Stride=4, Padding=1)``."""
    return Convolution3DLayer(filterSize, numFilters, *args, **kwargs)


__all__ = ["Convolution2DLayer", "Convolution3DLayer", "convolution2dLayer", "convolution3dLayer"]
