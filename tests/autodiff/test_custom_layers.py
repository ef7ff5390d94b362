"""User-defined layers (MATLAB's classdef ... < nnet.layer.Layer): predict with NumPy/dlarray
operations, backward from the tape; in dlnetwork, trainNetwork, analyzeNetwork, save/load and checkLayer."""
import numpy as np
import pandas as pd
import pytest

import layergraph as lg
from layergraph import Layer
from layergraph.layers.errors import MException


class PreluTestLayer(Layer):
    """MATLAB's documented PReLU example: a learnable slope per channel."""
    LEARNABLES = ("Alpha",)

    def __init__(self, numChannels, Name="prelu"):
        self.Name = Name
        self.Description = f"PReLU with {numChannels} channels"
        self.Alpha = np.full((1, 1, numChannels), 0.25, np.float32)

    def predict(self, X):
        return np.maximum(X, 0) + self.Alpha * np.minimum(0, X)   # MATLAB's implicit expansion


class ReluTestLayer(Layer):
    def __init__(self, Name="myrelu"):
        self.Name = Name

    def predict(self, X):
        return np.maximum(X, 0)


class ScaledSumTestLayer(Layer):
    """Two inputs, a learnable scalar, an explicit backward (MATLAB's backward signature)."""
    LEARNABLES = ("Scale",)
    PROPERTIES = ("Offset",)
    NUM_INPUTS = 2

    def __init__(self, Name="ssum", Offset=0.5):
        self.Name = Name
        self.Offset = Offset
        self.Scale = np.array(2.0, np.float32)

    def predict(self, X1, X2):
        return self.Scale * (X1 + X2) + self.Offset

    def backward(self, X1, X2, Z, dLdZ, memory):
        g = self.Scale * dLdZ
        return g, g, np.sum(dLdZ * (X1 + X2))


def _image_layers(custom):
    return [lg.imageInputLayer([5, 4, 2], Normalization="none", Name="in"),
            lg.convolution2dLayer(3, 3, Padding="same", Name="conv"), custom,
            lg.fullyConnectedLayer(3, Name="fc"), lg.softmaxLayer(Name="sm")]


def test_display_properties_and_check_layer(capsys):
    layer = PreluTestLayer(3)
    assert "Description: 'PReLU with 3 channels'" in repr(layer) and layer.Type == "PreluTestLayer"
    results = lg.checkLayer(layer, [5, 4, 3], ObservationDimension=4)
    out = capsys.readouterr().out
    assert all(r.Passed for r in results), [r for r in results if r.Failed]
    assert "Test Summary:" in out and f"{len(results)} Passed, 0 Failed" in out
    assert {r.Name for r in results} >= {"gradientsAreNumericallyCorrect", "predictIsConsistentInType"}


def test_check_layer_reports_a_wrong_backward(capsys):
    class WrongBackwardTestLayer(Layer):
        def __init__(self):
            self.Name = "wrong"

        def predict(self, X):
            return X * X

        def backward(self, X, Z, dLdZ, memory):
            return dLdZ * X                          # should be 2 X dLdZ
    results = lg.checkLayer(WrongBackwardTestLayer(), [3, 2])
    failed = [r.Name for r in results if r.Failed]
    assert failed == ["gradientsAreNumericallyCorrect"]
    assert "Failure: gradientsAreNumericallyCorrect" in capsys.readouterr().out


