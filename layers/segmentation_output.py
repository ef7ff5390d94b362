"""pixelClassificationLayer and dicePixelClassificationLayer: output layers over every pixel.

Scores y and one-hot targets t are internal ``(K, N, *S)`` arrays; a pixel whose target column
is all zero (MATLAB's <undefined> label) is ignored. Execution:
:mod:`layergraph.ops.segmentation_loss`.
"""
from __future__ import annotations

from typing import Any

from ..ops import _backend
from ..ops import segmentation_loss as seg_ops
import numpy as np

from ._validation import parse_name_value, real_scalar
from .errors import MException
from .output import ClassificationOutputLayer


def _classes_text(classes: Any) -> str:
    if classes == "auto":
        return ""
    if len(classes) == 1:
        return f" with class '{classes[0]}'"
    if len(classes) == 2:
        return f" with classes '{classes[0]}' and '{classes[1]}'"
    return f" with '{classes[0]}' and {len(classes) - 1} other classes"


class PixelClassificationLayer(ClassificationOutputLayer):
    """Cross-entropy over every pixel (voxel), optionally class weighted; built by
    :func:`pixelClassificationLayer`. The loss is the weighted sum over the labelled pixels
    divided by their number."""

    TYPE = "Pixel Classification Layer"
    FUNC = "pixelClassificationLayer"
    DEFAULT_NAME = "classoutput"

    def description(self) -> str:
        loss = "Cross-entropy loss" if isinstance(self.ClassWeights, str) else \
            "Class weighted cross-entropy loss"
        return loss + _classes_text(self.Classes)

    def loss(self, y: Any, t: Any) -> tuple[Any, Any]:
        """``-sum(w t ln y) / M`` (M labelled pixels) of scores y and targets t, (K, N, *S)."""
        weights = None
        if not isinstance(self.ClassWeights, str):
            weights = _backend.get_xp(y).asarray(self.ClassWeights, dtype=y.dtype)
        return seg_ops.pixel_cross_entropy_forward(y, self._targets(y, t), weights)

    def loss_backward(self, cache: Any) -> Any:
        """d loss / d y, in the shape y had."""
        return seg_ops.pixel_cross_entropy_backward(cache)


class DicePixelClassificationLayer(ClassificationOutputLayer):
    """Generalized Dice loss over every pixel (voxel); built by
    :func:`dicePixelClassificationLayer`."""

    TYPE = "Dice Pixel Classification Layer"
    FUNC = "dicePixelClassificationLayer"
    DEFAULT_NAME = "classoutput"
    GENERAL = ("Name", "Classes", "OutputSize")
    ClassWeights = "none"     # not a property of this layer: no class weights

    def __init__(self, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, ("Name", "Classes"), self.FUNC)
        object.__setattr__(self, "OutputSize", "auto")
        for name, value in {"Name": "", "Classes": "auto", **opts}.items():
            setattr(self, name, value)

    @property
    def LossFunction(self) -> str:
        return "gdl"

    def description(self) -> str:
        return "Generalized Dice loss" + _classes_text(self.Classes)

    def loss(self, y: Any, t: Any) -> tuple[Any, Any]:
        """Generalized Dice loss of scores y and targets t, (K, N, *S), averaged over N."""
        return seg_ops.generalized_dice_forward(y, self._targets(y, t))

    def loss_backward(self, cache: Any) -> Any:
        """d loss / d y, in the shape y had."""
        return seg_ops.generalized_dice_backward(cache)


class FocalLossLayer(ClassificationOutputLayer):
    """Focal loss ``-alpha t (1 - y)^gamma ln y`` over the classes of every observation (and
    pixel); built by :func:`focalLossLayer`."""

    TYPE = "Focal Loss Layer"
    FUNC = "focalLossLayer"
    DEFAULT_NAME = "focalloss"
    GENERAL = ("Name", "Classes", "OutputSize")
    HYPERPARAMETERS = ("Gamma", "Alpha")
    ClassWeights = "none"     # not a property of this layer

    def __init__(self, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, ("Name", "Classes", "Gamma", "Alpha"), self.FUNC)
        object.__setattr__(self, "OutputSize", "auto")
        for name, value in {"Name": "", "Classes": "auto", "Gamma": 2.0, "Alpha": 0.25,
                            **opts}.items():
            setattr(self, name, value)

    def _positive(self, value: Any, name: str) -> float:
        value = real_scalar(value, self.FUNC, name, 0.0, float(np.finfo(float).max),
                            "a finite positive real scalar")
        if value <= 0:
            raise MException(f"nnet_cnn:{self.FUNC}:Invalid{name}",
                             f"{name} must be a finite positive real scalar. Received: "
                             f"{name}={value}.")
        return value

    def _check_Gamma(self, value: Any) -> float:
        return self._positive(value, "Gamma")

    def _check_Alpha(self, value: Any) -> float:
        return self._positive(value, "Alpha")

    def description(self) -> str:
        return "Focal loss" + _classes_text(self.Classes)

    def loss(self, y: Any, t: Any) -> tuple[Any, Any]:
        """Focal loss of scores y and targets t, (K, N[, *S]), over the labelled positions."""
        return seg_ops.focal_cross_entropy_forward(y, self._targets(y, t), self.Gamma, self.Alpha)

    def loss_backward(self, cache: Any) -> Any:
        """d loss / d y, in the shape y had."""
        return seg_ops.focal_cross_entropy_backward(cache)


def pixelClassificationLayer(*args: Any, **kwargs: Any) -> PixelClassificationLayer:
    """MATLAB ``pixelClassificationLayer(Name='', Classes='auto', ClassWeights='none')``."""
    return PixelClassificationLayer(*args, **kwargs)


def dicePixelClassificationLayer(*args: Any, **kwargs: Any) -> DicePixelClassificationLayer:
    """MATLAB ``dicePixelClassificationLayer(Name='', Classes='auto')``."""
    return DicePixelClassificationLayer(*args, **kwargs)


def focalLossLayer(*args: Any, **kwargs: Any) -> FocalLossLayer:
    """MATLAB ``focalLossLayer(Gamma=2, Alpha=0.25, Classes='auto', Name='')``."""
    return FocalLossLayer(*args, **kwargs)


__all__ = ["PixelClassificationLayer", "DicePixelClassificationLayer", "FocalLossLayer",
           "pixelClassificationLayer", "dicePixelClassificationLayer", "focalLossLayer"]
