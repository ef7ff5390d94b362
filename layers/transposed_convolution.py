"""transposedConv2dLayer / transposedConv3dLayer: one N-d layer with 2-D and 3-D fronts.

MATLAB layouts: Weights ``h x w [x d] x NumFilters x NumChannels``, Bias ``1 x 1 [x 1] x F``;
CroppingSize ``[t b l r]`` (2-D) or ``[t l f; b r k]`` (3-D). Internal (ops): Weights
``(C, F, h, w[, d])``, Bias ``(F,)``. Output size ``(in - 1) Stride + FilterSize - cropping``
(``in .* Stride`` for 'same'). Execution: :mod:`layergraph.ops.transposed_convolution`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import transposed_convolution as tconv_ops
from . import _learnables, _spatial
from ._display import int2str
from ._spatial import WindowLayer
from .context import ForwardContext
from ._validation import parse_name_value, positive_int
from .errors import MException

_OPTIONS = ("Name", "Stride", "Cropping", "NumChannels", "Weights", "Bias") + \
    _learnables.WEIGHT_BIAS_HIDDEN


class TransposedConvolutionLayer(_learnables.FilterBank, _learnables.WeightsAndBias, WindowLayer, register=False):
    """N-d transposed convolution layer (see TransposedConvolution2DLayer / 3DLayer).

    Properties: FilterSize, NumChannels ('auto' until known), NumFilters, Stride,
    CroppingMode ('manual' | 'same'), CroppingSize; learnables Weights and Bias with the
    convolution layers' initializers and factors.
    """

    DEFAULT_NAME = "transposed-conv"
    LEARNABLES = ("Weights", "Bias")
    HYPERPARAMETERS = ("FilterSize", "NumChannels", "NumFilters", "Stride", "CroppingMode",
                       "CroppingSize")
    HIDDEN = _learnables.WEIGHT_BIAS_HIDDEN
    READ_ONLY = ("FilterSize", "NumChannels", "NumFilters")

    def __init__(self, filterSize: Any, numFilters: Any, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, _OPTIONS, self.FUNC)
        defaults = {"Name": "", "Stride": 1, "NumChannels": "auto",
                    **_learnables.WEIGHT_BIAS_DEFAULTS}
        self._init("FilterSize", filterSize)
        self._init("NumFilters", numFilters)
        mode, size = _spatial.parse_padding(opts.pop("Cropping", 0), self.NDIM, self.FUNC,
                                            "Cropping")
        object.__setattr__(self, "CroppingMode", mode)
        object.__setattr__(self, "CroppingSize", size)
        for name, value in {**defaults, **opts}.items():
            if name not in ("Weights", "Bias"):
                self._init(name, value)
        self.Weights = opts.get("Weights")
        self.Bias = opts.get("Bias")

    # ---- validation hooks ----------------------------------------------------------------
    def _check_FilterSize(self, value: Any) -> tuple[int, ...]:
        return self._vector(value, "FilterSize")

    def _check_NumFilters(self, value: Any) -> int:
        return positive_int(value, self.FUNC, "NumFilters")

    def _check_NumChannels(self, value: Any) -> Any:
        if isinstance(value, str) and value.lower() == "auto":
            return "auto"
        return positive_int(value, self.FUNC, "NumChannels")

    def _check_CroppingMode(self, value: Any) -> str:
        return self._check_PaddingMode(value)

    def _check_CroppingSize(self, value: Any) -> tuple:
        try:
            return self._check_PaddingSize(value)
        except MException as error:
            raise MException(f"nnet_cnn:{self.FUNC}:InvalidCroppingSize",
                             error.message.replace("PaddingSize", "CroppingSize")) from None

    CHANNELS_LAST = True

    def _weights_shape(self, channels: int | None = None) -> tuple[int, ...]:
        c = channels if channels is not None else self.NumChannels
        return (*self.FilterSize, self.NumFilters, c)

    # ---- display ---------------------------------------------------------------------------
    def description(self) -> str:
        size = "x".join(map(str, self.FilterSize))
        if self.NumChannels != "auto":
            size += f"x{self.NumChannels}"
        cropping = "'same'" if self.CroppingMode == "same" else f"[{int2str(self.CroppingSize)}]"
        return (f"{self.NumFilters} {size} transposed convolutions with stride "
                f"[{int2str(self.Stride)}] and cropping {cropping}")

    # ---- sizes -----------------------------------------------------------------------------
    def crops(self) -> _spatial.Pairs:
        """(before, after) cropping per spatial dim ('same': FilterSize - Stride, odd after)."""
        if self.CroppingMode == "same":
            totals = [k - s for k, s in zip(self.FilterSize, self.Stride)]
            if min(totals) < 0:
                raise self.layer_error(
                    "InvalidSameCropping",
                    "Cropping 'same' needs FilterSize >= Stride in every dimension. Received: "
                    f"FilterSize [{int2str(self.FilterSize)}], Stride [{int2str(self.Stride)}].")
            return tuple((t // 2, t - t // 2) for t in totals)
        return _spatial.pairs_from_padding_size(self.CroppingSize, self.NDIM)

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        size = self._one_input(input_sizes, self.NDIM + 1)
        if self.NumChannels != "auto" and size[-1] != self.NumChannels:
            raise self.layer_error(
                "WrongNumChannels",
                f"The layer expects {self.NumChannels} input channels (NumChannels). "
                f"Received: an input with {size[-1]} channels.")
        crops = self.crops()
        try:
            out = tconv_ops.transposed_output_sizes(size[:-1], self.FilterSize, self.Stride,
                                                    crops)
        except ValueError:
            raise self.layer_error(
                "CroppingTooLarge",
                f"The cropping [{int2str(self.CroppingSize)}] removes the whole output. "
                f"Received: input size {'x'.join(map(str, size))}.") from None
        return [(*out, self.NumFilters)]

    def initialize(self, input_sizes: list[tuple[int, ...]], rng: np.random.Generator
                   ) -> "TransposedConvolutionLayer":
        channels = self._one_input(input_sizes)[-1]
        self.output_sizes(input_sizes)
        new = self.copy()
        object.__setattr__(new, "NumChannels", channels)
        if self.CroppingMode == "same":
            object.__setattr__(new, "CroppingSize", _spatial.padding_size_from_pairs(self.crops()))
        self._initialize_filters(new, channels, rng)
        return new

    # ---- execution -------------------------------------------------------------------------
    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        y, cache = tconv_ops.transposed_conv_forward(xs[0], params["Weights"], params["Bias"],
                                                     self.Stride, self.crops())
        return [y], cache, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True
                 ) -> tuple[list, dict]:
        dx, dw, db = tconv_ops.transposed_conv_backward(dys[0], cache, need=(need_dx, True, True))
        return [dx], {"Weights": dw, "Bias": db}


class TransposedConvolution2DLayer(TransposedConvolutionLayer):
    """2-D transposed convolution layer; built by :func:`transposedConv2dLayer`."""

    NDIM, TYPE, FUNC = 2, "2-D Transposed Convolution", "transposedConv2dLayer"


class TransposedConvolution3DLayer(TransposedConvolutionLayer):
    """3-D transposed convolution layer; built by :func:`transposedConv3dLayer`."""

    NDIM, TYPE, FUNC = 3, "3-D Transposed Convolution", "transposedConv3dLayer"


def transposedConv2dLayer(filterSize: Any, numFilters: Any, *args: Any, **kwargs: Any
                          ) -> TransposedConvolution2DLayer:
    """MATLAB ``transposedConv2dLayer(filterSize, numFilters, Stride=1, Cropping=0, ...)``."""
    return TransposedConvolution2DLayer(filterSize, numFilters, *args, **kwargs)


def transposedConv3dLayer(filterSize: Any, numFilters: Any, *args: Any, **kwargs: Any
                          ) -> TransposedConvolution3DLayer:
    """MATLAB ``transposedConv3dLayer(filterSize, numFilters, Stride=1, Cropping=0, ...)``; e.g.
    ``transposedConv3dLayer(11, 32, Stride=[4, 4, 2])``."""
    return TransposedConvolution3DLayer(filterSize, numFilters, *args, **kwargs)


__all__ = ["TransposedConvolution2DLayer", "TransposedConvolution3DLayer",
           "transposedConv2dLayer", "transposedConv3dLayer"]
