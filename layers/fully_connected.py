"""fullyConnectedLayer: ``y = W x + b`` on the MATLAB column-major flattening of each observation.

MATLAB layout: Weights ``OutputSize x InputSize``, Bias ``OutputSize x 1``; internal: the same
Weights, Bias ``(OutputSize,)``. Execution: :mod:`layergraph.ops.fully_connected`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import _backend
from ..ops import fully_connected as fc_ops
from . import _learnables
from ._validation import float_array, is_unset, matlab_shape, parse_name_value, positive_int
from .base import Layer
from .context import ForwardContext

_OPTIONS = ("Name", "Weights", "Bias") + _learnables.WEIGHT_BIAS_HIDDEN


class FullyConnectedLayer(_learnables.WeightsAndBias, Layer):
    """Fully connected layer; built by :func:`fullyConnectedLayer`.

    Properties: InputSize ('auto' until known), OutputSize; learnables Weights
    (``OutputSize x InputSize``), Bias (``OutputSize x 1``); initializers and factors as the
    convolution layers. Op: :func:`layergraph.ops.fully_connected.fc_forward` / ``fc_backward``.
    """

    TYPE = "Fully Connected"
    FUNC = "fullyConnectedLayer"
    DEFAULT_NAME = "fc"
    LEARNABLES = ("Weights", "Bias")
    HYPERPARAMETERS = ("InputSize", "OutputSize")
    HIDDEN = _learnables.WEIGHT_BIAS_HIDDEN
    READ_ONLY = ("InputSize",)

    def __init__(self, outputSize: Any, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, _OPTIONS, self.FUNC)
        defaults = {"Name": "", **_learnables.WEIGHT_BIAS_DEFAULTS}
        self.OutputSize = outputSize
        object.__setattr__(self, "InputSize", "auto")
        for name, value in {**defaults, **opts}.items():
            if name not in ("Weights", "Bias"):
                setattr(self, name, value)
        self.Weights = opts.get("Weights")
        self.Bias = opts.get("Bias")

    def _check_OutputSize(self, value: Any) -> int:
        return positive_int(value, self.FUNC, "OutputSize")

    def _check_Weights(self, value: Any) -> np.ndarray | None:
        if is_unset(value):
            return None
        arr = float_array(value, self.FUNC, "Weights")
        cols = arr.shape[1] if arr.ndim > 1 else 1
        auto = self.InputSize == "auto"
        expected = (self.OutputSize, cols if auto else self.InputSize)
        weights = matlab_shape(arr, expected, self.FUNC, "Weights")
        if auto:   # inferred only from valid weights: a refused value changes nothing
            object.__setattr__(self, "InputSize", int(cols))
        return weights

    def _check_Bias(self, value: Any) -> np.ndarray | None:
        if is_unset(value):
            return None
        return matlab_shape(value, (self.OutputSize, 1), self.FUNC, "Bias")

    def description(self) -> str:
        return f"{self.OutputSize} fully connected layer"

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        size = self._one_input(input_sizes)
        n_in = int(np.prod(size))
        if self.InputSize != "auto" and n_in != self.InputSize:
            raise self.layer_error(
                "WrongInputSize",
                f"The layer expects inputs with {self.InputSize} elements (InputSize). "
                f"Received: input size {'x'.join(map(str, size))} ({n_in} elements).")
        return [(1,) * (len(size) - 1) + (self.OutputSize,)]

    def initialize(self, input_sizes: list[tuple[int, ...]], rng: np.random.Generator) -> "FullyConnectedLayer":
        self.output_sizes(input_sizes)
        n_in = int(np.prod(self._one_input(input_sizes)))
        new = self.copy()
        object.__setattr__(new, "InputSize", n_in)
        if new.Weights is None:
            new.Weights = _learnables.create(self.WeightsInitializer, (self.OutputSize, n_in),
                                             n_in, self.OutputSize, rng)
        if new.Bias is None:
            new.Bias = _learnables.create(self.BiasInitializer, (self.OutputSize, 1), n_in,
                                          self.OutputSize, rng)
        return new

    def parameter_shapes(self, input_sizes: list[tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
        self.output_sizes(input_sizes)
        n_in = int(np.prod(self._one_input(input_sizes)))
        return {"Weights": (self.OutputSize, n_in), "Bias": (self.OutputSize, 1)}

    def to_internal(self, name: str, value: Any, xp: Any, dtype: Any) -> Any:
        value = xp.asarray(value, dtype=dtype)
        return value.reshape(-1) if name == "Bias" else value

    def from_internal(self, name: str, value: Any) -> np.ndarray:
        value = _backend.to_host(value)
        return value.reshape(-1, 1) if name == "Bias" else value

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        y, cache = fc_ops.fc_forward(xs[0], params["Weights"], params["Bias"])
        return [y], cache, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        dx, dw, db = fc_ops.fc_backward(dys[0], cache, need=(need_dx, True, True))
        return [dx], {"Weights": dw, "Bias": db}


def fullyConnectedLayer(outputSize: Any, *args: Any, **kwargs: Any) -> FullyConnectedLayer:
    """MATLAB ``fullyConnectedLayer(outputSize, Name=Value)``."""
    return FullyConnectedLayer(outputSize, *args, **kwargs)


__all__ = ["FullyConnectedLayer", "fullyConnectedLayer"]
