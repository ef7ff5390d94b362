"""Small exact layers for the executor tests (no tests here).

They follow the layer API of docs/internals.md with scalar maths, so the executor's graph
logic (order, fan-out accumulation, freeing, need_dx) is checked independently of the real
layers: ``Scale`` computes ``y = w * x`` with a learnable per-channel ``Weights``.
"""
from __future__ import annotations

import numpy as np

from layergraph.layers.base import Layer


class FakeInput(Layer):
    TYPE = "Image Input"
    IS_INPUT = True

    def __init__(self, Name: str):
        self.Name = Name

    def forward(self, params, xs, training):
        return [xs[0]], None, {}


class Scale(Layer):
    """``y = Weights[c] * x``; records every backward call's ``need_dx`` in ``CALLS``."""

    TYPE = "Scale"
    LEARNABLES = ("Weights",)
    HIDDEN = ("WeightLearnRateFactor",)
    CALLS: list[tuple[str, bool]] = []

    def __init__(self, Name: str, weights, factor: float = 1.0):
        self.Name = Name
        self.Weights = np.asarray(weights, dtype=np.float64)
        self.WeightLearnRateFactor = factor

    def from_internal(self, name, value):
        return np.asarray(value)

    def forward(self, params, xs, training):
        w = params["Weights"].reshape((-1,) + (1,) * (xs[0].ndim - 1))
        return [w * xs[0]], xs[0], {}

    def backward(self, params, dys, cache, need_dx=True):
        Scale.CALLS.append((self.Name, need_dx))
        w = params["Weights"].reshape((-1,) + (1,) * (cache.ndim - 1))
        dw = (dys[0] * cache).sum(axis=tuple(range(1, cache.ndim)))
        return [w * dys[0] if need_dx else None], {"Weights": dw}


class Counter(Layer):
    """A stateful identity: state ``Count`` becomes ``Count + 1`` in training mode."""

    TYPE = "Counter"
    STATES = ("Count",)

    def __init__(self, Name: str, count=0.0):
        self.Name = Name
        self.Count = np.asarray([count])

    def from_internal(self, name, value):
        return np.asarray(value)

    def forward(self, params, xs, training):
        return [xs[0]], None, ({"Count": params["Count"] + 1, "Scratch": 0} if training else {})

    def backward(self, params, dys, cache, need_dx=True):
        return [dys[0]], {}


class Add(Layer):
    TYPE = "Addition"

    def __init__(self, Name: str, num_inputs: int = 2):
        self.Name = Name
        self._num_inputs = num_inputs

    @property
    def InputNames(self):
        return tuple(f"in{k}" for k in range(1, self._num_inputs + 1))

    def forward(self, params, xs, training):
        return [sum(xs[1:], xs[0])], None, {}

    def backward(self, params, dys, cache, need_dx=True):
        return [dys[0]] * self._num_inputs, {}
