"""properties()/from_properties() details and the internal layouts (the round trip of every
layer case: test_layer_cases.py)."""
import numpy as np
import pytest

import layergraph as lg

RNG = np.random.default_rng(3)
CONV = lg.convolution3dLayer(3, 4, Stride=2, Padding=[[0, 1, 2], [1, 1, 1]], Name="c").initialize(
    [(8, 8, 8, 2)], RNG)
BN = lg.batchNormalizationLayer(Epsilon=1e-3).initialize([(4, 4, 4, 3)], RNG)
FC = lg.fullyConnectedLayer(5).initialize([(1, 1, 1, 6)], RNG)
INPUT = lg.image3dInputLayer([8, 8, 8, 2], Name="in", Mean=np.ones((1, 1, 1, 2)))
LAYERS = {0: INPUT, 4: BN, 15: FC}
# Property round trips of every layer: tests/layers/test_layer_cases.py over layer_cases.py.


def test_properties_are_copies_and_include_hidden():
    c = CONV
    props = c.properties()
    assert "WeightsInitializer" in props and "BiasL2Factor" in props
    props["Weights"][...] = 0
    assert c.Weights.any()


def test_from_properties_rejects_unknown_and_missing():
    props = lg.reluLayer().properties()
    with pytest.raises(lg.MException):
        lg.ReLULayer.from_properties({**props, "Bogus": 1})
    with pytest.raises(lg.MException):
        lg.Convolution2DLayer.from_properties({"Name": "c"})


def test_from_properties_validates_values():
    props = CONV.properties()
    with pytest.raises(lg.MException) as info:
        lg.Convolution3DLayer.from_properties({**props, "Stride": [0, 1, 1]})
    assert info.value.identifier == "nnet_cnn:convolution3dLayer:InvalidStride"
    with pytest.raises(lg.MException) as info:
        lg.Convolution3DLayer.from_properties({**props, "WeightsInitializer": "bogus"})
    assert info.value.identifier == "MATLAB:convolution3dLayer:unrecognizedStringChoice"


def test_derived_properties_are_read_only():
    for layer, name in ((lg.batchNormalizationLayer(), "NumChannels"), (lg.fullyConnectedLayer(2), "InputSize"),
                        (lg.classificationLayer(), "OutputSize"), (lg.classificationLayer(), "LossFunction"),
                        (lg.convolution2dLayer(3, 2), "FilterSize"), (lg.convolution2dLayer(3, 2), "NumFilters"),
                        (lg.convolution3dLayer(3, 2), "NumChannels")):
        with pytest.raises(lg.MException) as info:
            setattr(layer, name, 3)
        assert info.value.identifier == "MATLAB:class:SetProhibited" and name in info.value.message


def test_convolution_internal_layout():
    c = CONV
    w = c.to_internal("Weights", c.Weights, np, np.float64)
    assert w.shape == (4, 2, 3, 3, 3)
    assert w[1, 0, 2, 1, 0] == c.Weights[2, 1, 0, 0, 1]
    b = c.to_internal("Bias", c.Bias, np, np.float32)
    assert b.shape == (4,)
    np.testing.assert_array_equal(c.from_internal("Weights", w), c.Weights)
    np.testing.assert_array_equal(c.from_internal("Bias", b), c.Bias)


@pytest.mark.parametrize("index, name, internal", [
    (4, "Offset", (3,)), (4, "Scale", (3,)), (4, "TrainedMean", (3,)), (4, "TrainedVariance", (3,)),
    (15, "Weights", (5, 6)), (15, "Bias", (5,)), (0, "Mean", (2, 1, 1, 1, 1)),
])
def test_internal_round_trip(index, name, internal):
    layer = LAYERS[index]
    value = getattr(layer, name) + RNG.standard_normal(getattr(layer, name).shape)
    arr = layer.to_internal(name, value, np, np.float64)
    assert arr.shape == internal
    np.testing.assert_array_equal(layer.from_internal(name, arr), value)


def test_element_wise_statistics_layout():
    i = lg.imageInputLayer([2, 3, 4], Mean=np.arange(24.0).reshape(2, 3, 4))
    m = i.to_internal("Mean", i.Mean, np, np.float64)
    assert m.shape == (4, 1, 2, 3) and m[3, 0, 1, 2] == i.Mean[1, 2, 3]
    np.testing.assert_array_equal(i.from_internal("Mean", m), i.Mean)
