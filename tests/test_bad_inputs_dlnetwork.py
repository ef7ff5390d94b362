"""Bad inputs to the custom-loop API: dlfeval, losses, dlupdate and the solver updates."""
import numpy as np
import pandas as pd
import pytest

from layergraph import (MException, adamupdate, convolution2dLayer, crossentropy, dlfeval, dlnetwork, dlupdate,
                        fullyConnectedLayer, globalAveragePooling2dLayer, maxPooling2dLayer,
                        dlgradient, forward, imageInputLayer, mse, predict, rmspropupdate, sgdmupdate,
                        softmaxLayer)

NET = dlnetwork([imageInputLayer([2, 2, 1], Name="in", Normalization="none"), fullyConnectedLayer(3, Name="fc"),
                 softmaxLayer(Name="sm")])
GRAD = NET.Learnables.assign(Value=[np.ones_like(v) for v in NET.Learnables["Value"]])


def _raises(ident, func, *args, **kwargs):
    with pytest.raises(MException) as err:
        func(*args, **kwargs)
    assert err.value.identifier == ident
    assert "Received" in str(err.value)
    return str(err.value)


@pytest.mark.parametrize("call, ident", [
    (lambda: sgdmupdate(NET, GRAD, None, "0.1"), "nnet_cnn:sgdmupdate:InvalidlearnRate"),
    (lambda: sgdmupdate(NET, GRAD, None, -0.1), "nnet_cnn:sgdmupdate:InvalidlearnRate"),
    (lambda: sgdmupdate(NET, GRAD, None, np.nan), "nnet_cnn:sgdmupdate:InvalidlearnRate"),
    (lambda: sgdmupdate(NET, GRAD, None, np.inf), "nnet_cnn:sgdmupdate:InvalidlearnRate"),
    (lambda: sgdmupdate(NET, GRAD, None, 0.1, 1.5), "nnet_cnn:sgdmupdate:Invalidmomentum"),
    (lambda: adamupdate(NET, GRAD, None, None, "1"), "deep:adamupdate:InvalidIteration"),
    (lambda: adamupdate(NET, GRAD, None, None, np.array([1, 2])), "deep:adamupdate:InvalidIteration"),
    (lambda: adamupdate(NET, GRAD, None, None, 1, 0.01, 1.0), "nnet_cnn:adamupdate:InvalidgradDecay"),
    (lambda: adamupdate(NET, GRAD, None, None, 1, 0.01, 0.9, -0.1), "nnet_cnn:adamupdate:InvalidsqGradDecay"),
    (lambda: adamupdate(NET, GRAD, None, None, 1, 0.01, 0.9, 0.99, 0), "nnet_cnn:adamupdate:Invalidepsilon"),
    (lambda: rmspropupdate(NET, GRAD, None, 0.01, 1.0), "nnet_cnn:rmspropupdate:InvalidsqGradDecay"),
    (lambda: sgdmupdate(None, GRAD), "deep:update:InvalidNetwork"),
    (lambda: sgdmupdate(NET, pd.DataFrame({"a": [1]})), "deep:update:TableMismatch"),
    (lambda: dlupdate(5, NET), "deep:dlupdate:InvalidFunction"),
    (lambda: dlupdate(lambda w: w, None), "deep:dlupdate:InvalidNetwork"),
    (lambda: dlfeval("modelLoss", NET), "deep:dlfeval:InvalidFunction"),
    (lambda: crossentropy("a", "b"), "deep:loss:InvalidInput"),
    (lambda: mse(np.ones((3, 2)), None), "deep:loss:InvalidInput"),
    (lambda: dlnetwork(NET.layerGraph(), Initialize="yes"), "nnet_cnn:dlnetwork:InvalidInitialize"),
])
def test_bad_arguments(call, ident):
    _raises(ident, call)


