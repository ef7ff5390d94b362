"""output_sizes, initialize (shapes, resolved 'same' padding, initializer statistics)."""
import numpy as np
import pytest

import layergraph as lg
from layergraph import MException


def test_convolution_output_sizes_same_and_manual():
    c = lg.convolution3dLayer(7, 64, Stride=2, Padding="same")
    assert c.output_sizes([(224, 224, 64, 3)]) == [(112, 112, 32, 64)]
    assert c.output_sizes([(7, 7, 7, 1)]) == [(4, 4, 4, 64)]
    m = lg.convolution2dLayer([3, 5], 4, Padding=[1, 0, 2, 2], Stride=[2, 1], DilationFactor=[1, 2])
    # h: (10 + 1 - 3)//2 + 1 = 5; w: (8 + 4 - 9)//1 + 1 = 4
    assert m.output_sizes([(10, 8, 3)]) == [(5, 4, 4)]


def test_initialize_resolves_same_padding_with_extra_pad_after():
    c = lg.convolution3dLayer(7, 8, Stride=2, Padding="same").initialize([(224, 224, 64, 3)], np.random.default_rng(0))
    assert c.PaddingMode == "same" and c.PaddingSize == ((2, 2, 2), (3, 3, 3))
    p = lg.maxPooling2dLayer(3, Stride=2, Padding="same").initialize([(112, 112, 64)], None)
    assert p.PaddingSize == (0, 1, 0, 1)


@pytest.mark.parametrize("layer, sizes, ident", [
    (lg.convolution3dLayer(3, 4), [(8, 8, 3)], "nnet_cnn:convolution3dLayer:WrongLayerSize"),
    (lg.convolution2dLayer(3, 4, NumChannels=2), [(8, 8, 3)], "nnet_cnn:convolution2dLayer:WrongNumChannels"),
    (lg.convolution2dLayer(5, 4), [(3, 8, 3)], "nnet_cnn:convolution2dLayer:InputTooSmall"),
    (lg.maxPooling3dLayer(2), [(8, 8, 3)], "nnet_cnn:maxPooling3dLayer:WrongLayerSize"),
    (lg.additionLayer(2), [(4, 4, 3), (4, 4, 2)], "nnet_cnn:additionLayer:InputSizeMismatch"),
    (lg.additionLayer(2), [(4, 4, 3)], "nnet_cnn:additionLayer:WrongNumberOfInputs"),
    (lg.depthConcatenationLayer(2), [(4, 4, 3), (4, 5, 2)], "nnet_cnn:depthConcatenationLayer:InputSizeMismatch"),
    (lg.fullyConnectedLayer(3, Weights=np.ones((3, 5))), [(2, 2, 1)], "nnet_cnn:fullyConnectedLayer:WrongInputSize"),
    (lg.batchNormalizationLayer(Offset=np.zeros(3)), [(2, 2, 4)], "nnet_cnn:batchNormalizationLayer:WrongNumChannels"),
    (lg.globalAveragePooling2dLayer(), [(2, 2, 2, 4)], "nnet_cnn:globalAveragePooling2dLayer:WrongLayerSize"),
    (lg.reluLayer(), [(2, 2, 4), (2, 2, 4)], "nnet_cnn:reluLayer:WrongNumberOfInputs"),
])
def test_output_size_errors(layer, sizes, ident):
    with pytest.raises(MException) as info:
        layer.output_sizes(sizes)
    assert info.value.identifier == ident
    assert "Received" in info.value.message and "Layer ''" in info.value.message


