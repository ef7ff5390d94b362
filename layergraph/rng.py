"""MATLAB's global random generator: ``rng(seed)``.

One NumPy generator, shared by everything that draws at random as MATLAB's global stream is:
initial weights (trainNetwork, dlnetwork) and shuffling. It starts as ``rng(0)``.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .layers.errors import MException

__all__ = ["rng"]  # also: global_generator, training_seed, batch_seed (internal)

_GENERATOR = [np.random.default_rng(0)]


def rng(seed: Any = 0, generator: str = "twister") -> None:
    """MATLAB ``rng``: reseed the global generator (initial weights, shuffling).

    ``rng(seed)`` with a nonnegative integer (``7`` or ``7.0``), ``rng("default")`` (= ``rng(0)``)
    or ``rng("shuffle")`` (a seed from the operating system). ``generator`` ("twister", ...) is
    accepted for MATLAB scripts; the stream is always NumPy's PCG64, so the numbers differ from
    MATLAB's. The same seed, data and options give the same network.

    >>> rng(7); a = global_generator().random(); rng(7.0); a == global_generator().random()
    True
    """
    if not isinstance(generator, str):
        raise MException("MATLAB:rng:badGenerator",
                         f"generator must be a generator name such as 'twister'. "
                         f"Received: generator={generator!r}.")
    if isinstance(seed, str):
        choice = seed.lower()
        if choice not in ("default", "shuffle"):
            raise MException("MATLAB:rng:badSeed",
                             f"seed must be a nonnegative integer, 'default' or 'shuffle'. "
                             f"Received: seed={seed!r}.")
        _GENERATOR[0] = np.random.default_rng(0 if choice == "default" else None)
        return
    integral = (isinstance(seed, (numbers.Real, np.number)) and not isinstance(seed, (bool, np.bool_))
                and np.isfinite(float(seed)) and float(seed) == int(float(seed)) and float(seed) >= 0)
    if not integral:
        raise MException("MATLAB:rng:badSeed",
                         f"seed must be a nonnegative integer, 'default' or 'shuffle'. "
                         f"Received: seed={seed!r}.")
    _GENERATOR[0] = np.random.default_rng(int(float(seed)))


def global_generator() -> np.random.Generator:
    """The generator ``rng`` last seeded."""
    return _GENERATOR[0]


def training_seed() -> np.random.SeedSequence:
    """A fresh seed sequence for one training run or one ``forward`` call, spawned from the
    global generator's seed: drawing nothing from the global stream (initial weights and
    shuffling are unchanged), reproducible after ``rng(seed)``, different for each call."""
    return _GENERATOR[0].bit_generator.seed_seq.spawn(1)[0]


def batch_seed(seed: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The seed of mini-batch (iteration) ``index`` of the run seeded ``seed``: independent of
    which thread runs the mini-batch and of the order mini-batches run in."""
    return np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (int(index),))
