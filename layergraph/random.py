"""MATLAB's global random generator: ``rng(seed)``.

One NumPy generator, shared by everything that draws at random as MATLAB's global stream is:
initial weights (trainNetwork, dlnetwork) and shuffling. It starts as ``rng(0)``.
"""
from __future__ import annotations

import numpy as np

from .layers.errors import MException

__all__ = ["rng"]

_GENERATOR = [np.random.default_rng(0)]


def rng(seed: int = 0) -> None:
    """MATLAB ``rng(seed)``: reseed the global generator (initial weights, shuffling).

    The same seed, data and options give the same network.

    >>> rng(7); a = global_generator().random(); rng(7); a == global_generator().random()
    True
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise MException("MATLAB:rng:badSeed",
                         f"seed must be a nonnegative integer. Received: seed={seed!r}.")
    _GENERATOR[0] = np.random.default_rng(int(seed))


def global_generator() -> np.random.Generator:
    """The generator ``rng`` last seeded."""
    return _GENERATOR[0]
