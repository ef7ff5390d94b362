"""Elementwise activation, grouped normalization, flatten and global max pooling layers:
MATLAB displays and defaults, validation, sizes, execution (finite differences), round trips."""
import json

import numpy as np
import pytest

import layergraph as lg
from layergraph import MException
from helpers.layer_check import check_layer, internal_params
from layergraph.layers.context import ForwardContext


def test_leaky_relu_documented_example():
    layer = lg.leakyReluLayer(0.1, "Name", "leaky1")
    assert repr(layer).splitlines()[:5] == [
        "  LeakyReLULayer with properties:", "", "     Name: 'leaky1'", "", "   Hyperparameters"]
    assert "    Scale: 0.1000" in repr(layer)
    assert lg.leakyReluLayer().Scale == 0.01


@pytest.mark.parametrize("layer, type_, description", [
    (lg.leakyReluLayer(), "Leaky ReLU", "Leaky ReLU with scale 0.01"),
    (lg.clippedReluLayer(10), "Clipped ReLU", "Clipped ReLU with ceiling 10"),
    (lg.eluLayer(), "ELU", "ELU with Alpha 1"),
    (lg.eluLayer(0.5), "ELU", "ELU with Alpha 0.5"),
    (lg.tanhLayer(), "Tanh", "Hyperbolic tangent"),
    (lg.sigmoidLayer(), "Sigmoid", "sigmoid"),
    (lg.swishLayer(), "Swish", "swish"),
    (lg.geluLayer(), "GELU", "GELU"),
    (lg.groupNormalizationLayer(4), "Group Normalization", "Group normalization"),
    (lg.instanceNormalizationLayer(), "Instance Normalization", "Instance normalization"),
    (lg.layerNormalizationLayer(Offset=np.zeros((1, 1, 8))), "Layer Normalization",
     "Layer normalization with 8 channels"),
    (lg.flattenLayer(), "Flatten", "Flatten"),
    (lg.globalMaxPooling2dLayer(), "2-D Global Max Pooling", "Global max pooling"),
    (lg.globalMaxPooling3dLayer(), "3-D Global Max Pooling", "3-D global max pooling"),
], ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_types_and_descriptions(layer, type_, description):
    assert layer.Type == type_ and layer.description() == description


def test_defaults_and_properties():
    assert lg.geluLayer().Approximation == "none" and lg.geluLayer(Approximation="t").Approximation == "tanh"
    assert lg.eluLayer(Name="e").Alpha == 1.0 and lg.clippedReluLayer(6, Name="c").Name == "c"
    g = lg.groupNormalizationLayer("all", Epsilon=1e-4)
    assert g.NumGroups == "all-channels" and g.Epsilon == 1e-4 and g.NumChannels == "auto"
    assert lg.groupNormalizationLayer("channel-wise").NumGroups == "channel-wise"
    i = lg.instanceNormalizationLayer()
    assert (i.OffsetInitializer, i.ScaleInitializer, i.ScaleL2Factor) == ("zeros", "ones", 1)
    assert repr(lg.groupNormalizationLayer(4, Name="gn")).splitlines()[2:5] == [
        "           Name: 'gn'", "      NumGroups: 4", "    NumChannels: 'auto'"]


@pytest.mark.parametrize("make, ident", [
    (lambda: lg.clippedReluLayer(), "MATLAB:minrhs"),
    (lambda: lg.clippedReluLayer(0), "nnet_cnn:clippedReluLayer:InvalidCeiling"),
    (lambda: lg.clippedReluLayer(np.inf), "nnet_cnn:clippedReluLayer:InvalidCeiling"),
    (lambda: lg.leakyReluLayer(np.nan), "nnet_cnn:leakyReluLayer:InvalidScale"),
    (lambda: lg.leakyReluLayer([1, 2]), "nnet_cnn:leakyReluLayer:InvalidScale"),
    (lambda: lg.eluLayer(-1), "nnet_cnn:eluLayer:InvalidAlpha"),
    (lambda: lg.geluLayer(Approximation="erf"), "MATLAB:geluLayer:unrecognizedStringChoice"),
    (lambda: lg.groupNormalizationLayer(0), "nnet_cnn:groupNormalizationLayer:InvalidNumGroups"),
    (lambda: lg.groupNormalizationLayer("some"), "nnet_cnn:groupNormalizationLayer:InvalidNumGroups"),
    (lambda: lg.instanceNormalizationLayer(Epsilon=1e-6), "nnet_cnn:instanceNormalizationLayer:InvalidEpsilon"),
    (lambda: lg.layerNormalizationLayer(Offset=np.zeros((2, 2, 3))),
     "nnet_cnn:layerNormalizationLayer:InvalidOffsetSize"),
    (lambda: lg.layerNormalizationLayer(Offset=np.zeros(3), Scale=np.ones(4)),
     "nnet_cnn:layerNormalizationLayer:InvalidScaleSize"),
    (lambda: lg.tanhLayer(0.5), "MATLAB:tanhLayer:nameValuePairs"),
])
def test_bad_input(make, ident):
    with pytest.raises(MException) as info:
        make()
    assert info.value.identifier == ident


def test_setting_properties_validates():
    layer = lg.leakyReluLayer()
    layer.Scale = 0.3
    assert layer.Scale == 0.3
    with pytest.raises(MException):
        layer.Scale = "x"
    with pytest.raises(MException):
        lg.groupNormalizationLayer(2).NumGroups = 4


def test_sizes_and_errors():
    assert lg.flattenLayer().output_sizes([(2, 3, 4)]) == [(24,)]
    assert lg.globalMaxPooling3dLayer().output_sizes([(5, 6, 7, 3)]) == [(1, 1, 1, 3)]
    assert lg.groupNormalizationLayer(2).output_sizes([(4, 4, 6)]) == [(4, 4, 6)]
    with pytest.raises(MException) as info:
        lg.groupNormalizationLayer(4).output_sizes([(4, 4, 6)])
    assert info.value.identifier == "nnet_cnn:groupNormalizationLayer:InvalidNumGroups"
    with pytest.raises(MException) as info:
        lg.globalMaxPooling2dLayer().output_sizes([(4, 4, 4, 6)])
    assert info.value.identifier == "nnet_cnn:globalMaxPooling2dLayer:WrongLayerSize"
    with pytest.raises(MException) as info:
        lg.instanceNormalizationLayer(Scale=np.ones(3)).output_sizes([(4, 4, 6)])
    assert info.value.identifier == "nnet_cnn:instanceNormalizationLayer:WrongNumChannels"


@pytest.mark.parametrize("layer, size", [
    (lg.leakyReluLayer(0.3), (3, 4, 2)), (lg.clippedReluLayer(0.8), (3, 4, 2)),
    (lg.eluLayer(0.5), (2, 3, 2, 2)), (lg.tanhLayer(), (3, 2)), (lg.sigmoidLayer(), (3, 3, 2)),
    (lg.swishLayer(), (3, 3, 2)), (lg.geluLayer(), (2, 3, 2)),
    (lg.geluLayer(Approximation="tanh"), (2, 3, 2)),
    (lg.groupNormalizationLayer(2, Offset=np.arange(4.0), Scale=np.linspace(1, 2, 4)), (3, 2, 4)),
    (lg.groupNormalizationLayer("channel-wise"), (2, 3, 2, 3)),
    (lg.instanceNormalizationLayer(ScaleInitializer="narrow-normal"), (3, 3, 2)),
    (lg.layerNormalizationLayer(), (2, 3, 2, 3)),
    (lg.flattenLayer(), (2, 3, 2, 3)), (lg.flattenLayer(), (3, 2, 4)),
    (lg.globalMaxPooling2dLayer(), (3, 4, 2)), (lg.globalMaxPooling3dLayer(), (2, 3, 2, 2)),
], ids=lambda v: type(v).__name__ if isinstance(v, lg.Layer) else str(v))
def test_execution(layer, size, rng):
    x = rng.standard_normal((size[-1], 2, *size[:-1]))
    x[np.abs(x) < 1e-3] = 0.1                    # no kink inside the difference quotient
    x[np.abs(x - 0.8) < 1e-3] = 0.1
    check_layer(layer, [x], rng)


def test_flatten_order_is_matlab_column_major(rng):
    x = rng.standard_normal((3, 2, 4, 5))                      # (C, N, h, w)
    (y,), _, _ = lg.flattenLayer().forward({}, [x], ForwardContext(False))
    matlab = x.transpose(2, 3, 0, 1)                            # h x w x c x N
    expected = matlab.reshape(-1, 2, order="F")                 # MATLAB reshape(X, [], N)
    np.testing.assert_array_equal(y, expected)


def test_normalization_learnables_layout(rng):
    layer = lg.groupNormalizationLayer(2).initialize([(4, 4, 4, 6)], rng)
    assert layer.NumChannels == 6 and layer.Offset.shape == layer.Scale.shape == (1, 1, 1, 6)
    assert not layer.Offset.any() and (layer.Scale == 1).all()
    internal = layer.to_internal("Scale", layer.Scale, np, np.float64)
    assert internal.shape == (6,)
    assert layer.from_internal("Scale", internal).shape == (1, 1, 1, 6)
    assert internal_params(layer)["Offset"].shape == (6,)


@pytest.mark.parametrize("layer", [
    lg.leakyReluLayer(0.2, Name="lr"), lg.clippedReluLayer(6), lg.eluLayer(2), lg.tanhLayer(),
    lg.sigmoidLayer(), lg.swishLayer(), lg.geluLayer(Approximation="tanh"),
    lg.groupNormalizationLayer("all-channels", Epsilon=1e-3),
    lg.groupNormalizationLayer(3).initialize([(2, 2, 6)], np.random.default_rng(0)),
    lg.instanceNormalizationLayer(), lg.layerNormalizationLayer(), lg.flattenLayer(),
    lg.globalMaxPooling2dLayer(), lg.globalMaxPooling3dLayer()], ids=lambda l: type(l).__name__)
def test_properties_round_trip(layer):
    props = layer.properties()
    arrays = {k: v for k, v in props.items() if isinstance(v, np.ndarray)}
    rest = json.loads(json.dumps({k: v for k, v in props.items() if k not in arrays}))
    back = type(layer).from_properties({**rest, **arrays})
    assert repr(back) == repr(layer) and back.description() == layer.description()


def test_layer_normalization_operation_dimension_option_and_display():
    assert lg.layerNormalizationLayer().OperationDimension == "auto"
    layer = lg.layerNormalizationLayer("operationdimension", "CHANNEL")
    assert layer.OperationDimension == "channel-only"
    layer.OperationDimension = "spatial"
    assert layer.OperationDimension == "spatial-channel"
    lines = repr(lg.layerNormalizationLayer(OperationDimension="batch-excluded")).splitlines()
    i = lines.index("   Hyperparameters")
    assert [ln.strip() for ln in lines[i + 1:i + 3]] == ["Epsilon: 1.0000e-05",
                                                         "OperationDimension: 'batch-excluded'"]
    with pytest.raises(lg.MException) as info:
        lg.layerNormalizationLayer(OperationDimension="time")
    assert info.value.identifier == "MATLAB:layerNormalizationLayer:unrecognizedStringChoice"
    assert '"time"' in str(info.value)


def test_layer_normalization_channel_only_normalizes_each_position(rng):
    from layergraph.layers.context import ForwardContext
    layer = lg.layerNormalizationLayer(OperationDimension="channel-only").initialize(
        [(3, 2, 4)], rng)
    params = {n: layer.to_internal(n, getattr(layer, n), np, np.float64) for n in layer.LEARNABLES}
    x = rng.standard_normal((4, 2, 3, 2)) * 3 + 1                 # (C, N, H, W)
    (y,), _, _ = layer.forward(params, [x], ForwardContext(False))
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 1 / (1 + 1e-5 / x.var(axis=0)), rtol=1e-9)
    full = lg.layerNormalizationLayer().initialize([(3, 2, 4)], rng)
    (z,), _, _ = full.forward(params, [x], ForwardContext(False))
    assert not np.allclose(y, z)