def test_dlgradient_through_a_user_layer_matches_finite_differences():
    net = lg.dlnetwork(_image_layers(PreluTestLayer(3)))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 4, 2, 3)).astype(np.float32)
    T = np.eye(3, dtype=np.float32)[:, [0, 1, 2]]

    def loss_fn(net, X, T):
        Y, _ = lg.forward(net, X)
        loss = lg.crossentropy(Y, T)
        return loss, lg.dlgradient(loss, net.Learnables)
    loss, grads = lg.dlfeval(loss_fn, net, X, T)
    alpha = grads.Value[list(grads.Layer).index("prelu")]
    assert alpha.shape == (1, 1, 3) and np.any(alpha)
    table = net.Learnables
    r = rng.standard_normal((1, 1, 3)).astype(np.float32)

    def loss_at(delta):
        t = table.copy()
        t.loc[t.Layer == "prelu", "Value"] = pd.Series([table.Value[2] + delta * r], index=[2])
        moved = lg.dlnetwork(net.layerGraph())
        moved.Learnables = t
        Y, _ = lg.forward(moved, X)
        return float(lg.crossentropy(Y, T))
    numeric = (loss_at(1e-2) - loss_at(-1e-2)) / 2e-2
    np.testing.assert_allclose(float(np.vdot(np.asarray(alpha), r)), numeric, rtol=2e-2, atol=1e-5)


def test_train_network_with_a_user_relu_equals_relu_layer():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 4, 2, 16))
    Y = pd.Categorical(np.array(["a", "b", "c"])[rng.integers(0, 3, 16)])
    opts = lg.trainingOptions("sgdm", MaxEpochs=2, MiniBatchSize=8, Shuffle="never", Verbose=False,
                              InitialLearnRate=0.1, ExecutionEnvironment="cpu")
    results = []
    for custom in (ReluTestLayer(Name="relu"), lg.reluLayer(Name="relu")):
        lg.rng(7)
        layers = _image_layers(custom) + [lg.classificationLayer(Name="out")]
        net, info = lg.trainNetwork(X, Y, layers, opts, dtype=np.float64)
        results.append((net, info))
    (a, ia), (b, ib) = results
    np.testing.assert_allclose(ia.TrainingLoss, ib.TrainingLoss, rtol=1e-10)
    np.testing.assert_allclose(lg.predict(a, X), lg.predict(b, X), rtol=1e-9)


def test_analyze_save_load_and_two_input_user_layer(tmp_path):
    layers = lg.layerGraph([lg.imageInputLayer([4, 4, 2], Normalization="none", Name="in"),
                            lg.convolution2dLayer(1, 2, Name="c1"), ScaledSumTestLayer(),
                            lg.fullyConnectedLayer(2, Name="fc"), lg.softmaxLayer(Name="sm")])
    layers = lg.addLayers(layers, lg.convolution2dLayer(1, 2, Name="c2"))
    layers = lg.connectLayers(layers, "in", "c2")
    layers = lg.connectLayers(layers, "c2", "ssum/in2")
    info = lg.analyzeNetwork(layers, Plots="none", TargetUsage="dlnetwork")
    row = list(info.LayerInfo.Name).index("ssum")
    assert tuple(info.LayerInfo.ActivationSizes[row])[:3] == (4, 4, 2)      # inferred by running predict
    net = lg.dlnetwork(layers)
    assert list(net.Learnables.Layer).count("ssum") == 1
    X = np.random.default_rng(1).standard_normal((4, 4, 2, 3)).astype(np.float32)
    path = tmp_path / "custom.lgnet"
    lg.saveNetwork(net, str(path))
    back = lg.loadNetwork(str(path))
    np.testing.assert_allclose(lg.predict(back, X), lg.predict(net, X), rtol=1e-6)
    assert type(back.Layers[2]) is ScaledSumTestLayer and back.Layers[2].Offset == 0.5
    results = lg.checkLayer(ScaledSumTestLayer(), [3, 3, 2], ObservationDimension=4)
    assert all(r.Passed for r in results), [r for r in results if r.Failed]


def test_user_layer_errors():
    with pytest.raises(MException) as err:
        lg.checkLayer(lg.reluLayer(), [2, 2])
    assert err.value.identifier == "nnet:checkLayer:InvalidLayer"
    with pytest.raises(MException) as err:
        lg.checkLayer(ReluTestLayer(), [2, 2], ObservationDimension=1)
    assert err.value.identifier == "nnet:checkLayer:InvalidObservationDimension"
