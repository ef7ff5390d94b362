"""ForwardContext: what a layer's ``forward(params, xs, ctx)`` knows about the pass it runs in.

* ``ctx.training``: a training pass (batch statistics, backward caches) or inference;
* ``ctx.rng``: a NumPy Generator for this mini-batch (dropout masks, noise), made on first use
  from the mini-batch's seed sequence, so layers that never draw cost nothing. The seed comes
  from MATLAB's global ``rng`` and the mini-batch index (see ``layergraph.rng.batch_seed``): the
  same ``rng(seed)`` gives the same draws, whatever the number of threads running mini-batches.

Fusion requests (a producer applying the ReLU that follows it) are keyword arguments of
``forward``/``backward``, driven by class flags (``Layer.FUSES_RELU``, ``Layer.IS_RELU``).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = ["ForwardContext", "RandomStream"]


class RandomStream:
    """A Generator created on first use from ``seed`` (a SeedSequence or int; None = 0)."""

    __slots__ = ("_seed", "_generator", "_lock")

    def __init__(self, seed: np.random.SeedSequence | int | None = None):
        self._seed = seed
        self._generator: np.random.Generator | None = None
        self._lock = threading.Lock()

    def generator(self) -> np.random.Generator:
        if self._generator is None:
            with self._lock:
                if self._generator is None:
                    self._generator = np.random.default_rng(0 if self._seed is None else self._seed)
        return self._generator


@dataclass(frozen=True)
class ForwardContext:
    """Per-pass context of ``Layer.forward`` (frozen; ``with_training`` shares the stream)."""

    training: bool = False
    stream: RandomStream = field(default_factory=RandomStream, repr=False, compare=False)

    @property
    def rng(self) -> np.random.Generator:
        """This mini-batch's generator (created on first use)."""
        return self.stream.generator()

    @classmethod
    def for_batch(cls, training: bool, seed: np.random.SeedSequence | int | None = None
                  ) -> "ForwardContext":
        """A context for one mini-batch whose random draws come from ``seed``."""
        return cls(bool(training), RandomStream(seed))

    def with_training(self, training: bool) -> "ForwardContext":
        """The same context (same random stream) with ``training`` replaced."""
        return self if training == self.training else replace(self, training=bool(training))
