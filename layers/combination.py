"""additionLayer, depthConcatenationLayer and concatenationLayer: NumInputs inputs ``in1 .. inN``.

Execution: :mod:`layergraph.ops.combine` (sum; concatenation along channels, axis 0 internally,
or along MATLAB dimension Dim).
"""
from __future__ import annotations

from typing import Any

from ..ops import combine as combine_ops
from ._validation import parse_name_value, positive_int
from .base import Layer
from .context import ForwardContext


class _MultiInputLayer(Layer, register=False):
    """NumInputs (>= 2) inputs named in1..inN, one output."""

    NumInputs = 2  # a stored property here (base class derives it from InputNames)
    GENERAL = ("Name", "NumInputs", "InputNames")

    def __init__(self, numInputs: Any, *args: Any, **kwargs: Any):
        self.NumInputs = numInputs
        self.Name = parse_name_value(args, kwargs, ("Name",), self.FUNC).get("Name", "")

    def _check_NumInputs(self, value: Any) -> int:
        return positive_int(value, self.FUNC, "NumInputs", minimum=2)

    @property
    def InputNames(self) -> tuple[str, ...]:
        return tuple(f"in{i}" for i in range(1, self.NumInputs + 1))

    def _input_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        if len(input_sizes) != self.NumInputs:
            raise self.layer_error(
                "WrongNumberOfInputs",
                f"The layer has {self.NumInputs} inputs. Received: {len(input_sizes)} input sizes.")
        return [tuple(int(n) for n in s) for s in input_sizes]

    def _mismatch(self, what: str, sizes: list[tuple[int, ...]]) -> Exception:
        shown = ", ".join("x".join(map(str, s)) for s in sizes)
        return self.layer_error("InputSizeMismatch", f"{what}. Received: input sizes {shown}.")


class AdditionLayer(_MultiInputLayer):
    """Element-wise addition of NumInputs inputs of equal size; built by :func:`additionLayer`."""

    TYPE = "Addition"
    FUNC = "additionLayer"
    DEFAULT_NAME = "addition"

    def description(self) -> str:
        return f"Element-wise addition of {self.NumInputs} inputs"

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        sizes = self._input_sizes(input_sizes)
        if len(set(sizes)) != 1:
            raise self._mismatch("All inputs of an addition layer must have the same size", sizes)
        return [sizes[0]]

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        y, cache = combine_ops.add_forward(xs)
        return [y], cache, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        if not need_dx:
            return [None] * self.NumInputs, {}
        return list(combine_ops.add_backward(dys[0], cache)), {}


class DepthConcatenationLayer(_MultiInputLayer):
    """Concatenation along channels of inputs with equal spatial sizes; :func:`depthConcatenationLayer`."""

    TYPE = "Depth concatenation"
    FUNC = "depthConcatenationLayer"
    DEFAULT_NAME = "depthcat"

    def description(self) -> str:
        return f"Depth concatenation of {self.NumInputs} inputs"

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        sizes = self._input_sizes(input_sizes)
        if len({s[:-1] for s in sizes}) != 1:
            raise self._mismatch("All inputs of a depth concatenation layer must have the same "
                                 "spatial size", sizes)
        return [(*sizes[0][:-1], sum(s[-1] for s in sizes))]

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        y, cache = combine_ops.concat_forward(xs)
        return [y], cache, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        if not need_dx:
            return [None] * self.NumInputs, {}
        return list(combine_ops.concat_backward(dys[0], cache)), {}


class ConcatenationLayer(_MultiInputLayer):
    """Concatenation along MATLAB dimension Dim (h=1, w=2, [d=3,] channels last);
    built by :func:`concatenationLayer`."""

    TYPE = "Concatenation"
    FUNC = "concatenationLayer"
    DEFAULT_NAME = "concat"
    GENERAL = ("Name", "Dim", "NumInputs", "InputNames")
    READ_ONLY = ("Dim",)

    def __init__(self, dim: Any, numInputs: Any, *args: Any, **kwargs: Any):
        self._init("Dim", dim)
        self._init("NumInputs", numInputs)
        self.Name = parse_name_value(args, kwargs, ("Name",), self.FUNC).get("Name", "")

    def _check_Dim(self, value: Any) -> int:
        return positive_int(value, self.FUNC, "Dim")

    def description(self) -> str:
        return f"Concatenation of {self.NumInputs} inputs along dimension {self.Dim}"

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        sizes = self._input_sizes(input_sizes)
        rank = len(sizes[0])
        if self.Dim > rank or any(len(s) != rank for s in sizes):
            raise self.layer_error(
                "InvalidDim", f"Dim {self.Dim} must be a dimension of the inputs (1 to {rank}: "
                "spatial dimensions, then channels). Received: input sizes "
                + ", ".join("x".join(map(str, s)) for s in sizes) + ".")
        axis = self.Dim - 1
        if len({s[:axis] + s[axis + 1:] for s in sizes}) != 1:
            raise self._mismatch(f"All inputs must have the same size outside dimension {self.Dim}",
                                 sizes)
        return [(*sizes[0][:axis], sum(s[axis] for s in sizes), *sizes[0][axis + 1:])]

    def _axis(self, x: Any) -> int:
        """Internal axis of Dim for an internal ``(C, N, *S)`` input."""
        if self.Dim > x.ndim - 1:           # x.ndim - 1 = spatial dims + channels
            raise self.layer_error("InvalidDim", f"Dim {self.Dim} is not a dimension of an "
                                   f"input with {x.ndim - 2} spatial dimensions. Received: "
                                   f"Dim={self.Dim}.")
        return 0 if self.Dim == x.ndim - 1 else self.Dim + 1

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        y, cache = combine_ops.concat_forward(xs, axis=self._axis(xs[0]))
        return [y], cache, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        if not need_dx:
            return [None] * self.NumInputs, {}
        return list(combine_ops.concat_backward(dys[0], cache)), {}


def additionLayer(numInputs: Any, *args: Any, **kwargs: Any) -> AdditionLayer:
    """MATLAB ``additionLayer(numInputs, Name=name)``: inputs in1..inN, output out."""
    return AdditionLayer(numInputs, *args, **kwargs)


def depthConcatenationLayer(numInputs: Any, *args: Any, **kwargs: Any) -> DepthConcatenationLayer:
    """MATLAB ``depthConcatenationLayer(numInputs, Name=name)``: inputs in1..inN, output out."""
    return DepthConcatenationLayer(numInputs, *args, **kwargs)


def concatenationLayer(dim: Any, numInputs: Any, *args: Any, **kwargs: Any) -> ConcatenationLayer:
    """MATLAB ``concatenationLayer(dim, numInputs, Name=name)``: inputs in1..inN; Dim 3 (2-D
    images) or 4 (volumes) is the channel dimension."""
    return ConcatenationLayer(dim, numInputs, *args, **kwargs)


__all__ = ["AdditionLayer", "DepthConcatenationLayer", "ConcatenationLayer", "additionLayer",
           "depthConcatenationLayer", "concatenationLayer"]
