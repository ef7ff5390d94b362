"""DAGNetwork: assembleNetwork checks, display, predict / classify / activations."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import layergraph as lg
from layergraph.runtime.executor import Executor
from layergraph.runtime.layout import matlab_to_internal
from layergraph.layers.errors import MException
from test_executor_support import small_resnet


@pytest.fixture(scope="module")
def net():
    return lg.assembleNetwork(small_resnet(seed=2))


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(4).standard_normal((6, 6, 5, 2, 5)).astype(np.float32)


def test_display_follows_matlab(net):
    assert repr(net) == (
        "  DAGNetwork with properties:\n\n"
        "         Layers: [13x1 nnet.cnn.layer.Layer]\n"
        "    Connections: [13x2 table]\n"
        "     InputNames: {'in'}\n"
        "    OutputNames: {'out'}\n")
    assert list(net.Connections.columns) == ["Source", "Destination"]
    assert lg.layerGraph(net) is net.layerGraph()


def test_predict_gives_n_by_k_scores_independent_of_the_batch_size(net, X):
    scores = lg.predict(net, X)
    assert scores.shape == (5, 3) and scores.dtype == np.float32
    np.testing.assert_allclose(scores.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(lg.predict(net, X, MiniBatchSize=2), scores, rtol=1e-5, atol=1e-7)
    direct = Executor(net.layerGraph()).forward(matlab_to_internal(X, 3)).outputs["out"]
    np.testing.assert_allclose(lg.predict(net, X, ExecutionEnvironment="cpu"), direct.reshape(3, 5).T, rtol=1e-6)
    np.testing.assert_allclose(scores, direct.reshape(3, 5).T, rtol=1e-4, atol=1e-6)     # "auto" may be the GPU
    assert net.executor_for("cpu").device == "cpu"


def test_classify_returns_categorical_over_classes(net, X):
    labels, scores = lg.classify(net, X)
    assert isinstance(labels, pd.Categorical)
    assert list(labels.categories) == ["k0", "k1", "k2"]
    assert list(labels) == [f"k{k}" for k in scores.argmax(axis=1)]


def test_activations_in_matlab_layout(net, X):
    fc = lg.activations(net, X, "fc")
    assert fc.shape == (1, 1, 1, 3, 5)
    r1 = lg.activations(net, X, "r1")
    assert r1.shape == (6, 6, 5, 4, 5)
    rows = lg.activations(net, X, "r1", "OutputAs", "rows")
    np.testing.assert_array_equal(rows[2], r1[..., 2].ravel(order="F"))      # column-major per observation
    np.testing.assert_array_equal(lg.activations(net, X, "r1", OutputAs="columns"), rows.T)
    with pytest.raises(MException, match="nope"):
        lg.activations(net, X, "nope")


def test_assemble_network_errors_name_the_layers():
    g = small_resnet()
    with pytest.raises(MException) as err:
        lg.assembleNetwork(lg.removeLayers(g, "out"))
    assert err.value.identifier == "nnet_cnn:assembleNetwork:MissingOutputLayer"
    unset = g.with_layers([layer.copy(Weights=None) if layer.Name == "c2" else layer for layer in g.Layers])
    with pytest.raises(MException, match=r"c2\.Weights") as err:
        lg.assembleNetwork(unset)
    assert err.value.identifier == "nnet_cnn:assembleNetwork:LearnablesNotSet"
    with pytest.raises(MException, match="add/in2") as err:
        lg.assembleNetwork(lg.disconnectLayers(g, "skip", "add/in2"))
    assert err.value.identifier == "nnet_cnn:assembleNetwork:UnconnectedInput"
    auto = g.with_layers([lg.classificationLayer(Name="out") if layer.IS_OUTPUT else layer for layer in g.Layers])
    with pytest.raises(MException) as err:
        lg.assembleNetwork(auto)
    assert err.value.identifier == "nnet_cnn:assembleNetwork:ClassesNotSet"


def test_regression_network_predicts_n_by_r_responses(X):
    g = lg.removeLayers(small_resnet(seed=6), ["sm", "out"])
    g = lg.connectLayers(g.addLayers([lg.regressionLayer(Name="reg")]), "fc", "reg")
    net = lg.assembleNetwork(g)
    Y = lg.predict(net, X)
    assert Y.shape == (5, 3)
    np.testing.assert_allclose(Y, lg.activations(net, X, "fc").reshape(3, 5).T, rtol=1e-6)
    with pytest.raises(MException, match="Classes"):
        lg.classify(net, X)
