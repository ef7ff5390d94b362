"""batchNormalizationLayer: per-channel batch normalization (any number of spatial dims).

MATLAB layout of Offset, Scale, TrainedMean, TrainedVariance: ``1 x 1 [x 1] x C``; internal
``(C,)``. Execution: :func:`layergraph.ops.batchnorm.batchnorm_forward`.

Moving statistics (training mode): ``m' = (1 - MeanDecay) m + MeanDecay * batch_mean`` and
``v' = (1 - VarianceDecay) v + VarianceDecay * batch_var * M / (M - 1)`` where ``M`` is the
number of values per channel (unbiased batch variance, as cuDNN's running variance).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import batchnorm as bn_ops
from . import _learnables
from ._validation import parse_name_value, real_scalar
from .base import Layer
from .context import ForwardContext

_VECTORS = ("Offset", "Scale", "TrainedMean", "TrainedVariance")
_FACTORS = ("OffsetLearnRateFactor", "ScaleLearnRateFactor", "OffsetL2Factor", "ScaleL2Factor")
_OPTIONS = ("Name", "Epsilon", "MeanDecay", "VarianceDecay", "OffsetInitializer",
            "ScaleInitializer") + _VECTORS + _FACTORS
INITIALIZERS = _learnables.NORM_INITIALIZERS


class BatchNormalizationLayer(_learnables.ChannelVectors, Layer):
    """Batch normalization layer; built by :func:`batchNormalizationLayer`.

    Properties: NumChannels ('auto' until known), MeanDecay, VarianceDecay (0.1), Epsilon (1e-5);
    learnables Offset (zeros), Scale (ones); states TrainedMean, TrainedVariance; all
    ``1 x 1 [x 1] x C``. Op: :func:`layergraph.ops.batchnorm.batchnorm_forward` / ``_backward``.
    """

    TYPE = "Batch Normalization"
    FUNC = "batchNormalizationLayer"
    DEFAULT_NAME = "batchnorm"
    LEARNABLES = ("Offset", "Scale")
    STATES = ("TrainedMean", "TrainedVariance")
    FUSES_RELU = True
    GENERAL = ("Name", "NumChannels")
    HYPERPARAMETERS = ("MeanDecay", "VarianceDecay", "Epsilon")
    HIDDEN = ("OffsetInitializer", "ScaleInitializer") + _FACTORS
    READ_ONLY = ("NumChannels",)
    VECTORS = _VECTORS

    def __init__(self, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, _OPTIONS, self.FUNC)
        defaults = {"Name": "", "Epsilon": 1e-5, "MeanDecay": 0.1, "VarianceDecay": 0.1,
                    "OffsetInitializer": "zeros", "ScaleInitializer": "ones",
                    **{f: 1 for f in _FACTORS}}
        object.__setattr__(self, "NumChannels", "auto")
        for name, value in {**defaults, **opts}.items():
            setattr(self, name, value)
        for name in _VECTORS:
            if name not in opts:
                object.__setattr__(self, name, None)

    # ---- validation hooks (Epsilon, initializers, Offset, Scale: ChannelVectors) ----------
    def _check_MeanDecay(self, value: Any) -> float:
        return real_scalar(value, self.FUNC, "MeanDecay", 0.0, 1.0, "a real scalar in [0, 1]")

    def _check_VarianceDecay(self, value: Any) -> float:
        return real_scalar(value, self.FUNC, "VarianceDecay", 0.0, 1.0, "a real scalar in [0, 1]")

    def _check_TrainedMean(self, value: Any) -> np.ndarray | None:
        return self._check_vector("TrainedMean", value)

    def _check_TrainedVariance(self, value: Any) -> np.ndarray | None:
        arr = self._check_vector("TrainedVariance", value)
        if arr is not None and np.any(arr < 0):
            raise self.layer_error("InvalidTrainedVariance",
                                   "TrainedVariance must be nonnegative. Received negative values.")
        return arr

    # ---- display / sizes -------------------------------------------------------------------
    def description(self) -> str:
        if self.NumChannels == "auto":
            return "Batch normalization"
        return f"Batch normalization with {self.NumChannels} channels"

    def initialize(self, input_sizes: list[tuple[int, ...]],
                   rng: np.random.Generator) -> "BatchNormalizationLayer":
        return self._initialize_vectors(input_sizes, rng, (
            ("Offset", self.OffsetInitializer), ("Scale", self.ScaleInitializer),
            ("TrainedMean", "zeros"), ("TrainedVariance", "ones")))

    def parameter_shapes(self, input_sizes: list[tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
        size, = self.output_sizes(input_sizes)
        return dict.fromkeys(self.LEARNABLES + self.STATES, (1,) * (len(size) - 1) + (size[-1],))

    # ---- execution -------------------------------------------------------------------------
    def forward(self, params: dict, xs: list, ctx: ForwardContext, relu: bool = False
                ) -> tuple[list, Any, dict]:
        """``relu``: also apply the ReLU layer that alone reads this output (the executor's
        fusion; the output is then that ReLU's output)."""
        x, training = xs[0], ctx.training
        mean, var = params.get("TrainedMean"), params.get("TrainedVariance")
        if not training and (mean is None or var is None):
            raise self.layer_error("StatisticsNotInitialized",
                                   "Inference needs TrainedMean and TrainedVariance, which are not "
                                   "initialized. Initialize or train the network first.")
        y, cache, (batch_mean, batch_var) = bn_ops.batchnorm_forward(
            x, params["Scale"], params["Offset"], self.Epsilon, training,
            None if training else mean, None if training else var, relu=relu)
        if not training:
            return [y], cache, {}
        count = x.size // x.shape[0]
        unbiased = batch_var * (count / max(count - 1, 1))
        update = {"BatchMean": batch_mean, "BatchVariance": batch_var}
        if mean is not None and var is not None:
            update["TrainedMean"] = mean + self.MeanDecay * (batch_mean - mean)
            update["TrainedVariance"] = var + self.VarianceDecay * (unbiased - var)
        return [y], cache, update

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True,
                 relu_output: Any = None) -> tuple[list, dict]:
        """``relu_output``: the output of a fused forward; ``dys`` are then the gradients of
        that ReLU's output."""
        dx, dscale, doffset = bn_ops.batchnorm_backward(dys[0], cache, need=(need_dx, True, True),
                                                        relu_output=relu_output)
        return [dx], {"Offset": doffset, "Scale": dscale}


def batchNormalizationLayer(*args: Any, **kwargs: Any) -> BatchNormalizationLayer:
    """MATLAB ``batchNormalizationLayer(Name=Value)``: Epsilon 1e-5, Offset 0, Scale 1, decays 0.1."""
    return BatchNormalizationLayer(*args, **kwargs)


__all__ = ["BatchNormalizationLayer", "batchNormalizationLayer"]
