"""Creating learnable parameters in MATLAB shapes with the MATLAB initializers."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import _backend, initializers
from ._validation import float_array, initializer, is_unset, matlab_shape, real_scalar


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
    CHANNELS_LAST: bool = False   # channels after the filters in Weights (transposed convolution)

    def _check_Weights(self, value: Any) -> np.ndarray | None:
        """Weights of the MATLAB shape; an 'auto' NumChannels is inferred from valid weights only."""
        if is_unset(value):
            return None
        arr = float_array(value, self.FUNC, "Weights")
        axis = self.NDIM + int(self.CHANNELS_LAST)
        channels = arr.shape[axis] if arr.ndim > axis else 1
        auto = self.NumChannels == "auto"
        weights = matlab_shape(arr, self._weights_shape(channels if auto else None), self.FUNC,
                               "Weights")
        if auto:
            object.__setattr__(self, "NumChannels", int(channels))
        return weights

    def _check_Bias(self, value: Any) -> np.ndarray | None:
        if is_unset(value):
            return None
        return matlab_shape(value, self._bias_shape(), self.FUNC, "Bias")

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


NORM_INITIALIZERS = ("zeros", "ones", "narrow-normal")


class ChannelVectors:
    """Mixin for normalization layers with per-channel vectors (``VECTORS``: Offset, Scale, ...;
    MATLAB ``1 x 1 [x 1] x C``, internal ``(C,)``), NumChannels ('auto' until a vector or an
    input fixes it), Epsilon (>= 1e-5) and the Offset/Scale initializers."""

    VECTORS: tuple[str, ...] = ("Offset", "Scale")

    def _check_Epsilon(self, value: Any) -> float:
        return real_scalar(value, self.FUNC, "Epsilon", 1e-5, np.finfo(float).max,
                           "a finite real scalar greater than or equal to 1e-05")

    def _check_OffsetInitializer(self, value: Any) -> Any:
        return initializer(value, NORM_INITIALIZERS, self.FUNC, "OffsetInitializer")

    def _check_ScaleInitializer(self, value: Any) -> Any:
        return initializer(value, NORM_INITIALIZERS, self.FUNC, "ScaleInitializer")

    def _check_vector(self, name: str, value: Any) -> np.ndarray | None:
        """A 1 x 1 [x 1] x C array; sets NumChannels, which every vector must agree with."""
        if is_unset(value):
            return None
        arr = float_array(value, self.FUNC, name)
        shape = arr.shape if arr.ndim > 1 else (1, 1, arr.size)
        if any(n != 1 for n in shape[:-1]) or arr.ndim > 4:
            raise self.layer_error(f"Invalid{name}Size",
                                   f"{name} must be a 1x1xC or 1x1x1xC array. "
                                   f"Received: an array of size {'x'.join(map(str, arr.shape))}.")
        if self.NumChannels not in ("auto", shape[-1]):
            raise self.layer_error(f"Invalid{name}Size",
                                   f"{name} must have NumChannels={self.NumChannels} channels. "
                                   f"Received: {shape[-1]} channels.")
        object.__setattr__(self, "NumChannels", int(shape[-1]))
        return arr.reshape(shape)

    def _check_Offset(self, value: Any) -> np.ndarray | None:
        return self._check_vector("Offset", value)

    def _check_Scale(self, value: Any) -> np.ndarray | None:
        return self._check_vector("Scale", value)

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        size = self._one_input(input_sizes)
        if self.NumChannels != "auto" and size[-1] != self.NumChannels:
            raise self.layer_error(
                "WrongNumChannels",
                f"The layer expects {self.NumChannels} input channels (NumChannels). "
                f"Received: an input with {size[-1]} channels.")
        return [size]

    def _initialize_vectors(self, input_sizes: list[tuple[int, ...]], rng: np.random.Generator,
                            initializers: tuple[tuple[str, Any], ...]) -> Any:
        """A copy with the unset vectors created (``initializers``: (name, initializer) pairs)
        and NumChannels set."""
        size, = self.output_sizes(input_sizes)
        c = size[-1]
        shape = (1,) * (len(size) - 1) + (c,)
        new = self.copy()
        for name, init in initializers:
            value = getattr(new, name)
            value = create(init, shape, c, c, rng) if value is None else value.reshape(shape)
            object.__setattr__(new, name, value)
        object.__setattr__(new, "NumChannels", c)
        return new

    def to_internal(self, name: str, value: Any, xp: Any, dtype: Any) -> Any:
        return xp.asarray(value, dtype=dtype).reshape(-1)

    def from_internal(self, name: str, value: Any) -> np.ndarray:
        like = next((getattr(self, n) for n in (name,) + self.VECTORS
                     if getattr(self, n) is not None), None)
        shape = like.shape if like is not None else (1, 1, 1, -1)
        return _backend.to_host(value).reshape(shape[:-1] + (-1,))
