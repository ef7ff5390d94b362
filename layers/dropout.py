"""dropoutLayer: inverted dropout in training, the identity in inference.

In a training pass each element is zeroed with probability Probability and the others are
scaled by ``1 / (1 - Probability)``; the mask comes from the pass's generator (``ctx.rng``, seeded
from MATLAB's global ``rng`` and the mini-batch), so ``rng(seed)`` reproduces it.
Execution: :mod:`layergraph.ops.dropout`.
"""
from __future__ import annotations

from typing import Any

from ..ops import dropout as dropout_ops
from ._validation import _fmt, is_real_numeric, parse_name_value
from .base import ParameterFreeLayer
from .context import ForwardContext
from .errors import MException


class DropoutLayer(ParameterFreeLayer):
    """Dropout with probability Probability (default 0.5); built by :func:`dropoutLayer`."""

    TYPE, FUNC, DEFAULT_NAME = "Dropout", "dropoutLayer", "dropout"
    HYPERPARAMETERS = ("Probability",)
    CACHE_ONLY_IN_TRAINING = True   # a statistics pass (no backward) runs it as inference:
    #                                 the population statistics see what prediction sees

    def __init__(self, *args: Any, **kwargs: Any):
        if args and not isinstance(args[0], str):
            kwargs = {"Probability": args[0], **kwargs}
            args = args[1:]
        opts = parse_name_value(args, kwargs, ("Name", "Probability"), self.FUNC)
        for name, value in {"Name": "", "Probability": 0.5, **opts}.items():
            setattr(self, name, value)

    def _check_Probability(self, value: Any) -> float:
        ok = is_real_numeric(value) and getattr(value, "size", 1) == 1 and not isinstance(
            value, (list, tuple))
        v = float(value) if ok else float("nan")
        if not 0 <= v < 1:
            raise MException(f"nnet_cnn:{self.FUNC}:InvalidProbability",
                             "Probability must be a real scalar in the range [0, 1). "
                             f"Received: Probability={_fmt(value)}.")
        return v

    def description(self) -> str:
        return f"{100 * self.Probability:g}% dropout"

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        if not ctx.training or self.Probability == 0:
            return [xs[0]], None, {}
        y, mask = dropout_ops.dropout_forward(xs[0], self.Probability, ctx.rng)
        return [y], mask, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True
                 ) -> tuple[list, dict]:
        if not need_dx:
            return [None], {}
        return [dys[0] if cache is None else dropout_ops.dropout_backward(dys[0], cache)], {}


def dropoutLayer(*args: Any, **kwargs: Any) -> DropoutLayer:
    """MATLAB ``dropoutLayer``, ``dropoutLayer(probability)``, ``dropoutLayer(..., Name=name)``."""
    return DropoutLayer(*args, **kwargs)


__all__ = ["DropoutLayer", "dropoutLayer"]
