"""The open layer protocol: registry, ForwardContext (training, rng), fusion flags,
ElementwiseLayer."""
from __future__ import annotations

import json
import threading
import zipfile

import numpy as np
import pytest

import layergraph as lg
from layergraph.layers.base import ElementwiseLayer, Layer, registered_layer, registered_layers
from layergraph.layers.context import ForwardContext
from layergraph.networks.dlnetwork import _initialized_graph
from layergraph.ops import activation
from layergraph.rng import batch_seed, global_generator, training_seed
from layergraph.runtime.executor import Executor


class ProtocolSquareLayer(ElementwiseLayer):
    """A user layer: ``y = x.^2`` (an op pair and the class facts, nothing else)."""

    TYPE = "Square"
    DESCRIPTION = "x.^2"
    FUNC = "protocolSquareLayer"
    DEFAULT_NAME = "square"
    OPS = (lambda x: (x * x, x), lambda dy, x: 2 * x * dy)


class ProtocolNoiseLayer(ElementwiseLayer):
    """Adds standard normal noise drawn from ``ctx.rng`` in training (a dropout stand-in)."""

    TYPE = "Noise"
    DESCRIPTION = "noise"
    FUNC = "protocolNoiseLayer"
    DEFAULT_NAME = "noise"

    def forward(self, params, xs, ctx):
        x = xs[0]
        return [x + ctx.rng.standard_normal(x.shape) if ctx.training else x], None, {}

    def backward(self, params, dys, cache, need_dx=True):
        return [dys[0]], {}


class ProtocolReluLayer(ElementwiseLayer):
    """A user ReLU: ``IS_RELU`` lets a FUSES_RELU producer fold it."""

    TYPE = "ReLU"
    DESCRIPTION = "my ReLU"
    FUNC = "protocolReluLayer"
    DEFAULT_NAME = "myrelu"
    OPS = (activation.relu_forward, activation.relu_backward)
    IS_RELU = True


class ProtocolShiftedReluLayer(lg.ReLULayer):
    """A ReLU subclass computing something else: opts out of fusion."""

    IS_RELU = False


def test_layer_classes_register_themselves_by_name():
    assert registered_layer("ReLULayer") is lg.ReLULayer
    assert registered_layer("ProtocolSquareLayer") is ProtocolSquareLayer
    assert {"Convolution3DLayer", "ClassificationOutputLayer"} <= set(registered_layers())
    assert registered_layer("ElementwiseLayer") is None      # a base, register=False
    assert registered_layer("ParameterFreeLayer") is None


def test_a_second_class_of_the_same_name_from_another_module_is_refused():
    with pytest.raises(lg.MException, match="ReLULayer.*already registered") as err:
        type("ReLULayer", (Layer,), {"__module__": "someone.else"})
    assert err.value.identifier == "nnet_cnn:Layer:DuplicateClassName"
    assert registered_layer("ReLULayer") is lg.ReLULayer


def _square_net() -> lg.dlnetwork:
    return lg.dlnetwork([lg.imageInputLayer([2, 2, 1], Normalization="none", Name="in"),
                         ProtocolSquareLayer(Name="sq"), lg.fullyConnectedLayer(3, Name="fc"),
                         lg.softmaxLayer(Name="sm")])


def test_a_user_layer_saves_and_loads(tmp_path):
    net = _square_net()
    lg.saveNetwork(net, tmp_path / "sq.lgnet")
    back = lg.loadNetwork(tmp_path / "sq.lgnet")
    assert type(back.Layers[1]) is ProtocolSquareLayer and back.Layers[1].Name == "sq"
    X = np.random.default_rng(0).standard_normal((2, 2, 1, 5)).astype(np.float32)
    np.testing.assert_array_equal(lg.predict(net, X), lg.predict(back, X))
    assert "x.^2" in repr(back.Layers)


