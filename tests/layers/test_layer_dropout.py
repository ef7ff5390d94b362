"""dropoutLayer: display and validation, identity in inference, inverted mask in training drawn
from ctx.rng (reproducible), gradient through the same mask, trainNetwork under rng(seed)."""
import json

import numpy as np
import pandas as pd
import pytest

import layergraph as lg
from layergraph import MException
from helpers.gradcheck import check_gradients
from layergraph.layers.context import ForwardContext


def test_display_defaults_and_description():
    layer = lg.dropoutLayer()
    assert repr(layer).splitlines()[:6] == [
        "  DropoutLayer with properties:", "", "           Name: ''", "", "   Hyperparameters",
        "    Probability: 0.5000"]
    assert layer.Type == "Dropout" and layer.description() == "50% dropout"
    d = lg.dropoutLayer(0.4, "Name", "drop1")
    assert (d.Name, d.Probability, d.description()) == ("drop1", 0.4, "40% dropout")
    assert lg.dropoutLayer(Probability=0.25).Probability == 0.25
    props = d.properties()
    back = lg.DropoutLayer.from_properties(json.loads(json.dumps(props)))
    assert repr(back) == repr(d)


@pytest.mark.parametrize("bad", [1, 1.5, -0.1, np.nan, "0.5", [0.1, 0.2], True])
def test_bad_probability(bad):
    with pytest.raises(MException) as info:
        lg.dropoutLayer(bad) if not isinstance(bad, str) else lg.dropoutLayer(Probability=bad)
    assert info.value.identifier == "nnet_cnn:dropoutLayer:InvalidProbability"


def test_identity_in_inference_and_mask_in_training(rng):
    layer = lg.dropoutLayer(0.3)
    x = rng.standard_normal((4, 8, 16, 16))
    (y,), cache, _ = layer.forward({}, [x], ForwardContext(False))
    assert y is x and cache is None
    ctx = ForwardContext.for_batch(True, 123)
    (y,), mask, _ = layer.forward({}, [x], ctx)
    kept = mask != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y[kept], x[kept] / 0.7)
    assert not y[~kept].any()
    (y2,), _, _ = layer.forward({}, [x], ForwardContext.for_batch(True, 123))
    np.testing.assert_array_equal(y, y2)                        # same seed, same mask
    (y3,), _, _ = layer.forward({}, [x], ForwardContext.for_batch(True, 124))
    assert not np.array_equal(y, y3)
    dy = rng.standard_normal(x.shape)
    (dx,), grads = layer.backward({}, [dy], mask)
    np.testing.assert_array_equal(dx, dy * mask)
    assert grads == {}


def test_gradient_with_a_fixed_mask(rng):
    layer = lg.dropoutLayer(0.5)
    x = rng.standard_normal((2, 3, 4))
    (y,), mask, _ = layer.forward({}, [x], ForwardContext.for_batch(True, 5))
    dy = rng.standard_normal(y.shape)

    def f(x):
        return np.vdot(layer.forward({}, [x], ForwardContext.for_batch(True, 5))[0][0], dy)

    check_gradients(f, (x,), (layer.backward({}, [dy], mask)[0][0],), rng)


def _train(seed):
    lg.rng(seed)
    g = np.random.default_rng(0)
    X = g.standard_normal((4, 4, 1, 16)).astype(np.float32)
    Y = pd.Categorical(np.where(X.mean(axis=(0, 1, 2)) > 0, "p", "n"))
    layers = [lg.imageInputLayer([4, 4, 1], Name="in"), lg.fullyConnectedLayer(8, Name="fc1"),
              lg.reluLayer(Name="r"), lg.dropoutLayer(0.5, Name="drop"),
              lg.fullyConnectedLayer(2, Name="fc2"), lg.softmaxLayer(Name="sm"),
              lg.classificationLayer(Name="out")]
    net, _ = lg.trainNetwork(X, Y, layers, lg.trainingOptions(
        "sgdm", MaxEpochs=2, MiniBatchSize=4, Verbose=False, Shuffle="never"))
    return net, X


def test_training_is_reproducible_under_rng_and_predict_is_deterministic():
    net1, X = _train(7)
    net2, _ = _train(7)
    net3, _ = _train(8)
    w = lambda net: net.Layers[1].Weights                      # noqa: E731
    np.testing.assert_array_equal(w(net1), w(net2))
    assert not np.array_equal(w(net1), w(net3))
    np.testing.assert_array_equal(np.asarray(lg.predict(net1, X)), np.asarray(lg.predict(net1, X)))


def test_population_statistics_pass_runs_dropout_as_inference():
    g = np.random.default_rng(3)
    X = (g.standard_normal((4, 4, 2, 16)) + np.array([1.0, -2.0]).reshape(1, 1, 2, 1)).astype(np.float32)
    Y = pd.Categorical(np.where(X[:, :, 0].mean(axis=(0, 1)) > 1, "p", "n"))
    layers = [lg.imageInputLayer([4, 4, 2], Name="in", Normalization="none"),
              lg.dropoutLayer(0.5, Name="drop"), lg.batchNormalizationLayer(Name="bn"),
              lg.fullyConnectedLayer(2, Name="fc"), lg.softmaxLayer(Name="sm"),
              lg.classificationLayer(Name="out")]
    net, _ = lg.trainNetwork(X, Y, layers, lg.trainingOptions(
        "sgdm", MaxEpochs=1, MiniBatchSize=8, Verbose=False, BatchNormalizationStatistics="population"))
    bn = net.Layers[2]
    np.testing.assert_allclose(bn.TrainedMean.ravel(), X.mean(axis=(0, 1, 3)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.TrainedVariance.ravel(), X.var(axis=(0, 1, 3)), rtol=1e-4)
