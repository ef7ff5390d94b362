"""classificationLayer (cross-entropy) and regressionLayer (half mean-squared error).

Output layers pass their input through in ``forward``; the loss is ``loss(y, t)`` /
``loss_backward(cache)`` on internal ``(K, N, 1, ..)`` or ``(K, N)`` arrays, N = observations.
Execution: :mod:`layergraph.ops.loss`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import _backend
from ..ops import loss as loss_ops
from ._validation import _fmt, float_array, parse_name_value, validatestring
from .base import Layer
from .context import ForwardContext
from .errors import MException


def _names(value: Any, func: str, argname: str) -> tuple[str, ...]:
    """A sequence of names (or a categorical-like object with ``categories``) -> tuple of str."""
    value = getattr(value, "categories", value)
    if isinstance(value, str):
        value = (value,)
    try:
        # a set or dict has no class order to keep: refused rather than ordered arbitrarily
        names = None if isinstance(value, (set, frozenset, dict)) else tuple(value)
    except TypeError:
        names = None
    valid = names is not None and all(isinstance(n, str) and n for n in names)
    if not valid or len(set(names)) != len(names):
        raise MException(f"nnet_cnn:{func}:Invalid{argname}",
                         f"{argname} must be 'auto' or an ordered sequence of unique, non-empty names. "
                         f"Received: {argname}={_fmt(value)}.")
    return tuple(str(n) for n in names)


class _OutputLayer(Layer, register=False):
    """A loss layer: one input, no outputs; forward is the identity."""

    IS_OUTPUT = True

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        self._one_input(input_sizes)
        return []

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        return [xs[0]], None, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        return [dys[0] if need_dx else None], {}

    @staticmethod
    def _targets(y: Any, t: Any) -> Any:
        """Targets in y's shape ((K, N) targets match (K, N, 1, .., 1) scores)."""
        return t if t.shape == y.shape or t.size != y.size else t.reshape(y.shape)


class ClassificationOutputLayer(_OutputLayer):
    """Cross-entropy loss over K classes; built by :func:`classificationLayer`."""

    TYPE = "Classification Output"
    FUNC = "classificationLayer"
    DEFAULT_NAME = "classoutput"
    GENERAL = ("Name", "Classes", "ClassWeights", "OutputSize")
    HYPERPARAMETERS = ("LossFunction",)
    READ_ONLY = ("OutputSize",)

    def __init__(self, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, ("Name", "Classes", "ClassWeights"), self.FUNC)
        object.__setattr__(self, "OutputSize", "auto")
        for name, value in {"Name": "", "Classes": "auto", "ClassWeights": "none", **opts}.items():
            setattr(self, name, value)

    @property
    def LossFunction(self) -> str:
        return "crossentropyex"

    def _check_Classes(self, value: Any) -> Any:
        if isinstance(value, str) and value.lower() == "auto":
            return "auto"
        names = _names(value, self.FUNC, "Classes")
        self._check_count(len(names), getattr(self, "ClassWeights", "none"))
        object.__setattr__(self, "OutputSize", len(names))
        return names

    def _check_ClassWeights(self, value: Any) -> Any:
        if isinstance(value, str):
            return validatestring(value, ["none"], self.FUNC, "ClassWeights")
        weights = float_array(value, self.FUNC, "ClassWeights")
        is_vector = sum(n > 1 for n in weights.shape) <= 1
        weights = weights.ravel()
        if not is_vector or weights.size == 0 or np.any(weights <= 0):
            raise MException(f"nnet_cnn:{self.FUNC}:InvalidClassWeights",
                             "ClassWeights must be 'none' or a vector of positive numbers. "
                             f"Received: ClassWeights={_fmt(value)}.")
        self._check_count(self.OutputSize if self.OutputSize != "auto" else None, weights)
        return weights

    def _check_count(self, k: int | None, weights: Any) -> None:
        if k is not None and not isinstance(weights, str) and np.size(weights) != k:
            raise MException(f"nnet_cnn:{self.FUNC}:ClassWeightsSizeMismatch",
                             f"ClassWeights must have one weight per class ({k}). "
                             f"Received: {np.size(weights)} weights.")

    def description(self) -> str:
        if self.Classes == "auto":
            return "crossentropyex"
        if len(self.Classes) == 1:
            return f"crossentropyex with class '{self.Classes[0]}'"
        if len(self.Classes) == 2:
            return f"crossentropyex with classes '{self.Classes[0]}' and '{self.Classes[1]}'"
        return f"crossentropyex with '{self.Classes[0]}' and {len(self.Classes) - 1} other classes"

    def initialize(self, input_sizes: list[tuple[int, ...]], rng: Any) -> "ClassificationOutputLayer":
        k = self._one_input(input_sizes)[-1]
        if self.OutputSize not in ("auto", k):
            raise self.layer_error("WrongNumClasses",
                                   f"The layer has {self.OutputSize} classes. Received: an input with "
                                   f"{k} channels.")
        self._check_count(k, self.ClassWeights)
        new = self.copy()
        object.__setattr__(new, "OutputSize", k)
        return new

    def loss(self, y: Any, t: Any) -> tuple[Any, Any]:
        """Cross-entropy ``-sum(w t ln y)/N`` of scores y and targets t, (K, N[, 1..]) internal."""
        weights = None
        if not isinstance(self.ClassWeights, str):
            weights = _backend.get_xp(y).asarray(self.ClassWeights, dtype=y.dtype)
        return loss_ops.cross_entropy_forward(y, self._targets(y, t), weights)

    def loss_backward(self, cache: Any) -> Any:
        """d loss / d y, in the shape y had."""
        return loss_ops.cross_entropy_backward(cache)


