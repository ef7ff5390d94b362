"""MATLAB weight initializers, reproducible from a ``numpy.random.Generator`` (host arrays).

'he': N(0, 2/fan_in); 'glorot': U(-a, a) with a = sqrt(6/(fan_in + fan_out));
'narrow-normal': N(0, 0.01^2); 'zeros'; 'ones'. Conv: fan_in = prod(K) C, fan_out = prod(K) F;
fully connected: fan_in = InputSize, fan_out = OutputSize.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

NAMES = ("glorot", "he", "narrow-normal", "zeros", "ones")


def initialize(name: str, shape: Sequence[int], fan_in: int, fan_out: int,
               rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Array of ``shape`` drawn by MATLAB initializer ``name`` (values drawn in float64).

    See also: convolution3dLayer, fullyConnectedLayer (WeightsInitializer, BiasInitializer).

    >>> initialize("ones", (2,), 1, 1, np.random.default_rng(0)).tolist()
    [1.0, 1.0]
    """
    shape = tuple(int(s) for s in shape)
    key = name.lower() if isinstance(name, str) else name
    if key == "zeros":
        return np.zeros(shape, dtype=dtype)
    if key == "ones":
        return np.ones(shape, dtype=dtype)
    if key == "narrow-normal":
        return (0.01 * rng.standard_normal(shape)).astype(dtype)
    if key in ("he", "glorot"):
        if fan_in < 1 or (key == "glorot" and fan_out < 1):
            raise ValueError(f"The '{key}' initializer needs positive fan-in and fan-out. "
                             f"Received: fan_in={fan_in}, fan_out={fan_out}.")
        if key == "he":
            return (math.sqrt(2.0 / fan_in) * rng.standard_normal(shape)).astype(dtype)
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        return (bound * (2.0 * rng.random(shape) - 1.0)).astype(dtype)
    raise ValueError(f"Initializer must be one of {', '.join(repr(n) for n in NAMES)}. "
                     f"Received: {name!r}.")
