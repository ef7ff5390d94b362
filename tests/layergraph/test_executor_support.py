"""Support for the executor tests (no tests here): exact fake layers and a small real DAG.

The fake layers follow the layer API of docs/internals.md with scalar maths, so the executor's graph
logic (order, fan-out accumulation, freeing, need_dx) is checked independently of the real
layers: ``Scale`` computes ``y = w * x`` with a learnable per-channel ``Weights``.
"""
from __future__ import annotations

import numpy as np

import layergraph as lg
from layergraph.networks.dlnetwork import _initialized_graph
from layergraph.layers.base import Layer


def small_resnet(seed: int = 0, classes: int = 3, output: bool = True) -> lg.LayerGraph:
    """An initialised 3-D DAG with a projection skip: in(6x6x5x2) -> conv-bn-relu ->
    {conv(stride 2)-bn, skip conv(stride 2)} -> add -> relu -> gap -> fc -> softmax [-> output]."""
    layers = [lg.image3dInputLayer([6, 6, 5, 2], Normalization="zscore", Name="in",
                                   Mean=np.array([0.1, -0.2]).reshape(1, 1, 1, 2),
                                   StandardDeviation=np.array([1.5, 0.5]).reshape(1, 1, 1, 2)),
              lg.convolution3dLayer(3, 4, Padding="same", Name="c1"),
              lg.batchNormalizationLayer(Name="bn1"), lg.reluLayer(Name="r1"),
              lg.convolution3dLayer(3, 4, Padding="same", Stride=2, Name="c2"),
              lg.batchNormalizationLayer(Name="bn2"), lg.additionLayer(2, Name="add"),
              lg.reluLayer(Name="r2"), lg.globalAveragePooling3dLayer(Name="gap"),
              lg.fullyConnectedLayer(classes, Name="fc"), lg.softmaxLayer(Name="sm")]
    if output:
        layers.append(lg.classificationLayer(Name="out", Classes=[f"k{i}" for i in range(classes)]))
    g = lg.layerGraph(layers).addLayers([lg.convolution3dLayer(1, 4, Stride=2, Name="skip")])
    g = lg.connectLayers(lg.connectLayers(g, "r1", "skip"), "skip", "add/in2")
    rng = np.random.default_rng(seed)
    g = _initialized_graph(g, rng)
    # nonzero biases, offsets, scales and moving statistics so every parameter matters
    changed = []
    for layer in g.Layers:
        values = {n: getattr(layer, n) + 0.1 * rng.standard_normal(np.shape(getattr(layer, n)))
                  for n in ("Bias", "Offset", "Scale", "TrainedMean") if n in layer.LEARNABLES + layer.STATES}
        changed.append(layer.copy(**values) if values else layer)
    return g.with_layers(changed)


class FakeInput(Layer):
    TYPE = "Image Input"
    IS_INPUT = True

    def __init__(self, Name: str):
        self.Name = Name

    def parameter_names(self):
        return ()

    def forward(self, params, xs, ctx):
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

    def forward(self, params, xs, ctx):
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

    def forward(self, params, xs, ctx):
        return [xs[0]], None, ({"Count": params["Count"] + 1, "Scratch": 0} if ctx.training else {})

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

    def forward(self, params, xs, ctx):
        return [sum(xs[1:], xs[0])], None, {}

    def backward(self, params, dys, cache, need_dx=True):
        return [dys[0]] * self._num_inputs, {}
