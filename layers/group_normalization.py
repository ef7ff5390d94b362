"""groupNormalizationLayer, instanceNormalizationLayer, layerNormalizationLayer: per-observation
normalization over groups of channels (one kernel: :mod:`layergraph.ops.group_norm`).

Group: NumGroups groups ('all-channels' = 1, 'channel-wise' = C); instance: every channel its
own group; layer: all channels (and the spatial dims) one group. Offset and Scale are per
channel, MATLAB layout ``1 x 1 [x 1] x C``, internal ``(C,)``. No state.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import group_norm as gn_ops
from . import _learnables
from ._validation import _fmt, parse_name_value, positive_int, validatestring
from .base import Layer
from .context import ForwardContext
from .errors import MException

_FACTORS = ("OffsetLearnRateFactor", "ScaleLearnRateFactor", "OffsetL2Factor", "ScaleL2Factor")
_OPTIONS = ("Name", "Epsilon", "Offset", "Scale", "OffsetInitializer", "ScaleInitializer") + \
    _FACTORS
INITIALIZERS = _learnables.NORM_INITIALIZERS


class GroupedNormalizationLayer(_learnables.ChannelVectors, Layer, register=False):
    """Base: Epsilon (1e-5), NumChannels ('auto' until known), learnables Offset (zeros) and
    Scale (ones) with initializers and factors as batchNormalizationLayer."""

    LEARNABLES = ("Offset", "Scale")
    GENERAL = ("Name", "NumChannels")
    HYPERPARAMETERS = ("Epsilon",)
    HIDDEN = ("OffsetInitializer", "ScaleInitializer") + _FACTORS
    READ_ONLY = ("NumChannels",)
    DESCRIPTION = ""

    def __init__(self, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, _OPTIONS, self.FUNC)
        self._set_options(opts)

    def _set_options(self, opts: dict) -> None:
        defaults = {"Name": "", "Epsilon": 1e-5, "OffsetInitializer": "zeros",
                    "ScaleInitializer": "ones", **{f: 1 for f in _FACTORS}}
        object.__setattr__(self, "NumChannels", "auto")
        for name, value in {**defaults, **opts}.items():
            setattr(self, name, value)
        for name in self.LEARNABLES:
            if name not in opts:
                object.__setattr__(self, name, None)

    def description(self) -> str:
        if self.NumChannels == "auto":
            return self.DESCRIPTION
        return f"{self.DESCRIPTION} with {self.NumChannels} channels"

    def groups(self, channels: int) -> int:
        """Number of channel groups for an input with ``channels`` channels."""
        raise NotImplementedError

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        sizes = super().output_sizes(input_sizes)
        self.groups(sizes[0][-1])
        return sizes

    def initialize(self, input_sizes: list[tuple[int, ...]], rng: np.random.Generator
                   ) -> "GroupedNormalizationLayer":
        return self._initialize_vectors(input_sizes, rng, (("Offset", self.OffsetInitializer),
                                                           ("Scale", self.ScaleInitializer)))

    def kernel_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape ``x (C, N, *S)`` takes for the kernel (LayerNormalizationLayer: channel-only)."""
        return shape

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        x = xs[0]
        y, cache = gn_ops.group_norm_forward(x.reshape(self.kernel_shape(x.shape)),
                                             params["Scale"], params["Offset"],
                                             self.groups(x.shape[0]), self.Epsilon)
        return [y.reshape(x.shape)], (cache, x.shape), {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True
                 ) -> tuple[list, dict]:
        cache, shape = cache
        dx, dscale, doffset = gn_ops.group_norm_backward(dys[0].reshape(cache.shape), cache,
                                                         (need_dx, True, True))
        return [None if dx is None else dx.reshape(shape)], {"Offset": doffset, "Scale": dscale}