class RegressionOutputLayer(_OutputLayer):
    """Half mean-squared-error loss; built by :func:`regressionLayer`."""

    TYPE = "Regression Output"
    FUNC = "regressionLayer"
    DEFAULT_NAME = "regressionoutput"
    GENERAL = ("Name", "ResponseNames")
    HYPERPARAMETERS = ("LossFunction",)

    def __init__(self, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, ("Name", "ResponseNames"), self.FUNC)
        for name, value in {"Name": "", "ResponseNames": (), **opts}.items():
            setattr(self, name, value)

    @property
    def LossFunction(self) -> str:
        return "mse"

    def _check_ResponseNames(self, value: Any) -> tuple[str, ...]:
        return _names(value, self.FUNC, "ResponseNames")

    def description(self) -> str:
        names = self.ResponseNames
        if not names:
            return "mean-squared-error"
        if len(names) == 1:
            return f"mean-squared-error with response '{names[0]}'"
        return f"mean-squared-error with '{names[0]}' and {len(names) - 1} other responses"

    def loss(self, y: Any, t: Any) -> tuple[Any, Any]:
        """``sum(0.5 (y - t)^2) / N`` over all responses (and pixels), N = observations."""
        return loss_ops.mse_forward(y, self._targets(y, t))

    def loss_backward(self, cache: Any) -> Any:
        """d loss / d y, in the shape y had."""
        return loss_ops.mse_backward(cache)


def classificationLayer(*args: Any, **kwargs: Any) -> ClassificationOutputLayer:
    """MATLAB ``classificationLayer(Name='', Classes='auto', ClassWeights='none')``."""
    return ClassificationOutputLayer(*args, **kwargs)


def regressionLayer(*args: Any, **kwargs: Any) -> RegressionOutputLayer:
    """MATLAB ``regressionLayer(Name='')``; loss 'mse'."""
    return RegressionOutputLayer(*args, **kwargs)


__all__ = ["ClassificationOutputLayer", "RegressionOutputLayer", "classificationLayer", "regressionLayer"]
