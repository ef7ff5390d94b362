"""Bad arguments to layer constructors, builders and syntheticShapes3d: MException only.

Parametrised probes for the fixed defects, then a hypothesis fuzz: random junk arguments to
every constructor and builder either build something or raise MException (never a raw
TypeError/IndexError/... nor a NumPy error).
"""
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import layergraph as lg
from layergraph import MException


def _raises(ident, func, *args, **kwargs):
    with pytest.raises(MException) as err:
        func(*args, **kwargs)
    assert err.value.identifier == ident
    assert "Received" in str(err.value)


@pytest.mark.parametrize("func, args, ident", [
    (lg.image3dInputLayer, ([[4, 4], [4, 1]],), "nnet_cnn:image3dInputLayer:InvalidInputSize"),
    (lg.convolution2dLayer, ([[3, 3], [3, 3]], 8), "nnet_cnn:convolution2dLayer:InvalidFilterSize"),
    (lg.maxPooling3dLayer, (np.ones((3, 3)),), "nnet_cnn:maxPooling3dLayer:InvalidPoolSize"),
])
def test_matrix_where_a_vector_is_expected(func, args, ident):
    _raises(ident, func, *args)


def test_column_vector_is_still_a_vector():
    assert lg.image3dInputLayer([[4], [5], [6]]).InputSize == (4, 5, 6, 1)


@pytest.mark.parametrize("func, args, kwargs, ident", [
    (lg.convolution2dLayer, ([True, 3], 8), {}, "nnet_cnn:convolution2dLayer:InvalidFilterSize"),
    (lg.convolution3dLayer, (3, 8), {"Stride": [1, False, 1]}, "nnet_cnn:convolution3dLayer:InvalidStride"),
    (lg.imageInputLayer, ([28, 28, True],), {}, "nnet_cnn:imageInputLayer:InvalidInputSize"),
])
def test_logical_elements_are_not_numbers(func, args, kwargs, ident):
    _raises(ident, func, *args, **kwargs)


@pytest.mark.parametrize("classes", [{"a", "b"}, {"a": 1, "b": 2}, ["a", ""], ""])
def test_classes_must_be_ordered_non_empty_names(classes):
    _raises("nnet_cnn:classificationLayer:InvalidClasses", lg.classificationLayer, Classes=classes)


def test_classes_from_a_categorical_keep_unused_categories():
    labels = pd.Categorical(["b"], categories=["b", "a", "c"])
    assert lg.classificationLayer(Classes=labels).Classes == ("b", "a", "c")


@pytest.mark.parametrize("names", [{"y"}, {"y": 1}, [""]])
def test_response_names_must_be_ordered_non_empty_names(names):
    _raises("nnet_cnn:regressionLayer:InvalidResponseNames", lg.regressionLayer, ResponseNames=names)


def test_class_weights_must_be_a_vector():
    _raises("nnet_cnn:classificationLayer:InvalidClassWeights", lg.classificationLayer,
            ClassWeights=[[1, 2], [3, 4]])
    assert lg.classificationLayer(ClassWeights=[[1], [2]]).ClassWeights.shape == (2,)


@pytest.mark.parametrize("kwargs, ident", [
    ({"seed": -1}, "nnet_cnn:syntheticShapes3d:Invalidseed"),
    ({"seed": 2.5}, "nnet_cnn:syntheticShapes3d:Invalidseed"),
    ({"seed": "5"}, "nnet_cnn:syntheticShapes3d:Invalidseed"),
    ({"noise": -1}, "nnet_cnn:syntheticShapes3d:Invalidnoise"),
    ({"noise": np.nan}, "nnet_cnn:syntheticShapes3d:Invalidnoise"),
    ({"noise": None}, "nnet_cnn:syntheticShapes3d:Invalidnoise"),
])
def test_synthetic_shapes_seed_and_noise(kwargs, ident):
    _raises(ident, lg.syntheticShapes3d, 4, 8, **kwargs)


# ---- fuzz ----------------------------------------------------------------------------------
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 70), st.floats(allow_nan=True),
                     st.complex_numbers(max_magnitude=5), st.text(max_size=4), st.binary(max_size=2))
_junk = st.one_of(_scalars, st.lists(_scalars, max_size=5), st.dictionaries(st.text(max_size=2), _scalars, max_size=2),
                  st.lists(st.lists(st.integers(0, 5), max_size=3), max_size=3),
                  st.builds(lambda n: np.arange(n, dtype=float), st.integers(0, 5)),
                  st.builds(object))

