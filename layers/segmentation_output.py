"""pixelClassificationLayer and dicePixelClassificationLayer: output layers over every pixel.

Scores y and one-hot targets t are internal ``(K, N, *S)`` arrays; a pixel whose target column
is all zero (MATLAB's <undefined> label) is ignored. Execution:
:mod:`layergraph.ops.segmentation_loss`.
"""
from __future__ import annotations

from typing import Any

from ..ops import _backend
from ..ops import segmentation_loss as seg_ops
from ._validation import parse_name_value
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


def pixelClassificationLayer(*args: Any, **kwargs: Any) -> PixelClassificationLayer:
    """MATLAB ``pixelClassificationLayer(Name='', Classes='auto', ClassWeights='none')``."""
    return PixelClassificationLayer(*args, **kwargs)


def dicePixelClassificationLayer(*args: Any, **kwargs: Any) -> DicePixelClassificationLayer:
    """MATLAB ``dicePixelClassificationLayer(Name='', Classes='auto')``."""
    return DicePixelClassificationLayer(*args, **kwargs)


__all__ = ["PixelClassificationLayer", "DicePixelClassificationLayer",
           "pixelClassificationLayer", "dicePixelClassificationLayer"]
