"""flattenLayer, globalMaxPooling2dLayer and globalMaxPooling3dLayer: layers that collapse the
spatial dimensions.

flattenLayer: ``h x w [x d] x c`` -> ``h*w*[d*]c`` per observation in MATLAB's column-major
order (h fastest, c slowest, as fullyConnectedLayer flattens); internal ``(C, N, *S)`` ->
``(C * prod(S), N)``. Global max pooling: :mod:`layergraph.ops.global_pooling`.
"""
from __future__ import annotations

import math
from typing import Any

from ..ops import global_pooling as gp_ops
from .base import ParameterFreeLayer
from .context import ForwardContext


class FlattenLayer(ParameterFreeLayer):
    """Collapse the spatial dimensions into the channel dimension; built by :func:`flattenLayer`."""

    TYPE, FUNC, DEFAULT_NAME = "Flatten", "flattenLayer", "flatten"
    DESCRIPTION = "Flatten"

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        return [(math.prod(self._one_input(input_sizes)),)]

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        x = xs[0]
        spatial = tuple(range(x.ndim - 1, 1, -1))
        y = x.transpose(0, *spatial, 1).reshape(-1, x.shape[1])
        return [y], x.shape, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True
                 ) -> tuple[list, dict]:
        if not need_dx:
            return [None], {}
        shape = cache
        c, n, spatial = shape[0], shape[1], shape[2:]
        dx = dys[0].reshape((c, *reversed(spatial), n))
        order = (0, len(shape) - 1) + tuple(range(len(shape) - 2, 0, -1))
        return [dx.transpose(order)], {}


class GlobalMaxPoolingLayer(ParameterFreeLayer, register=False):
    """N-d global max pooling: output ``1 x 1 [x 1] x C``."""

    NDIM = 2
    DEFAULT_NAME = "gmpool"

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        size = self._one_input(input_sizes, self.NDIM + 1)
        return [(1,) * self.NDIM + (size[-1],)]

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        y, cache = gp_ops.global_max_pool_forward(xs[0])
        return [y], cache, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True
                 ) -> tuple[list, dict]:
        return [gp_ops.global_max_pool_backward(dys[0], cache) if need_dx else None], {}


class GlobalMaxPooling2DLayer(GlobalMaxPoolingLayer):
    """2-D global max pooling layer; built by :func:`globalMaxPooling2dLayer`."""

    NDIM, TYPE, FUNC = 2, "2-D Global Max Pooling", "globalMaxPooling2dLayer"
    DESCRIPTION = "Global max pooling"


class GlobalMaxPooling3DLayer(GlobalMaxPoolingLayer):
    """3-D global max pooling layer; built by :func:`globalMaxPooling3dLayer`."""

    NDIM, TYPE, FUNC = 3, "3-D Global Max Pooling", "globalMaxPooling3dLayer"
    DESCRIPTION = "3-D global max pooling"


def flattenLayer(*args: Any, **kwargs: Any) -> FlattenLayer:
    """MATLAB ``flattenLayer(Name=name)``."""
    return FlattenLayer(*args, **kwargs)


def globalMaxPooling2dLayer(*args: Any, **kwargs: Any) -> GlobalMaxPooling2DLayer:
    """MATLAB ``globalMaxPooling2dLayer(Name=name)``."""
    return GlobalMaxPooling2DLayer(*args, **kwargs)


def globalMaxPooling3dLayer(*args: Any, **kwargs: Any) -> GlobalMaxPooling3DLayer:
    """MATLAB ``globalMaxPooling3dLayer(Name=name)``."""
    return GlobalMaxPooling3DLayer(*args, **kwargs)


__all__ = ["FlattenLayer", "GlobalMaxPooling2DLayer", "GlobalMaxPooling3DLayer", "flattenLayer",
           "globalMaxPooling2dLayer", "globalMaxPooling3dLayer"]
