"""dlnetwork: documented figures, tables, display, forward/predict, dlfeval/dlgradient, updates."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import layergraph as lg
from layergraph.runtime.executor import Executor
from layergraph.runtime.layout import matlab_to_internal, onehot
from layergraph.layers.errors import MException
from test_executor_support import small_resnet

CLASSES = ["k0", "k1", "k2"]


@pytest.fixture(scope="module")
def net():
    return lg.dlnetwork(lg.removeLayers(small_resnet(seed=9), "out"))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((6, 6, 5, 2, 4)).astype(np.float32)
    return X, onehot(["k0", "k2", "k1", "k2"], CLASSES)


def model_loss(net, X, T):
    Y, state = lg.forward(net, X)
    loss = lg.crossentropy(Y, T)
    gradients = lg.dlgradient(loss, net.Learnables)
    return loss, gradients, state


# ---- documented figures and tables ---------------------------------------------------------
@pytest.mark.parametrize("depth, figures", [([3, 4, 6, 3], (176, 191, 214, 106)),
                                            ([3, 4, 23, 3], (346, 378, 418, 208))])
def test_resnet3d_dlnetwork_figures(depth, figures):
    g = lg.removeLayers(lg.resnet3dLayers([224, 224, 64, 3], 10, StackDepth=depth), "output")
    net = lg.dlnetwork(g, Initialize=False)
    assert (len(net.Layers), len(net.Connections), len(net.Learnables), len(net.State)) == figures
    assert net.OutputNames == ["softmax"] and net.InputNames == ["input"]
    assert not net.Initialized
    assert net.Learnables.Value[0].shape == (0, 0)              # MATLAB's {0x0 double}


def test_resnet_network_is_initialised_and_matches_the_builder():
    net = lg.resnetNetwork([64, 64, 3], 10)
    assert net.Initialized
    assert (len(net.Layers), len(net.Connections), len(net.Learnables), len(net.State)) == (176, 191, 214, 106)
    assert [layer.Name for layer in net.Layers] == \
        [layer.Name for layer in lg.resnetLayers([64, 64, 3], 10).Layers if layer.Name != "output"]
    assert net.Layers[0].Mean.ravel().tolist() == [0.0]          # dlnetwork initialises the statistics
    small = lg.resnet3dNetwork([32, 32, 32], 4, StackDepth=[1, 1], NumFilters=[4, 8], InitialNumFilters=8)
    Y = lg.predict(small, np.ones((32, 32, 32, 1, 2), np.float32))
    assert Y.shape == (4, 2)
    np.testing.assert_allclose(Y.sum(axis=0), 1, rtol=1e-5)


def test_tables_follow_layer_order_and_parameter_order(net):
    learn = net.Learnables
    assert list(learn.columns) == ["Layer", "Parameter", "Value"]
    assert list(zip(learn.Layer, learn.Parameter))[:4] == [("c1", "Weights"), ("c1", "Bias"),
                                                          ("bn1", "Offset"), ("bn1", "Scale")]
    assert list(dict.fromkeys(learn.Layer)) == ["c1", "bn1", "c2", "bn2", "fc", "skip"]
    assert list(zip(net.State.Layer, net.State.Parameter))[:2] == [("bn1", "TrainedMean"), ("bn1", "TrainedVariance")]
    assert learn.Value[0].shape == (3, 3, 3, 2, 4) and learn.Value[1].shape == (1, 1, 1, 4)


def test_display_follows_matlab():
    net = lg.dlnetwork(lg.removeLayers(lg.resnet3dLayers([224, 224, 64, 3], 10), "output"), "Initialize", False)
    assert repr(net) == (
        "  dlnetwork with properties:\n\n"
        "         Layers: [176x1 nnet.cnn.layer.Layer]\n"
        "    Connections: [191x2 table]\n"
        "     Learnables: [214x3 table]\n"
        "          State: [106x3 table]\n"
        "     InputNames: {'input'}\n"
        "    OutputNames: {'softmax'}\n"
        "    Initialized: 0\n\n"
        "  View summary with summary.\n")
    assert lg.initialize(lg.dlnetwork(lg.removeLayers(small_resnet(), "out"), Initialize=False)).Initialized


def test_output_layers_are_rejected():
    with pytest.raises(MException, match="'out'") as err:
        lg.dlnetwork(small_resnet())
    assert err.value.identifier == "nnet_cnn:dlnetwork:OutputLayerNotSupported"


# ---- forward / predict / state -------------------------------------------------------------
def test_forward_uses_batch_statistics_and_returns_moved_state(net, data):
    X, _ = data
    Y, state = lg.forward(net, X)
    assert Y.shape == (3, 4) and Y.dtype == np.float32
    assert not np.allclose(Y, lg.predict(net, X))            # predict uses TrainedMean/Variance
    ex = Executor(net.layerGraph())
    fp = ex.forward(matlab_to_internal(X, 3), training=True, outputs=["bn1"])
    expected = 0.9 * net.State.Value[0].ravel() + 0.1 * fp.state_update[("bn1", "BatchMean")]
    np.testing.assert_allclose(state.Value[0].ravel(), expected, rtol=1e-5)
    old = net.State
    updated = lg.dlnetwork(net.layerGraph())      # a separate value
    updated.State = state
    np.testing.assert_allclose(updated.State.Value[0], state.Value[0])
    np.testing.assert_array_equal(net.State.Value[0], old.Value[0])           # net itself unchanged
    feats = lg.predict(net, X, Outputs=["gap", "fc"])
    assert feats[0].shape == (1, 1, 1, 4, 4) and feats[1].shape == (3, 4)


# ---- dlfeval / dlgradient ------------------------------------------------------------------
def test_dlgradient_equals_the_executor_gradients(net, data):
    X, T = data
    loss, grads, state = lg.dlfeval(model_loss, net, X, T)
    ex = Executor(net.layerGraph(), all_gradients=True)
    fp = ex.forward(matlab_to_internal(X, 3), training=True, outputs=["sm"])
    y = fp.outputs["sm"].reshape(3, 4)
    np.testing.assert_allclose(float(loss), -np.sum(T * np.log(y)) / 4, rtol=1e-6)
    ref = ex.backward(fp, {"sm": (-T / y / 4).reshape(fp.outputs["sm"].shape)})
    layers = {layer.Name: layer for layer in net.Layers}
    assert list(zip(grads.Layer, grads.Parameter)) == list(zip(net.Learnables.Layer, net.Learnables.Parameter))
    for name, p, g in zip(grads.Layer, grads.Parameter, grads.Value):
        np.testing.assert_allclose(g, layers[name].from_internal(p, ref[(name, p)]), rtol=1e-5, atol=1e-7)
    assert isinstance(state, pd.DataFrame) and len(state) == 4


def test_mse_gradient_on_a_regression_head(data):
    net = lg.dlnetwork(lg.removeLayers(small_resnet(seed=1), ["sm", "out"]))
    X, T = data

    def loss_fn(net, X, T):
        Y, _ = lg.forward(net, X)
        loss = lg.mse(Y, T)
        return loss, lg.dlgradient(loss, net.Learnables), Y

    loss, grads, Y = lg.dlfeval(loss_fn, net, X, T)
    assert isinstance(Y, lg.dlarray) and lg.dims(Y) == "CB"     # dlarrays inside dlfeval, as MATLAB
    Y = lg.extractdata(Y)
    np.testing.assert_allclose(float(loss), np.sum((Y - T) ** 2) / 2 / 4, rtol=1e-6)
    ex = Executor(net.layerGraph(), all_gradients=True)
    fp = ex.forward(matlab_to_internal(X, 3), training=True, outputs=["fc"])
    ref = ex.backward(fp, {"fc": ((Y - T) / 4).reshape(fp.outputs["fc"].shape)})
    fc_weights = grads.Value[list(zip(grads.Layer, grads.Parameter)).index(("fc", "Weights"))]
    np.testing.assert_allclose(fc_weights, ref[("fc", "Weights")], rtol=1e-5)


def test_dlgradient_refuses_what_it_cannot_differentiate(net, data):
    X, T = data
    with pytest.raises(MException) as err:
        lg.dlgradient(np.float32(1.0), net.Learnables)
    assert err.value.identifier == "deep:dlgradient:NotTracing"

    def untraced(net, X, T):
        Y, _ = lg.forward(net, X)
        return lg.dlgradient(np.float32(1.0), net.Learnables)

    with pytest.raises(MException) as err:
        lg.dlfeval(untraced, net, X, T)
    assert err.value.identifier == "deep:dlgradient:UntracedLoss"


def test_any_traced_loss_is_differentiated(net, data):
    """A scaled loss plus an L2 term of net.Learnables (the tape-free version refused both)."""
    X, T = data

    def scaled(net, X, T):
        Y, _ = lg.forward(net, X)
        plain = lg.crossentropy(Y, T)
        loss = 2 * plain + 1e-3 * sum(np.sum(w ** 2) for w in net.Learnables.Value)
        return lg.dlgradient(plain, net.Learnables), lg.dlgradient(loss, net.Learnables), net.Learnables

    plain, total, learnables = lg.dlfeval(scaled, net, X, T)
    for g, g2, w in zip(plain.Value, total.Value, learnables.Value):
        np.testing.assert_allclose(np.asarray(g2), 2 * np.asarray(g) + 2e-3 * np.asarray(w), rtol=1e-5, atol=1e-7)


# ---- solver updates ------------------------------------------------------------------------
def _grad_table(net, seed):
    rng = np.random.default_rng(seed)
    learn = net.Learnables
    return learn.assign(Value=[rng.standard_normal(np.shape(v)).astype(np.float32) for v in learn.Value])


@pytest.fixture(scope="module")
def frozen_net():
    """small net whose fc weights learn at half rate and whose c1 bias is frozen."""
    g = lg.removeLayers(small_resnet(seed=4), "out")
    layers = [layer.copy(WeightLearnRateFactor=0.5) if layer.Name == "fc" else
              layer.copy(BiasLearnRateFactor=0) if layer.Name == "c1" else layer for layer in g.Layers]
    return lg.dlnetwork(g.with_layers(layers))


def _factor(name, p):
    return {("fc", "Weights"): 0.5, ("c1", "Bias"): 0.0}.get((name, p), 1.0)


def test_sgdmupdate_formula(frozen_net):
    g1, g2 = _grad_table(frozen_net, 1), _grad_table(frozen_net, 2)
    before = [v.copy() for v in frozen_net.Learnables.Value]
    net1, vel = lg.sgdmupdate(frozen_net, g1, None, 0.1, 0.8)
    net2, vel2 = lg.sgdmupdate(net1, g2, vel, 0.1, 0.8)
    rows = zip(frozen_net.Learnables.Layer, frozen_net.Learnables.Parameter, frozen_net.Learnables.Value,
               g1.Value, g2.Value, net2.Learnables.Value, vel2.Value)
    for name, p, p0, a, b, p2, v2 in rows:
        lr = 0.1 * _factor(name, p)
        v1 = -lr * a
        expected_v2 = 0.8 * v1 - lr * b
        np.testing.assert_allclose(v2, expected_v2, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(p2, p0 + v1 + expected_v2, rtol=1e-5, atol=1e-6)
    for old, now in zip(before, frozen_net.Learnables.Value):
        np.testing.assert_array_equal(old, now)                 # value semantics: input net unchanged


def test_adamupdate_formula(frozen_net):
    g1, g2 = _grad_table(frozen_net, 3), _grad_table(frozen_net, 4)
    net1, m, v = lg.adamupdate(frozen_net, g1, [], [], 1)
    net2, m2, v2 = lg.adamupdate(net1, g2, m, v, 2, 0.01, 0.9, 0.99, 1e-6)
    rows = zip(frozen_net.Learnables.Layer, frozen_net.Learnables.Parameter, frozen_net.Learnables.Value,
               g1.Value, g2.Value, net1.Learnables.Value, net2.Learnables.Value)
    for name, p, p0, a, b, p1, p2 in rows:
        f = _factor(name, p)
        m1, s1 = 0.1 * a, 0.001 * a * a
        np.testing.assert_allclose(p1, p0 - 0.001 * f * np.sqrt(1 - 0.999) / (1 - 0.9) * m1 / (np.sqrt(s1) + 1e-8),
                                   rtol=1e-5, atol=1e-6)
        mm, ss = 0.9 * m1 + 0.1 * b, 0.99 * s1 + 0.01 * b * b
        step = 0.01 * f * np.sqrt(1 - 0.99 ** 2) / (1 - 0.9 ** 2) * mm / (np.sqrt(ss) + 1e-6)
        np.testing.assert_allclose(p2, p1 - step, rtol=1e-5, atol=1e-6)
    with pytest.raises(MException):
        lg.adamupdate(frozen_net, g1, [], [], 0)


def test_rmspropupdate_formula_and_plain_tables(frozen_net):
    g1 = _grad_table(frozen_net, 5)
    net1, s = lg.rmspropupdate(frozen_net, g1, None, 0.01, 0.95, 1e-6)
    for name, p, p0, a, p1, s1 in zip(frozen_net.Learnables.Layer, frozen_net.Learnables.Parameter,
                                      frozen_net.Learnables.Value, g1.Value, net1.Learnables.Value, s.Value):
        np.testing.assert_allclose(s1, 0.05 * a * a, rtol=1e-5)
        np.testing.assert_allclose(p1, p0 - 0.01 * _factor(name, p) * a / (np.sqrt(0.05 * a * a) + 1e-6),
                                   rtol=1e-5, atol=1e-6)
    table, _ = lg.rmspropupdate(frozen_net.Learnables, g1, None, 0.01, 0.95, 1e-6)   # tables: no factors
    assert isinstance(table, pd.DataFrame)
    np.testing.assert_allclose(table.Value[1], frozen_net.Learnables.Value[1]
                               - 0.01 * g1.Value[1] / (np.sqrt(0.05 * g1.Value[1] ** 2) + 1e-6), rtol=1e-5)
    with pytest.raises(MException):
        lg.sgdmupdate(frozen_net, g1.iloc[1:], None)


def test_dlupdate_applies_a_function_row_by_row(frozen_net):
    grads = _grad_table(frozen_net, 6)
    decayed = lg.dlupdate(lambda g, w: g + 0.01 * w, grads, frozen_net.Learnables)
    np.testing.assert_allclose(decayed.Value[3], grads.Value[3] + 0.01 * frozen_net.Learnables.Value[3])
    halved = lg.dlupdate(lambda w: w / 2, frozen_net)
    assert isinstance(halved, lg.dlnetwork)
    np.testing.assert_allclose(halved.Learnables.Value[0], frozen_net.Learnables.Value[0] / 2)
    net2, doubled = lg.dlupdate(lambda w, g: (w - g, 2 * g), frozen_net, grads)
    np.testing.assert_allclose(net2.Learnables.Value[2], frozen_net.Learnables.Value[2] - grads.Value[2], rtol=1e-6)
    np.testing.assert_allclose(doubled.Value[2], 2 * grads.Value[2])


def test_initialisation_follows_the_global_rng():
    g = lg.removeLayers(small_resnet(), "out")
    bare = g.with_layers([layer.copy(**{n: None for n in layer.LEARNABLES}) for layer in g.Layers])
    lg.rng(3)
    first = lg.dlnetwork(bare).Learnables.Value[0]
    lg.rng(3)
    np.testing.assert_array_equal(lg.dlnetwork(bare).Learnables.Value[0], first)
    assert not np.array_equal(lg.dlnetwork(bare).Learnables.Value[0], first)


def test_summary_text(net, capsys):
    lg.summary(net)
    count = sum(v.size for v in net.Learnables.Value)
    assert count < 1000
    assert capsys.readouterr().out == ("   Initialized: true\n\n"
                                       f"   Number of learnables: {count}\n\n"
                                       "   Inputs:\n"
                                       "      1   'in'   6x6x5x2 images\n\n")
    big = lg.dlnetwork(lg.removeLayers(lg.resnet3dLayers([224, 224, 64, 3], 10), "output"), Initialize=False)
    lg.summary(big)
    assert "Initialized: false" in capsys.readouterr().out
    with pytest.raises(MException, match="dlnetwork"):
        lg.forward(lg.assembleNetwork(small_resnet()), np.zeros((6, 6, 5, 2, 1)))


def test_matlab_initialize_doc_example_from_a_layer_array():
    layers = [lg.imageInputLayer([28, 28, 1], Normalization="none"), lg.convolution2dLayer(5, 20),
              lg.batchNormalizationLayer(), lg.reluLayer(), lg.fullyConnectedLayer(10), lg.softmaxLayer()]
    net = lg.dlnetwork(layers, Initialize=False)
    assert list(zip(net.Learnables.Layer, net.Learnables.Parameter)) == [
        ("conv", "Weights"), ("conv", "Bias"), ("batchnorm", "Offset"), ("batchnorm", "Scale"),
        ("fc", "Weights"), ("fc", "Bias")]
    net = lg.initialize(net)
    assert net.Learnables.Value[0].shape == (5, 5, 1, 20) and net.Learnables.Value[4].shape == (10, 11520)
    Y = lg.predict(net, np.zeros((28, 28, 1, 3), np.float32))
    assert Y.shape == (10, 3)                                    # 'CB' after the fully connected layer
    table = net.Learnables
    table.at[0, "Value"] = np.zeros((5, 5, 1, 21))
    with pytest.raises(MException, match="5x5x1x20") as err:
        net.Learnables = table
    assert err.value.identifier == "deep:dlnetwork:InvalidParameterSize"
    table.at[0, "Value"] = np.zeros((5, 5, 1, 20), np.float32)
    net.Learnables = table
    assert not net.Learnables.Value[0].any()