def test_other_output_sizes():
    assert lg.image3dInputLayer([64, 64, 64]).output_sizes([]) == [(64, 64, 64, 1)]
    assert lg.maxPooling3dLayer(3, Stride=2, Padding="same").output_sizes([(32, 32, 32, 64)]) == [(16, 16, 16, 64)]
    assert lg.averagePooling2dLayer(7, Stride=7).output_sizes([(7, 7, 2048)]) == [(1, 1, 2048)]
    assert lg.globalAveragePooling3dLayer().output_sizes([(7, 7, 2, 2048)]) == [(1, 1, 1, 2048)]
    assert lg.additionLayer(2).output_sizes([(4, 4, 3)] * 2) == [(4, 4, 3)]
    assert lg.depthConcatenationLayer(2).output_sizes([(4, 4, 3), (4, 4, 5)]) == [(4, 4, 8)]
    assert lg.fullyConnectedLayer(10).output_sizes([(1, 1, 1, 2048)]) == [(1, 1, 1, 10)]
    assert lg.fullyConnectedLayer(10).output_sizes([(4,)]) == [(10,)]
    assert lg.softmaxLayer().output_sizes([(1, 1, 10)]) == [(1, 1, 10)]
    assert lg.classificationLayer().output_sizes([(1, 1, 10)]) == []
    assert lg.batchNormalizationLayer().output_sizes([(5, 5, 5, 7)]) == [(5, 5, 5, 7)]


def test_initialize_shapes():
    rng = np.random.default_rng(0)
    c = lg.convolution3dLayer(3, 4).initialize([(8, 8, 8, 2)], rng)
    assert c.NumChannels == 2 and c.Weights.shape == (3, 3, 3, 2, 4) and c.Bias.shape == (1, 1, 1, 4)
    assert c.Weights.dtype == np.float32 and not c.Bias.any()
    b = lg.batchNormalizationLayer().initialize([(8, 8, 8, 5)], rng)
    assert b.NumChannels == 5
    assert b.Offset.shape == b.Scale.shape == b.TrainedMean.shape == b.TrainedVariance.shape == (1, 1, 1, 5)
    assert not b.Offset.any() and (b.Scale == 1).all() and not b.TrainedMean.any() and (b.TrainedVariance == 1).all()
    b2 = lg.batchNormalizationLayer().initialize([(8, 8, 5)], rng)
    assert b2.Offset.shape == (1, 1, 5)
    f = lg.fullyConnectedLayer(10).initialize([(2, 2, 1, 3)], rng)
    assert f.InputSize == 12 and f.Weights.shape == (10, 12) and f.Bias.shape == (10, 1)
    k = lg.classificationLayer().initialize([(1, 1, 7)], rng)
    assert k.OutputSize == 7
    i = lg.imageInputLayer([4, 4, 1], Mean=np.array(2.0))
    assert i.initialize([], rng).Mean == i.Mean


def test_initialize_keeps_given_parameters_and_does_not_mutate():
    rng = np.random.default_rng(0)
    w = np.full((1, 1, 3, 2), 0.5, np.float32)
    c = lg.convolution2dLayer(1, 2, Weights=w)
    new = c.initialize([(4, 4, 3)], rng)
    assert (new.Weights == 0.5).all() and new.Bias.shape == (1, 1, 2)
    assert c.Bias is None


def test_he_and_glorot_statistics():
    rng = np.random.default_rng(1)
    he = lg.convolution3dLayer(3, 64, WeightsInitializer="he").initialize([(8, 8, 8, 16)], rng)
    fan_in = 27 * 16
    assert abs(he.Weights.std() - np.sqrt(2 / fan_in)) < 0.03 * np.sqrt(2 / fan_in)
    assert abs(he.Weights.mean()) < 0.01
    gl = lg.convolution3dLayer(3, 64).initialize([(8, 8, 8, 16)], rng)
    bound = np.sqrt(6 / (27 * 16 + 27 * 64))
    assert gl.Weights.max() <= bound and gl.Weights.min() >= -bound
    assert gl.Weights.max() > 0.95 * bound
    assert abs(gl.Weights.var() - bound ** 2 / 3) < 0.05 * bound ** 2 / 3
    fc = lg.fullyConnectedLayer(100, WeightsInitializer="he").initialize([(1, 1, 400)], rng)
    assert abs(fc.Weights.std() - np.sqrt(2 / 400)) < 0.03 * np.sqrt(2 / 400)


def test_callable_initializer_and_wrong_shape():
    rng = np.random.default_rng(0)
    f = lg.fullyConnectedLayer(2, WeightsInitializer=lambda sz: np.full(sz, 3.0))
    assert (f.initialize([(4,)], rng).Weights == 3).all()
    bad = lg.fullyConnectedLayer(2, WeightsInitializer=lambda sz: np.zeros(5))
    with pytest.raises(MException):
        bad.initialize([(4,)], rng)
