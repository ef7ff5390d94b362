"""Batch norm -> ReLU fusion: which ReLU layers are folded, and that a folded pass computes
exactly what the separate layers compute (outputs, statistics, gradients)."""
from __future__ import annotations

import numpy as np
import pytest

import layergraph as lg
from layergraph.runtime import fusion as _fusion
from layergraph.networks.dlnetwork import _initialized_graph
from layergraph.runtime.executor import Executor
from layergraph.ops import _backend, activation, batchnorm
from test_executor_support import small_resnet


def _resnet(seed: int = 0) -> lg.LayerGraph:
    graph = lg.resnet3dLayers([8, 8, 8, 1], 3, InitialFilterSize=3, InitialStride=1,
                              InitialNumFilters=4, BottleneckType="none", StackDepth=[1, 1],
                              NumFilters=[4, 8])
    return _initialized_graph(graph, np.random.default_rng(seed))


def _fused_names(ex: Executor, outputs: tuple[str, ...]) -> dict[str, str]:
    run, _ = ex._plan(outputs)
    keep = {(ex.index[n], 0) for n in outputs}
    return {ex.names[r]: ex.names[b] for r, b in ex._relu_fusions(outputs, run, keep).items()}


def test_relu_layers_read_only_by_a_batch_norm_are_folded():
    ex = Executor(_resnet())
    fused = _fused_names(ex, tuple(ex.output_layers))
    relus = [layer.Name for layer in ex.layers if isinstance(layer, lg.ReLULayer)]
    after_bn = {layer.Name for layer in ex.layers if isinstance(layer, lg.ReLULayer)
                and isinstance(ex.layers[ex.sources[ex.index[layer.Name]][0][0]],
                               lg.BatchNormalizationLayer)}
    assert set(fused) == after_bn and len(after_bn) == 3 and len(relus) == 5
    for relu, producer in fused.items():
        assert ex.sources[ex.index[relu]] == [(ex.index[producer], 0)]


def test_a_requested_batch_norm_output_is_not_folded():
    ex = Executor(small_resnet())
    assert _fused_names(ex, tuple(ex.output_layers)) == {"r1": "bn1"}
    assert _fused_names(ex, ("bn1", "sm")) == {}
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6, 5))
    out = ex.forward(x, training=False, outputs=["bn1", "r1"]).outputs
    assert (out["bn1"] < 0).any()                           # the un-rectified values
    np.testing.assert_array_equal(out["r1"], np.maximum(out["bn1"], 0))


def test_a_batch_norm_with_a_second_reader_is_not_folded():
    layers = [lg.image3dInputLayer([4, 4, 4, 1], Normalization="none", Name="in"),
              lg.convolution3dLayer(3, 2, Padding="same", Name="c"),
              lg.batchNormalizationLayer(Name="bn"), lg.reluLayer(Name="r"),
              lg.additionLayer(2, Name="add"), lg.globalAveragePooling3dLayer(Name="gap"),
              lg.fullyConnectedLayer(2, Name="fc"), lg.softmaxLayer(Name="sm"),
              lg.classificationLayer(Name="out")]
    graph = lg.connectLayers(lg.layerGraph(layers), "bn", "add/in2")
    ex = Executor(_initialized_graph(graph, np.random.default_rng(0)))
    assert _fused_names(ex, tuple(ex.output_layers)) == {}


@pytest.mark.parametrize("graph", ["resnet", "small"])
def test_folded_passes_equal_the_separate_layers(graph, monkeypatch):
    make = _resnet if graph == "resnet" else small_resnet
    channels, size = (1, (8, 8, 8)) if graph == "resnet" else (2, (6, 6, 5))
    x = np.random.default_rng(1).standard_normal((channels, 3) + size)
    t = np.eye(3)[:, [0, 2, 1]]
    results = {}
    for enabled in (True, False):
        monkeypatch.setattr(_fusion, "ENABLED", enabled)
        ex = Executor(make(), dtype=np.float64)
        inference = ex.forward(x, training=False).outputs
        loss, scores, grads, update = ex.loss_and_gradients(x, t)
        results[enabled] = (inference, loss, scores, grads, update)
    (inf1, loss1, s1, g1, u1), (inf0, loss0, s0, g0, u0) = results[True], results[False]
    assert loss1 == loss0
    np.testing.assert_array_equal(s1, s0)
    for name in inf0:
        np.testing.assert_array_equal(inf1[name], inf0[name])
    assert g1.keys() == g0.keys() and u1.keys() == u0.keys()
    for key in g0:
        np.testing.assert_allclose(g1[key], g0[key], rtol=1e-13, atol=1e-15, err_msg=str(key))
    for key in u0:
        np.testing.assert_array_equal(u1[key], u0[key])


def test_folded_relu_layers_make_no_passes_of_their_own(monkeypatch):
    calls = {"forward": 0, "backward": 0}
    spies = []
    for name, original in zip(calls, lg.ReLULayer.OPS):

        def spy(*args, _original=original, _name=name):
            calls[_name] += 1
            return _original(*args)
        spies.append(spy)
    monkeypatch.setattr(lg.ReLULayer, "OPS", tuple(spies))
    ex = Executor(_resnet(), dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((1, 2, 8, 8, 8))
    ex.loss_and_gradients(x, np.eye(3)[:, :2])
    assert calls == {"forward": 2, "backward": 2}        # the two ReLUs after additions


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_relu_op_equals_the_two_ops(training, rng, xp):
    host = [1.0 + rng.standard_normal((3, 4, 5, 6)), rng.uniform(0.5, 2, 3),
            rng.standard_normal(3)]
    if not training:
        host += [rng.standard_normal(3), rng.uniform(0.5, 2, 3)]
    x, scale, offset, *stats = [xp.asarray(a) for a in host]
    stats = stats or [None, None]
    y, cache, _ = batchnorm.batchnorm_forward(x, scale, offset, 1e-5, training, *stats)
    z, relu_cache = activation.relu_forward(y)
    fused, fused_cache, _ = batchnorm.batchnorm_forward(x, scale, offset, 1e-5, training,
                                                        *stats, relu=True)
    np.testing.assert_array_equal(_backend.to_host(fused), _backend.to_host(z))
    dz = xp.asarray(rng.standard_normal(z.shape))
    expected = batchnorm.batchnorm_backward(activation.relu_backward(dz, relu_cache), cache)
    got = batchnorm.batchnorm_backward(dz, fused_cache, relu_output=fused)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(_backend.to_host(a), _backend.to_host(b), rtol=1e-13,
                                   atol=1e-15)