class GroupNormalizationLayer(GroupedNormalizationLayer):
    """Group normalization; built by :func:`groupNormalizationLayer`."""

    TYPE, FUNC, DEFAULT_NAME = "Group Normalization", "groupNormalizationLayer", "groupnorm"
    GENERAL = ("Name", "NumGroups", "NumChannels")
    READ_ONLY = ("NumChannels", "NumGroups")
    DESCRIPTION = "Group normalization"

    def __init__(self, numGroups: Any, *args: Any, **kwargs: Any):
        self._init("NumGroups", numGroups)
        self._set_options(parse_name_value(args, kwargs, _OPTIONS, self.FUNC))

    def _check_NumGroups(self, value: Any) -> Any:
        if isinstance(value, str):
            for mode in ("all-channels", "channel-wise"):
                if value and mode.startswith(value.lower()):
                    return mode
            raise MException(f"nnet_cnn:{self.FUNC}:InvalidNumGroups",
                             "NumGroups must be a positive integer, 'all-channels' or "
                             f"'channel-wise'. Received: NumGroups={_fmt(value)}.")
        return positive_int(value, self.FUNC, "NumGroups")

    def groups(self, channels: int) -> int:
        if self.NumGroups == "all-channels":
            return 1
        if self.NumGroups == "channel-wise":
            return channels
        if channels % self.NumGroups:
            raise self.layer_error("InvalidNumGroups",
                                   f"NumGroups ({self.NumGroups}) must divide the number of "
                                   f"channels. Received: an input with {channels} channels.")
        return self.NumGroups


class InstanceNormalizationLayer(GroupedNormalizationLayer):
    """Instance normalization (each channel of each observation); built by
    :func:`instanceNormalizationLayer`."""

    TYPE, FUNC, DEFAULT_NAME = "Instance Normalization", "instanceNormalizationLayer", "instancenorm"
    DESCRIPTION = "Instance normalization"

    def groups(self, channels: int) -> int:
        return channels


OPERATION_DIMENSIONS = ("auto", "spatial-channel", "channel-only", "batch-excluded")


class LayerNormalizationLayer(GroupedNormalizationLayer):
    """Layer normalization per observation over the channels and spatial positions
    (OperationDimension 'auto', 'spatial-channel', 'batch-excluded': the same for image data)
    or over the channels of each position ('channel-only'); built by
    :func:`layerNormalizationLayer`."""

    TYPE, FUNC, DEFAULT_NAME = "Layer Normalization", "layerNormalizationLayer", "layernorm"
    HYPERPARAMETERS = ("Epsilon", "OperationDimension")
    DESCRIPTION = "Layer normalization"

    def __init__(self, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, _OPTIONS + ("OperationDimension",), self.FUNC)
        self.OperationDimension = opts.pop("OperationDimension", "auto")
        self._set_options(opts)

    def _check_OperationDimension(self, value: Any) -> str:
        return validatestring(value, OPERATION_DIMENSIONS, self.FUNC, "OperationDimension")

    def groups(self, channels: int) -> int:
        return 1

    def kernel_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        if self.OperationDimension == "channel-only":
            return (shape[0], -1)          # every (observation, position) its own sample
        return shape


def groupNormalizationLayer(numGroups: Any, *args: Any, **kwargs: Any) -> GroupNormalizationLayer:
    """MATLAB ``groupNormalizationLayer(numGroups, Epsilon=1e-5, Name=name, ...)``; numGroups a
    positive integer, 'all-channels' or 'channel-wise'."""
    return GroupNormalizationLayer(numGroups, *args, **kwargs)


def instanceNormalizationLayer(*args: Any, **kwargs: Any) -> InstanceNormalizationLayer:
    """MATLAB ``instanceNormalizationLayer(Epsilon=1e-5, Name=name, ...)``."""
    return InstanceNormalizationLayer(*args, **kwargs)


def layerNormalizationLayer(*args: Any, **kwargs: Any) -> LayerNormalizationLayer:
    """MATLAB ``layerNormalizationLayer(Epsilon=1e-5, OperationDimension="auto", Name=name, ...)``;
    OperationDimension 'auto', 'spatial-channel', 'channel-only' or 'batch-excluded'."""
    return LayerNormalizationLayer(*args, **kwargs)


__all__ = ["GroupNormalizationLayer", "InstanceNormalizationLayer", "LayerNormalizationLayer",
           "groupNormalizationLayer", "instanceNormalizationLayer", "layerNormalizationLayer"]
