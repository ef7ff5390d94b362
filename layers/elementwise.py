"""Elementwise activation layers: leakyReluLayer, clippedReluLayer, eluLayer, tanhLayer,
sigmoidLayer, swishLayer, geluLayer.

Each holds at most one hyperparameter (Scale, Ceiling, Alpha, Approximation) and runs one pair
of :mod:`layergraph.ops.elementwise` functions.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import elementwise as ew_ops
from ._validation import parse_name_value, real_scalar, validatestring
from .base import ElementwiseLayer
from .context import ForwardContext
from .errors import MException

_MAX = float(np.finfo(np.float64).max)


def num2str(value: float) -> str:
    """MATLAB ``num2str`` of a scalar: up to 5 significant digits (``0.01``, ``10``, ``3.1416``)."""
    return f"{float(value):.5g}"


class ElementwiseActivationLayer(ElementwiseLayer, register=False):
    """An elementwise layer whose op takes the layer's hyperparameter (if any) after x;
    ``PARAMETER`` is the optional first positional argument, ``DEFAULT`` its default (None:
    required)."""

    PARAMETER: str | None = None
    DEFAULT: Any = None
    OPTIONS: tuple[str, ...] = ("Name",)

    def __init__(self, *args: Any, **kwargs: Any):
        if self.PARAMETER is not None and args and not isinstance(args[0], str):
            kwargs = {self.PARAMETER: args[0], **kwargs}
            args = args[1:]
        names = self.OPTIONS + ((self.PARAMETER,) if self.PARAMETER else ())
        opts = parse_name_value(args, kwargs, names, self.FUNC)
        if self.PARAMETER is not None and self.DEFAULT is None and self.PARAMETER not in opts:
            raise MException("MATLAB:minrhs",
                             f"{self.FUNC} needs the argument {self.PARAMETER.lower()}. "
                             f"Received: no {self.PARAMETER.lower()}.")
        defaults = {"Name": "", **({self.PARAMETER: self.DEFAULT} if self.DEFAULT is not None
                                   else {})}
        for name, value in {**defaults, **opts}.items():
            setattr(self, name, value)

    def _arguments(self) -> tuple:
        return (getattr(self, self.HYPERPARAMETERS[0]),) if self.HYPERPARAMETERS else ()

    def description(self) -> str:
        return self.DESCRIPTION

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        y, cache = self.OPS[0](xs[0], *self._arguments())
        return [y], cache, {}


class LeakyReLULayer(ElementwiseActivationLayer):
    """``x`` for positive inputs, ``Scale * x`` otherwise; built by :func:`leakyReluLayer`."""

    TYPE, FUNC, DEFAULT_NAME = "Leaky ReLU", "leakyReluLayer", "leakyrelu"
    HYPERPARAMETERS = ("Scale",)
    PARAMETER, DEFAULT = "Scale", 0.01
    OPS = (ew_ops.leaky_relu_forward, ew_ops.leaky_relu_backward)

    def _check_Scale(self, value: Any) -> float:
        return real_scalar(value, self.FUNC, "Scale", -_MAX, _MAX, "a finite real scalar")

    def description(self) -> str:
        return f"Leaky ReLU with scale {num2str(self.Scale)}"


class ClippedReLULayer(ElementwiseActivationLayer):
    """``min(max(x, 0), Ceiling)``; built by :func:`clippedReluLayer`."""

    TYPE, FUNC, DEFAULT_NAME = "Clipped ReLU", "clippedReluLayer", "clippedrelu"
    HYPERPARAMETERS = ("Ceiling",)
    PARAMETER = "Ceiling"
    OPS = (ew_ops.clipped_relu_forward, ew_ops.clipped_relu_backward)

    def _check_Ceiling(self, value: Any) -> float:
        value = real_scalar(value, self.FUNC, "Ceiling", 0.0, _MAX, "a finite positive real scalar")
        if value <= 0:
            raise MException(f"nnet_cnn:{self.FUNC}:InvalidCeiling",
                             f"Ceiling must be a positive real scalar. Received: Ceiling={value}.")
        return value

    def description(self) -> str:
        return f"Clipped ReLU with ceiling {num2str(self.Ceiling)}"


class ELULayer(ElementwiseActivationLayer):
    """``x`` for ``x >= 0``, ``Alpha (exp(x) - 1)`` otherwise; built by :func:`eluLayer`."""

    TYPE, FUNC, DEFAULT_NAME = "ELU", "eluLayer", "elu"
    HYPERPARAMETERS = ("Alpha",)
    PARAMETER, DEFAULT = "Alpha", 1.0
    OPS = (ew_ops.elu_forward, ew_ops.elu_backward)

    def _check_Alpha(self, value: Any) -> float:
        value = real_scalar(value, self.FUNC, "Alpha", 0.0, _MAX, "a finite positive real scalar")
        if value <= 0:
            raise MException(f"nnet_cnn:{self.FUNC}:InvalidAlpha",
                             f"Alpha must be a positive real scalar. Received: Alpha={value}.")
        return value

    def description(self) -> str:
        return f"ELU with Alpha {num2str(self.Alpha)}"


class TanhLayer(ElementwiseActivationLayer):
    """Hyperbolic tangent; built by :func:`tanhLayer`."""

    DESCRIPTION = "Hyperbolic tangent"
    TYPE, FUNC, DEFAULT_NAME = "Tanh", "tanhLayer", "tanh"
    OPS = (ew_ops.tanh_forward, ew_ops.tanh_backward)



class SigmoidLayer(ElementwiseActivationLayer):
    """Logistic sigmoid ``1 / (1 + exp(-x))``; built by :func:`sigmoidLayer`."""

    DESCRIPTION = "sigmoid"
    TYPE, FUNC, DEFAULT_NAME = "Sigmoid", "sigmoidLayer", "sigmoid"
    OPS = (ew_ops.sigmoid_forward, ew_ops.sigmoid_backward)



class SwishLayer(ElementwiseActivationLayer):
    """Swish ``x sigmoid(x)``; built by :func:`swishLayer`."""

    DESCRIPTION = "swish"
    TYPE, FUNC, DEFAULT_NAME = "Swish", "swishLayer", "swish"
    OPS = (ew_ops.swish_forward, ew_ops.swish_backward)



class GELULayer(ElementwiseActivationLayer):
    """Gaussian error linear unit, Approximation 'none' (erf) or 'tanh'; built by
    :func:`geluLayer`."""

    DESCRIPTION = "GELU"
    TYPE, FUNC, DEFAULT_NAME = "GELU", "geluLayer", "gelu"
    HYPERPARAMETERS = ("Approximation",)
    OPTIONS = ("Name", "Approximation")
    OPS = (ew_ops.gelu_forward, ew_ops.gelu_backward)

    def __init__(self, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, self.OPTIONS, self.FUNC)
        for name, value in {"Name": "", "Approximation": "none", **opts}.items():
            setattr(self, name, value)

    def _check_Approximation(self, value: Any) -> str:
        return validatestring(value, ["none", "tanh"], self.FUNC, "Approximation")



def leakyReluLayer(*args: Any, **kwargs: Any) -> LeakyReLULayer:
    """MATLAB ``leakyReluLayer``, ``leakyReluLayer(scale)``, ``leakyReluLayer(..., Name=name)``."""
    return LeakyReLULayer(*args, **kwargs)


def clippedReluLayer(*args: Any, **kwargs: Any) -> ClippedReLULayer:
    """MATLAB ``clippedReluLayer(ceiling)``, ``clippedReluLayer(ceiling, Name=name)``."""
    return ClippedReLULayer(*args, **kwargs)


def eluLayer(*args: Any, **kwargs: Any) -> ELULayer:
    """MATLAB ``eluLayer``, ``eluLayer(alpha)``, ``eluLayer(..., Name=name)``."""
    return ELULayer(*args, **kwargs)


def tanhLayer(*args: Any, **kwargs: Any) -> TanhLayer:
    """MATLAB ``tanhLayer(Name=name)``."""
    return TanhLayer(*args, **kwargs)


def sigmoidLayer(*args: Any, **kwargs: Any) -> SigmoidLayer:
    """MATLAB ``sigmoidLayer(Name=name)``."""
    return SigmoidLayer(*args, **kwargs)


def swishLayer(*args: Any, **kwargs: Any) -> SwishLayer:
    """MATLAB ``swishLayer(Name=name)``."""
    return SwishLayer(*args, **kwargs)


def geluLayer(*args: Any, **kwargs: Any) -> GELULayer:
    """MATLAB ``geluLayer(Approximation="none"|"tanh", Name=name)``."""
    return GELULayer(*args, **kwargs)


__all__ = ["LeakyReLULayer", "ClippedReLULayer", "ELULayer", "TanhLayer", "SigmoidLayer",
           "SwishLayer", "GELULayer", "leakyReluLayer", "clippedReluLayer", "eluLayer",
           "tanhLayer", "sigmoidLayer", "swishLayer", "geluLayer"]
