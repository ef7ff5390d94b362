"""gradCAM: with global average pooling before the classifier Grad-CAM equals CAM (closed form)."""
import numpy as np
import pytest

import layergraph as lg
from layergraph.layers.errors import MException


def _net(stride=1):
    lg.rng(2)
    return lg.dlnetwork([lg.imageInputLayer([8, 6, 2], Normalization="none", Name="in"),
                         lg.convolution2dLayer(3, 5, Padding="same", Stride=stride, Name="conv"),
                         lg.reluLayer(Name="relu"), lg.globalAveragePooling2dLayer(Name="gap"),
                         lg.fullyConnectedLayer(3, Name="fc"), lg.softmaxLayer(Name="sm")])


def test_grad_cam_equals_class_activation_map():
    net = _net()
    X = np.random.default_rng(0).standard_normal((8, 6, 2)).astype(np.float32)
    scoreMap = lg.gradCAM(net, X, 2)
    A = lg.predict(net, X, Outputs="relu")[..., 0].astype(np.float64)         # 8 x 6 x 5
    W = net.Learnables.Value[list(zip(net.Learnables.Layer, net.Learnables.Parameter)).index(("fc", "Weights"))]
    expected = np.maximum((A * (np.asarray(W, np.float64)[2] / (8 * 6))).sum(axis=2), 0)
    assert scoreMap.shape == (8, 6)
    np.testing.assert_allclose(scoreMap, expected, rtol=1e-4, atol=1e-7)
    named = lg.gradCAM(net, np.stack([X, X], axis=3), "c", ClassNames=["a", "b", "c"])
    assert named.shape == (8, 6, 2)
    np.testing.assert_allclose(named[..., 1], scoreMap, rtol=1e-5, atol=1e-7)


def test_map_is_resized_to_the_input():
    net = _net(stride=2)
    X = np.random.default_rng(1).standard_normal((8, 6, 2)).astype(np.float32)
    scoreMap = lg.gradCAM(net, X, 0, FeatureLayer="relu")
    assert scoreMap.shape == (8, 6) and np.all(scoreMap >= 0)
    with pytest.raises(MException) as err:
        lg.gradCAM(net, X, 7)
    assert err.value.identifier == "nnet:gradCAM:InvalidLabel"
