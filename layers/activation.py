"""reluLayer and softmaxLayer: elementwise ReLU and softmax over channels (no parameters).

Execution: :mod:`layergraph.ops.activation` (softmax over axis 0 of the ``(C, N, *S)`` layout).
"""
from __future__ import annotations

from typing import Any

from ..ops import activation as act_ops
from .base import ElementwiseLayer, ParameterFreeLayer
from .context import ForwardContext


class ReLULayer(ElementwiseLayer):
    """Rectified linear unit layer, ``max(x, 0)``; built by :func:`reluLayer`."""

    TYPE = "ReLU"
    DESCRIPTION = "ReLU"
    FUNC = "reluLayer"
    DEFAULT_NAME = "relu"
    OPS = (act_ops.relu_forward, act_ops.relu_backward)
    IS_RELU = True


class SoftmaxLayer(ParameterFreeLayer):
    """Softmax over the channel dimension; built by :func:`softmaxLayer`."""

    TYPE = "Softmax"
    DESCRIPTION = "softmax"
    FUNC = "softmaxLayer"
    DEFAULT_NAME = "softmax"

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        y, cache = act_ops.softmax_forward(xs[0])
        return [y], cache, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        return [act_ops.softmax_backward(dys[0], cache) if need_dx else None], {}


def reluLayer(*args: Any, **kwargs: Any) -> ReLULayer:
    """MATLAB ``reluLayer(Name=name)``."""
    return ReLULayer(*args, **kwargs)


def softmaxLayer(*args: Any, **kwargs: Any) -> SoftmaxLayer:
    """MATLAB ``softmaxLayer(Name=name)``."""
    return SoftmaxLayer(*args, **kwargs)


__all__ = ["ReLULayer", "SoftmaxLayer", "reluLayer", "softmaxLayer"]
