"""groupNormalizationLayer, instanceNormalizationLayer, layerNormalizationLayer: per-observation
normalization over groups of channels (one kernel: :mod:`layergraph.ops.group_norm`).

Group: NumGroups groups ('all-channels' = 1, 'channel-wise' = C); instance: every channel its
own group; layer: all channels (and the spatial dims) one group. Offset and Scale are per
channel, MATLAB layout ``1 x 1 [x 1] x C``, internal ``(C,)``. No state.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import _backend
from ..ops import group_norm as gn_ops
from . import _learnables
from ._validation import _fmt, float_array, initializer, is_unset, parse_name_value, \
    positive_int, real_scalar, validatestring
from .base import Layer
from .context import ForwardContext
from .errors import MException

_FACTORS = ("OffsetLearnRateFactor", "ScaleLearnRateFactor", "OffsetL2Factor", "ScaleL2Factor")
_OPTIONS = ("Name", "Epsilon", "Offset", "Scale", "OffsetInitializer", "ScaleInitializer") + \
    _FACTORS
INITIALIZERS = ("zeros", "ones", "narrow-normal")


class GroupedNormalizationLayer(Layer, register=False):
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

    def _check_Epsilon(self, value: Any) -> float:
        return real_scalar(value, self.FUNC, "Epsilon", 1e-5, np.finfo(float).max,
                           "a finite real scalar greater than or equal to 1e-05")

    def _check_OffsetInitializer(self, value: Any) -> Any:
        return initializer(value, INITIALIZERS, self.FUNC, "OffsetInitializer")

    def _check_ScaleInitializer(self, value: Any) -> Any:
        return initializer(value, INITIALIZERS, self.FUNC, "ScaleInitializer")

    def _check_vector(self, name: str, value: Any) -> np.ndarray | None:
        if is_unset(value):
            return None
        arr = float_array(value, self.FUNC, name)
        shape = arr.shape if arr.ndim > 1 else (1, 1, arr.size)
        if any(n != 1 for n in shape[:-1]) or arr.ndim > 4 or \
                self.NumChannels not in ("auto", shape[-1]):
            raise self.layer_error(f"Invalid{name}Size",
                                   f"{name} must be a 1x1xC or 1x1x1xC array with C = NumChannels "
                                   f"({self.NumChannels}). Received: an array of size "
                                   f"{'x'.join(map(str, arr.shape))}.")
        object.__setattr__(self, "NumChannels", int(shape[-1]))
        return arr.reshape(shape)

    def _check_Offset(self, value: Any) -> np.ndarray | None:
        return self._check_vector("Offset", value)

    def _check_Scale(self, value: Any) -> np.ndarray | None:
        return self._check_vector("Scale", value)

    def description(self) -> str:
        if self.NumChannels == "auto":
            return self.DESCRIPTION
        return f"{self.DESCRIPTION} with {self.NumChannels} channels"

    def groups(self, channels: int) -> int:
        """Number of channel groups for an input with ``channels`` channels."""
        raise NotImplementedError

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        size = self._one_input(input_sizes)
        if self.NumChannels != "auto" and size[-1] != self.NumChannels:
            raise self.layer_error("WrongNumChannels",
                                   f"The layer expects {self.NumChannels} input channels "
                                   f"(NumChannels). Received: an input with {size[-1]} channels.")
        self.groups(size[-1])
        return [size]

    def initialize(self, input_sizes: list[tuple[int, ...]], rng: np.random.Generator
                   ) -> "GroupedNormalizationLayer":
        size, = self.output_sizes(input_sizes)
        c = size[-1]
        shape = (1,) * (len(size) - 1) + (c,)
        new = self.copy()
        for name, init in (("Offset", self.OffsetInitializer), ("Scale", self.ScaleInitializer)):
            value = getattr(new, name)
            value = _learnables.create(init, shape, c, c, rng) if value is None \
                else value.reshape(shape)
            object.__setattr__(new, name, value)
        object.__setattr__(new, "NumChannels", c)
        return new

    def to_internal(self, name: str, value: Any, xp: Any, dtype: Any) -> Any:
        return xp.asarray(value, dtype=dtype).reshape(-1)

    def from_internal(self, name: str, value: Any) -> np.ndarray:
        like = next((getattr(self, n) for n in self.LEARNABLES if getattr(self, n) is not None),
                    None)
        shape = like.shape if like is not None else (1, 1, 1, -1)
        return _backend.to_host(value).reshape(shape[:-1] + (-1,))

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