_CONSTRUCTORS = [
    (lg.convolution2dLayer, 2, ("Stride", "Padding", "DilationFactor", "Weights", "Bias", "PaddingValue",
                                "WeightsInitializer", "WeightLearnRateFactor", "Name")),
    (lg.convolution3dLayer, 2, ("Stride", "Padding", "DilationFactor", "Weights", "BiasL2Factor")),
    (lg.fullyConnectedLayer, 1, ("Weights", "Bias", "BiasInitializer", "WeightL2Factor", "Name")),
    (lg.batchNormalizationLayer, 0, ("Epsilon", "TrainedMean", "TrainedVariance", "Offset", "Scale",
                                     "MeanDecay", "Name")),
    (lg.maxPooling2dLayer, 1, ("Stride", "Padding", "HasUnpoolingOutputs")),
    (lg.averagePooling3dLayer, 1, ("Stride", "Padding", "PaddingValue")),
    (lg.globalAveragePooling2dLayer, 0, ("Name",)),
    (lg.additionLayer, 1, ("Name",)),
    (lg.depthConcatenationLayer, 1, ("Name",)),
    (lg.reluLayer, 0, ("Name",)),
    (lg.softmaxLayer, 0, ("Name",)),
    (lg.classificationLayer, 0, ("Classes", "ClassWeights", "Name")),
    (lg.regressionLayer, 0, ("ResponseNames", "Name")),
    (lg.imageInputLayer, 1, ("Normalization", "NormalizationDimension", "Mean", "StandardDeviation", "Min")),
    (lg.image3dInputLayer, 1, ("Normalization", "Mean", "Max", "Name")),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_layer_constructors_raise_only_mexception(data):
    func, num_positional, options = data.draw(st.sampled_from(_CONSTRUCTORS))
    args = [data.draw(_junk) for _ in range(num_positional)]
    name = data.draw(st.sampled_from(options))
    try:
        func(*args, **{name: data.draw(_junk)})
    except MException:
        pass


_BUILDER_OPTIONS = ("InitialFilterSize", "InitialNumFilters", "InitialStride", "InitialPoolingLayer",
                    "ResidualBlockType", "BottleneckType", "StackDepth", "NumFilters", "Normalization")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_builders_raise_only_mexception(data):
    func = data.draw(st.sampled_from([lg.resnetLayers, lg.resnet3dLayers]))
    size = data.draw(st.one_of(_junk, st.just([16, 16, 16, 1])))
    num_classes = data.draw(st.one_of(_junk, st.just(3)))
    small = dict(InitialFilterSize=3, InitialNumFilters=4, BottleneckType="none", StackDepth=[1], NumFilters=[4])
    small[data.draw(st.sampled_from(_BUILDER_OPTIONS))] = data.draw(_junk)
    try:
        func(size, num_classes, **small)
    except MException:
        pass


@pytest.mark.parametrize("func, kwargs, ident", [
    (lg.batchNormalizationLayer, {"TrainedMean": [[], [0]]}, "nnet_cnn:batchNormalizationLayer:InvalidTrainedMean"),
    (lg.imageInputLayer, {"Mean": [[1], [2, 3]]}, "nnet_cnn:imageInputLayer:InvalidMean"),
    (lg.convolution2dLayer, {"Weights": [[1.0], []]}, "nnet_cnn:convolution2dLayer:InvalidWeights"),
    (lg.maxPooling2dLayer, {"HasUnpoolingOutputs": np.array([])},
     "nnet_cnn:maxPooling2dLayer:InvalidHasUnpoolingOutputs"),
    (lg.maxPooling2dLayer, {"HasUnpoolingOutputs": [0, 0]}, "nnet_cnn:maxPooling2dLayer:InvalidHasUnpoolingOutputs"),
])
def test_ragged_or_empty_values_are_reported(func, kwargs, ident):
    args = ([4, 4, 1],) if func is lg.imageInputLayer else (3, 2) if func is lg.convolution2dLayer else \
        (2,) if func is lg.maxPooling2dLayer else ()
    _raises(ident, func, *args, **kwargs)


def test_has_unpooling_outputs_false_values():
    for value in (False, 0, np.False_, 0.0):
        assert lg.maxPooling2dLayer(2, HasUnpoolingOutputs=value).HasUnpoolingOutputs is False


def test_refused_weights_leave_the_inferred_sizes_unchanged():
    conv = lg.convolution2dLayer(3, 2)
    with pytest.raises(MException):
        conv.Weights = np.ones((2, 2, 5, 2))                # wrong filter size
    assert conv.NumChannels == "auto" and conv.Weights is None
    fc = lg.fullyConnectedLayer(3)
    with pytest.raises(MException):
        fc.Weights = np.ones((4, 7))                        # wrong output size
    assert fc.InputSize == "auto"
    fc.Weights = np.ones((3, 7))
    assert fc.InputSize == 7


@pytest.mark.parametrize("epsilon", [np.inf, np.nan, 1e-6, "1e-3"])
def test_batchnorm_epsilon_finite_and_at_least_1e_5(epsilon):
    _raises("nnet_cnn:batchNormalizationLayer:InvalidEpsilon", lg.batchNormalizationLayer, Epsilon=epsilon)
