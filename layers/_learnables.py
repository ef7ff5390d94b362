"""Creating learnable parameters in MATLAB shapes with the MATLAB initializers."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import initializers
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
