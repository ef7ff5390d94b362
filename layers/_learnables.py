"""Creating learnable parameters in MATLAB shapes with the MATLAB initializers."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import initializers
from ._validation import matlab_shape


def create(init: Any, shape: tuple[int, ...], fan_in: int, fan_out: int,
           rng: np.random.Generator) -> np.ndarray:
    """A single-precision array of MATLAB ``shape`` from an initializer name or callable ``f(size)``.

    fan_in/fan_out: 'he' uses N(0, 2/fan_in); 'glorot' U(+-sqrt(6/(fan_in + fan_out))).
    """
    if callable(init):
        return matlab_shape(init(shape), shape, "initialize", "InitializerOutput")
    return initializers.initialize(init, shape, fan_in, fan_out, rng, dtype=np.float32)