def test_an_unregistered_class_name_in_a_file_is_refused(tmp_path):
    lg.saveNetwork(_square_net(), tmp_path / "sq.lgnet")
    with zipfile.ZipFile(tmp_path / "sq.lgnet") as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(entries["manifest.json"])
    manifest["layers"][1]["class"] = "NeverDefinedSquareLayer"
    entries["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(tmp_path / "bad.lgnet", "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    with pytest.raises(lg.MException, match="NeverDefinedSquareLayer") as err:
        lg.loadNetwork(tmp_path / "bad.lgnet")
    assert err.value.identifier == "layergraph:loadNetwork:UnknownLayerClass"


def test_saving_a_class_shadowed_by_the_registered_one_is_refused(tmp_path):
    orphan = type("ProtocolOrphanLayer", (ProtocolSquareLayer,), {})
    assert registered_layer("ProtocolOrphanLayer") is orphan
    impostor = type("ProtocolOrphanLayer", (ProtocolSquareLayer,), {})   # same module: replaces
    assert registered_layer("ProtocolOrphanLayer") is impostor
    graph = lg.layerGraph([lg.imageInputLayer([2, 2, 1], Name="in"), orphan(Name="o")])
    with pytest.raises(lg.MException) as err:
        lg.saveNetwork(graph, tmp_path / "o.lgnet")
    assert err.value.identifier == "layergraph:saveNetwork:UnsupportedLayer"


def test_context_generator_is_lazy_and_reproducible():
    ctx = ForwardContext.for_batch(True, batch_seed(np.random.SeedSequence(5), 3))
    assert ctx.stream._generator is None                   # nothing drawn, nothing made
    a = ctx.rng.random(4)
    assert ctx.rng is ctx.rng
    again = ForwardContext.for_batch(True, batch_seed(np.random.SeedSequence(5), 3))
    np.testing.assert_array_equal(again.rng.random(4), a)
    other = ForwardContext.for_batch(True, batch_seed(np.random.SeedSequence(5), 4))
    assert not np.array_equal(other.rng.random(4), a)
    assert ctx.with_training(False).rng is ctx.rng          # one stream per mini-batch


def test_training_seed_draws_nothing_from_the_global_stream():
    lg.rng(11)
    first = global_generator().random()
    lg.rng(11)
    s1 = training_seed()
    assert global_generator().random() == first
    lg.rng(11)
    s2 = training_seed()
    assert (s1.entropy, s1.spawn_key) == (s2.entropy, s2.spawn_key)
    assert training_seed().spawn_key != s2.spawn_key       # the next run gets a new one


def _noise_executor() -> Executor:
    layers = [lg.imageInputLayer([3, 3, 2], Normalization="none", Name="in"),
              ProtocolNoiseLayer(Name="noise"), lg.fullyConnectedLayer(2, Name="fc")]
    graph = _initialized_graph(lg.layerGraph(layers), np.random.default_rng(0))
    return Executor(graph, dtype=np.float64)


def test_per_batch_draws_do_not_depend_on_threads_or_order():
    ex = _noise_executor()
    x = np.zeros((2, 4, 3, 3))
    seed = np.random.SeedSequence(9)

    def run(i):
        return ex.forward(x, training=True, outputs=["noise"], seed=batch_seed(seed, i)).outputs["noise"]
    sequential = [run(i) for i in range(4)]
    threaded: dict[int, np.ndarray] = {}
    workers = [threading.Thread(target=lambda i=i: threaded.__setitem__(i, run(i))) for i in (3, 1, 0, 2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for i in range(4):
        np.testing.assert_array_equal(threaded[i], sequential[i])
    assert not np.array_equal(sequential[0], sequential[1])
    np.testing.assert_array_equal(ex.forward(x, outputs=["noise"]).outputs["noise"], x)


def _bn_then(relu: Layer) -> Executor:
    layers = [lg.imageInputLayer([3, 3, 2], Normalization="none", Name="in"),
              lg.batchNormalizationLayer(Name="bn"), relu, lg.fullyConnectedLayer(2, Name="fc")]
    return Executor(_initialized_graph(lg.layerGraph(layers), np.random.default_rng(0)),
                    dtype=np.float64)


@pytest.mark.parametrize("relu, folded", [(lg.reluLayer(Name="r"), True),
                                          (ProtocolReluLayer(Name="r"), True),
                                          (ProtocolShiftedReluLayer(Name="r"), False),
                                          (ProtocolSquareLayer(Name="r"), False)])
def test_fusion_follows_class_flags(relu, folded):
    ex = _bn_then(relu)
    fp = ex.forward(np.random.default_rng(1).standard_normal((2, 3, 3, 3)), training=True)
    assert (ex.index["r"] in fp.fused) is folded


def test_elementwise_layer_runs_its_op_pair():
    layer = ProtocolSquareLayer()
    x = np.arange(-2.0, 2.0).reshape(1, 1, 2, 2)
    (y,), cache, update = layer.forward({}, [x], ForwardContext(True))
    np.testing.assert_array_equal(y, x * x)
    (dx,), grads = layer.backward({}, [np.ones_like(x)], cache)
    np.testing.assert_array_equal(dx, 2 * x)
    assert update == {} and grads == {}
    assert layer.output_sizes([(2, 2, 1)]) == [(2, 2, 1)]