@pytest.mark.parametrize("bad", [np.zeros((1, 1)), 0.5, np.zeros((3, 5))])
def test_gradient_of_the_wrong_size_does_not_broadcast(bad):
    grad = GRAD.copy()
    grad.at[0, "Value"] = bad
    msg = _raises("deep:update:SizeMismatch", sgdmupdate, NET, grad, None)
    assert "fc.Weights" in msg and "3x4" in msg


def test_solver_state_of_the_wrong_size_does_not_broadcast():
    _, vel = sgdmupdate(NET, GRAD, None)
    vel.at[1, "Value"] = np.zeros(())
    _raises("deep:update:SizeMismatch", sgdmupdate, NET, GRAD, vel)


@pytest.mark.parametrize("value", [5, pd.DataFrame({"a": [1]}), None])
def test_setting_state_or_learnables_to_a_non_table(value):
    net = dlnetwork(NET.layerGraph())
    with pytest.raises(MException) as err:
        net.Learnables = value
    assert err.value.identifier == "deep:dlnetwork:InvalidTable"
    assert net.Learnables["Value"].iloc[0].shape == (3, 4)     # unchanged


def test_valid_updates_still_work():
    new, vel = sgdmupdate(NET, GRAD, None, 0.0)                 # a zero learning rate is allowed
    np.testing.assert_array_equal(new.Learnables["Value"].iloc[0], NET.Learnables["Value"].iloc[0])
    assert dlnetwork(NET.layerGraph(), Initialize=0).Initialized is True   # already initialised layers


@pytest.mark.parametrize("after", [lambda: convolution2dLayer(1, 2, Name="after"), lambda: maxPooling2dLayer(1, Name="after"),
                                   lambda: globalAveragePooling2dLayer(Name="after")])
def test_spatial_layer_after_fully_connected(after):
    layers = [imageInputLayer([2, 2, 1], Name="in"), fullyConnectedLayer(3, Name="fc"), after()]
    msg = _raises("nnet_cnn:dlnetwork:SpatialLayerAfterFullyConnected", dlnetwork, layers)
    assert "'after'" in msg and "['fc']" in msg


def _model_gradients(table):
    def model_loss(net, X, T):
        Y, _ = forward(net, X)
        return dlgradient(crossentropy(Y, T), table)
    X = np.random.default_rng(0).random((2, 2, 1, 4)).astype(np.float32)
    return dlfeval(model_loss, NET, X, np.eye(3, dtype=np.float32)[:, [0, 1, 2, 0]])


@pytest.mark.parametrize("table, ident", [
    (5, "deep:dlgradient:InvalidTable"),
    (pd.DataFrame({"a": [1]}), "deep:dlgradient:InvalidTable"),
    (pd.DataFrame({"Layer": ["fcc"], "Parameter": ["Weights"], "Value": [np.zeros((3, 4))]}),
     "deep:dlgradient:UnknownParameter"),                                   # misspelt: no silent zeros
    (pd.DataFrame({"Layer": ["fc"], "Parameter": ["weights"], "Value": [np.zeros((3, 4))]}),
     "deep:dlgradient:UnknownParameter"),
])
def test_dlgradient_tables(table, ident):
    _raises(ident, _model_gradients, table)


def test_dlgradient_learnables_still_work():
    grads = _model_gradients(NET.Learnables)
    assert grads["Value"].iloc[0].shape == (3, 4) and np.any(grads["Value"].iloc[0])


def test_in_place_update_of_learnables_is_refused():
    net = dlnetwork(NET.layerGraph())
    X = np.ones((2, 2, 1, 1), np.float32)
    before = predict(net, X)
    weights = net.Learnables["Value"].iloc[0]
    with pytest.raises(ValueError, match="read-only"):
        weights -= 0.5                       # would change Learnables but not the cached executor
    np.testing.assert_array_equal(predict(net, X), before)
    rng = np.random.default_rng(1)
    grad = net.Learnables.assign(Value=[rng.random(v.shape).astype(np.float32) for v in net.Learnables["Value"]])
    net, _ = sgdmupdate(net, grad, None, 0.5)                 # the supported way
    assert not np.allclose(predict(net, X), before)
