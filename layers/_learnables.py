"""Creating learnable parameters in MATLAB shapes with the MATLAB initializers."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import _backend, initializers
from ._validation import initializer, matlab_shape


def create(init: Any, shape: tuple[int, ...], fan_in: int, fan_out: int,
           rng: np.random.Generator) -> np.ndarray:
    """A single-precision array of MATLAB ``shape`` from an initializer name or callable ``f(size)``.

    fan_in/fan_out: 'he' uses N(0, 2/fan_in); 'glorot' U(+-sqrt(6/(fan_in + fan_out))).
    """
    if callable(init):
        return matlab_shape(init(shape), shape, "initialize", "InitializerOutput")
    return initializers.initialize(init, shape, fan_in, fan_out, rng, dtype=np.float32)


WEIGHTS_INITIALIZERS = ("glorot", "he", "narrow-normal", "zeros", "ones")
BIAS_INITIALIZERS = ("zeros", "ones", "narrow-normal")
WEIGHT_BIAS_DEFAULTS = {"WeightsInitializer": "glorot", "BiasInitializer": "zeros",
                        "WeightLearnRateFactor": 1, "BiasLearnRateFactor": 1,
                        "WeightL2Factor": 1, "BiasL2Factor": 0}
WEIGHT_BIAS_HIDDEN = tuple(WEIGHT_BIAS_DEFAULTS)


class WeightsAndBias:
    """Mixin for layers with Weights and Bias (convolution, fully connected): initializer checks.

    Subclasses set ``Weights``/``Bias`` last in ``__init__`` (their checks read the sizes)."""

    FUNC: str = ""

    def _check_WeightsInitializer(self, value: Any) -> Any:
        return initializer(value, WEIGHTS_INITIALIZERS, self.FUNC, "WeightsInitializer")

    def _check_BiasInitializer(self, value: Any) -> Any:
        return initializer(value, BIAS_INITIALIZERS, self.FUNC, "BiasInitializer")


class FilterBank:
    """Mixin for convolution-like layers (MATLAB ``Weights`` ``h x w [x d] x A x B``, ``Bias``
    ``1 x 1 [x 1] x NumFilters``; internal weights ``(B, A, *K)``, bias ``(NumFilters,)``).

    The class provides ``NDIM``, ``NumFilters``, ``FilterSize``, the initializers and
    ``_weights_shape(channels)`` (its MATLAB weights shape)."""

    NDIM: int = 2

    def _bias_shape(self) -> tuple[int, ...]:
        return (1,) * self.NDIM + (self.NumFilters,)

    def _initialize_filters(self, new: Any, channels: int, rng: np.random.Generator) -> None:
        """Create ``new``'s unset Weights/Bias (fan in/out: ``prod(FilterSize) x`` channels/filters)."""
        k = int(np.prod(self.FilterSize))
        if new.Weights is None:
            new.Weights = create(self.WeightsInitializer, self._weights_shape(channels),
                                 k * channels, k * self.NumFilters, rng)
        if new.Bias is None:
            new.Bias = create(self.BiasInitializer, self._bias_shape(), k * channels,
                              k * self.NumFilters, rng)

    def parameter_shapes(self, input_sizes: list[tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
        self.output_sizes(input_sizes)
        channels = self._one_input(input_sizes)[-1]
        return {"Weights": self._weights_shape(channels), "Bias": self._bias_shape()}

    def to_internal(self, name: str, value: Any, xp: Any, dtype: Any) -> Any:
        value = xp.asarray(value, dtype=dtype)
        if name == "Bias":
            return value.reshape(-1)
        return xp.ascontiguousarray(value.transpose(self.NDIM + 1, self.NDIM, *range(self.NDIM)))

    def from_internal(self, name: str, value: Any) -> np.ndarray:
        value = _backend.to_host(value)
        if name == "Bias":
            return value.reshape((1,) * self.NDIM + (-1,))
        return value.transpose(*range(2, self.NDIM + 2), 1, 0)
