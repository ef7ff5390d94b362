"""Max, average and global average pooling: one N-d class each, with 2-D and 3-D fronts.

Execution: :mod:`layergraph.ops.pooling`. Stride defaults to 1, Padding to 0 (as MATLAB).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import pooling as pool_ops
from ._spatial import WindowLayer, pairs_from_padding_size
from ._validation import _fmt, is_real_numeric, parse_name_value, real_scalar, validatestring
from .base import ParameterFreeLayer
from .context import ForwardContext
from .errors import MException


class _PoolingLayer(WindowLayer, register=False):
    """Properties PoolSize, Stride (1), PaddingMode ('manual' | 'same'), PaddingSize (zeros);
    subclasses add the op (:mod:`layergraph.ops.pooling`) and the description's pooling kind."""

    HYPERPARAMETERS = ("PoolSize", "Stride", "PaddingMode", "PaddingSize")
    OPTIONS: tuple[str, ...] = ("Name", "Stride", "Padding")
    KIND = ""

    def __init__(self, poolSize: Any, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, self.OPTIONS, self.FUNC)
        self.PoolSize = poolSize
        self._set_padding(opts.pop("Padding", 0))
        for name, value in {"Name": "", "Stride": 1, **self._defaults(), **opts}.items():
            setattr(self, name, value)
        self._check_padding_smaller_than_pool(self.PaddingSize, self.PoolSize)

    def _defaults(self) -> dict:
        return {}

    def _check_PoolSize(self, value: Any) -> tuple[int, ...]:
        pool = self._vector(value, "PoolSize")
        if hasattr(self, "PaddingSize"):
            self._check_padding_smaller_than_pool(self.PaddingSize, pool)
        return pool

    def _check_PaddingSize(self, value: Any) -> tuple:
        size = super()._check_PaddingSize(value)
        self._check_padding_smaller_than_pool(size, self.PoolSize)
        return size

    def _check_padding_smaller_than_pool(self, padding_size: tuple, pool: tuple[int, ...]) -> None:
        pairs = pairs_from_padding_size(padding_size, self.NDIM)
        if any(max(pair) >= p for pair, p in zip(pairs, pool)):
            raise MException(
                f"nnet_cnn:{self.FUNC}:PaddingSizeLargerThanOrEqualToPoolSize",
                f"The padding must be smaller than the pool size in every dimension. Received: "
                f"PoolSize={list(pool)}, PaddingSize={np.asarray(padding_size).tolist()}.")

    def _window(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return self.PoolSize, (1,) * self.NDIM

    def description(self) -> str:
        return f"{'x'.join(map(str, self.PoolSize))} {self.KIND} pooling {self._stride_padding_text()}"

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        size = self._one_input(input_sizes, self.NDIM + 1)
        return [(*self._spatial_output(size), size[-1])]

    def initialize(self, input_sizes: list[tuple[int, ...]], rng: Any) -> "_PoolingLayer":
        self.output_sizes(input_sizes)
        new = self.copy()
        size = self._one_input(input_sizes)
        object.__setattr__(new, "PaddingSize", self._resolved_padding_size(size))
        return new


class MaxPoolingLayer(_PoolingLayer, register=False):
    """N-d max pooling (see MaxPooling2DLayer / MaxPooling3DLayer)."""

    DEFAULT_NAME = "maxpool"
    KIND = "max"
    CACHE_ONLY_IN_TRAINING = True        # training only adds the argmax bookkeeping

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        x = xs[0]
        y, cache = pool_ops.max_pool_forward(x, self.PoolSize, self.Stride,
                                             self.pads(tuple(x.shape[2:])), keep_argmax=ctx.training)
        return [y], cache, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        return [pool_ops.max_pool_backward(dys[0], cache) if need_dx else None], {}


class AveragePoolingLayer(_PoolingLayer, register=False):
    """N-d average pooling; PaddingValue 0 (pads count as zeros) or "mean" (pads excluded)."""

    DEFAULT_NAME = "avgpool"
    KIND = "average"
    HYPERPARAMETERS = _PoolingLayer.HYPERPARAMETERS + ("PaddingValue",)
    OPTIONS = _PoolingLayer.OPTIONS + ("PaddingValue",)

    def _defaults(self) -> dict:
        return {"PaddingValue": 0}

    def _check_PaddingValue(self, value: Any) -> Any:
        if isinstance(value, str):
            return validatestring(value, ["mean"], self.FUNC, "PaddingValue")
        real_scalar(value, self.FUNC, "PaddingValue", 0, 0, '0 or "mean"')
        return 0

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        x = xs[0]
        y, cache = pool_ops.avg_pool_forward(x, self.PoolSize, self.Stride, self.pads(tuple(x.shape[2:])),
                                             padding_value=self.PaddingValue)
        return [y], cache, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        return [pool_ops.avg_pool_backward(dys[0], cache) if need_dx else None], {}


class MaxPooling2DLayer(MaxPoolingLayer):
    """2-D max pooling layer; built by :func:`maxPooling2dLayer`."""

    NDIM, TYPE, FUNC = 2, "2-D Max Pooling", "maxPooling2dLayer"
    GENERAL = ("Name", "HasUnpoolingOutputs", "NumOutputs", "OutputNames")
    OPTIONS = MaxPoolingLayer.OPTIONS + ("HasUnpoolingOutputs",)

    def _defaults(self) -> dict:
        return {"HasUnpoolingOutputs": False}

    def _check_HasUnpoolingOutputs(self, value: Any) -> bool:
        is_false = (isinstance(value, (bool, np.bool_)) and not value) or (
            is_real_numeric(value) and np.size(value) == 1 and not np.asarray(value).ravel()[0])
        if not is_false:
            raise MException(
                f"nnet_cnn:{self.FUNC}:InvalidHasUnpoolingOutputs",
                "HasUnpoolingOutputs must be false: unpooling outputs are not supported. "
                f"Received: HasUnpoolingOutputs={_fmt(value)}.")
        return False


class MaxPooling3DLayer(MaxPoolingLayer):
    """3-D max pooling layer; built by :func:`maxPooling3dLayer`."""

    NDIM, TYPE, FUNC = 3, "3-D Max Pooling", "maxPooling3dLayer"


class AveragePooling2DLayer(AveragePoolingLayer):
    """2-D average pooling layer; built by :func:`averagePooling2dLayer`."""

    NDIM, TYPE, FUNC = 2, "2-D Average Pooling", "averagePooling2dLayer"


class AveragePooling3DLayer(AveragePoolingLayer):
    """3-D average pooling layer; built by :func:`averagePooling3dLayer`."""

    NDIM, TYPE, FUNC = 3, "3-D Average Pooling", "averagePooling3dLayer"


class GlobalAveragePoolingLayer(ParameterFreeLayer, register=False):
    """N-d global average pooling: output ``1 x 1 [x 1] x C``."""

    NDIM = 2
    DEFAULT_NAME = "gapool"

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        size = self._one_input(input_sizes, self.NDIM + 1)
        return [(1,) * self.NDIM + (size[-1],)]

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        y, cache = pool_ops.global_avg_pool_forward(xs[0])
        return [y], cache, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        return [pool_ops.global_avg_pool_backward(dys[0], cache) if need_dx else None], {}


class GlobalAveragePooling2DLayer(GlobalAveragePoolingLayer):
    """2-D global average pooling layer; built by :func:`globalAveragePooling2dLayer`."""

    NDIM, TYPE, FUNC = 2, "2-D Global Average Pooling", "globalAveragePooling2dLayer"
    DESCRIPTION = "Global average pooling"


class GlobalAveragePooling3DLayer(GlobalAveragePoolingLayer):
    """3-D global average pooling layer; built by :func:`globalAveragePooling3dLayer`."""

    NDIM, TYPE, FUNC = 3, "3-D Global Average Pooling", "globalAveragePooling3dLayer"
    DESCRIPTION = "3-D global average pooling"


def maxPooling2dLayer(poolSize: Any, *args: Any, **kwargs: Any) -> MaxPooling2DLayer:
    """MATLAB ``maxPooling2dLayer(poolSize, Stride=1, Padding=0, Name='')``."""
    return MaxPooling2DLayer(poolSize, *args, **kwargs)


def maxPooling3dLayer(poolSize: Any, *args: Any, **kwargs: Any) -> MaxPooling3DLayer:
    """MATLAB ``maxPooling3dLayer(poolSize, Stride=1, Padding=0, Name='')``."""
    return MaxPooling3DLayer(poolSize, *args, **kwargs)


def averagePooling2dLayer(poolSize: Any, *args: Any, **kwargs: Any) -> AveragePooling2DLayer:
    """MATLAB ``averagePooling2dLayer(poolSize, Stride=1, Padding=0, PaddingValue=0, Name='')``."""
    return AveragePooling2DLayer(poolSize, *args, **kwargs)


def averagePooling3dLayer(poolSize: Any, *args: Any, **kwargs: Any) -> AveragePooling3DLayer:
    """MATLAB ``averagePooling3dLayer(poolSize, Stride=1, Padding=0, PaddingValue=0, Name='')``."""
    return AveragePooling3DLayer(poolSize, *args, **kwargs)


def globalAveragePooling2dLayer(*args: Any, **kwargs: Any) -> GlobalAveragePooling2DLayer:
    """MATLAB ``globalAveragePooling2dLayer(Name='')``."""
    return GlobalAveragePooling2DLayer(*args, **kwargs)


def globalAveragePooling3dLayer(*args: Any, **kwargs: Any) -> GlobalAveragePooling3DLayer:
    """MATLAB ``globalAveragePooling3dLayer(Name='')``."""
    return GlobalAveragePooling3DLayer(*args, **kwargs)


__all__ = [
    "MaxPooling2DLayer", "MaxPooling3DLayer", "AveragePooling2DLayer", "AveragePooling3DLayer",
    "GlobalAveragePooling2DLayer", "GlobalAveragePooling3DLayer", "maxPooling2dLayer",
    "maxPooling3dLayer", "averagePooling2dLayer", "averagePooling3dLayer",
    "globalAveragePooling2dLayer", "globalAveragePooling3dLayer",
]
