"""Constructor defaults, name-value parsing and validation errors of every layer."""
import numpy as np
import pytest

import layergraph as lg
from layergraph import MException


def raises(ident, *words):
    """Context: an MException with this identifier whose message contains ``words``."""
    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(MException)
            self.info = self.ctx.__enter__()

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            err = self.info.value
            assert err.identifier == ident, err.identifier
            for w in words:
                assert w in err.message, (w, err.message)
            return handled
    return _Check()


def test_convolution3d_defaults():
    c = lg.convolution3dLayer(3, 16)
    assert isinstance(c, lg.Convolution3DLayer)
    assert c.FilterSize == (3, 3, 3) and c.NumFilters == 16 and c.NumChannels == "auto"
    assert c.Stride == (1, 1, 1) and c.DilationFactor == (1, 1, 1)
    assert c.PaddingMode == "manual" and c.PaddingSize == ((0, 0, 0), (0, 0, 0)) and c.PaddingValue == 0
    assert c.Weights is None and c.Bias is None
    assert c.WeightsInitializer == "glorot" and c.BiasInitializer == "zeros"
    assert (c.WeightLearnRateFactor, c.BiasLearnRateFactor, c.WeightL2Factor, c.BiasL2Factor) == (1, 1, 1, 0)
    assert c.Name == "" and c.NumInputs == 1 and c.InputNames == ("in",) and c.OutputNames == ("out",)
    assert c.LEARNABLES == ("Weights", "Bias") and c.DEFAULT_NAME == "conv"


def test_convolution2d_doc_example_and_padding_forms():
    c = lg.convolution3dLayer(11, 96, "Stride", 4, "Padding", 1)
    assert c.FilterSize == (11, 11, 11) and c.Stride == (4, 4, 4)
    assert c.PaddingSize == ((1, 1, 1), (1, 1, 1))
    assert lg.convolution2dLayer(3, 8, Padding=[1, 2]).PaddingSize == (1, 1, 2, 2)
    assert lg.convolution2dLayer(3, 8, Padding=[1, 2, 3, 4]).PaddingSize == (1, 2, 3, 4)
    assert lg.convolution3dLayer(3, 8, Padding=[1, 2, 3]).PaddingSize == ((1, 2, 3), (1, 2, 3))
    assert lg.convolution3dLayer(3, 8, Padding=[[1, 2, 3], [4, 5, 6]]).PaddingSize == ((1, 2, 3), (4, 5, 6))
    same = lg.convolution2dLayer([3, 5], 8, padding="SA")
    assert same.PaddingMode == "same" and same.FilterSize == (3, 5)


def test_name_value_names_are_case_insensitive_and_prefixes():
    c = lg.convolution2dLayer(3, 4, "stride", 2, "NAME", "c1", weightsinit="he")
    assert c.Stride == (2, 2) and c.Name == "c1" and c.WeightsInitializer == "he"
    with raises("MATLAB:convolution2dLayer:invalidParameterName", "Bogus"):
        lg.convolution2dLayer(3, 4, Bogus=1)
    with raises("MATLAB:convolution2dLayer:nameValuePairs"):
        lg.convolution2dLayer(3, 4, "Stride")


@pytest.mark.parametrize("kwargs, ident, words", [
    (dict(filterSize=0), "nnet_cnn:convolution3dLayer:InvalidFilterSize", ["FilterSize", "Received"]),
    (dict(filterSize=[3, 3]), "nnet_cnn:convolution3dLayer:InvalidFilterSize", ["FilterSize"]),
    (dict(numFilters=2.5), "nnet_cnn:convolution3dLayer:InvalidNumFilters", ["NumFilters", "2.5"]),
    (dict(Stride=-1), "nnet_cnn:convolution3dLayer:InvalidStride", ["Stride", "-1"]),
    (dict(DilationFactor=[1, 2]), "nnet_cnn:convolution3dLayer:InvalidDilationFactor", ["DilationFactor"]),
    (dict(Padding="valid"), "MATLAB:convolution3dLayer:unrecognizedStringChoice", ["Padding", "valid"]),
    (dict(Padding=[1, 2, 3, 4]), "nnet_cnn:convolution3dLayer:InvalidPadding", ["Padding", "2x3"]),
    (dict(Padding=-1), "nnet_cnn:convolution3dLayer:InvalidPadding", ["Padding"]),
    (dict(PaddingValue="mirror"), "MATLAB:convolution3dLayer:unrecognizedStringChoice", ["replicate"]),
    (dict(PaddingValue=[1, 2]), "nnet_cnn:convolution3dLayer:InvalidPaddingValue", ["PaddingValue"]),
    (dict(WeightsInitializer="xavier"), "MATLAB:convolution3dLayer:unrecognizedStringChoice", ["glorot", "xavier"]),
    (dict(BiasInitializer="he"), "MATLAB:convolution3dLayer:unrecognizedStringChoice", ["BiasInitializer"]),
    (dict(WeightLearnRateFactor=-1), "nnet_cnn:convolution3dLayer:InvalidWeightLearnRateFactor", ["nonnegative"]),
    (dict(BiasL2Factor="a"), "nnet_cnn:convolution3dLayer:InvalidBiasL2Factor", ["BiasL2Factor"]),
    (dict(Name=3), "nnet_cnn:convolution3dLayer:InvalidName", ["Name"]),
    (dict(NumChannels=0), "nnet_cnn:convolution3dLayer:InvalidNumChannels", ["NumChannels"]),
    (dict(Weights=np.zeros((3, 3, 3, 2, 5))), "nnet_cnn:convolution3dLayer:InvalidWeightsSize", ["3x3x3x2x4"]),
    (dict(Bias=np.zeros((1, 1, 4))), "nnet_cnn:convolution3dLayer:InvalidBiasSize", ["1x1x1x4"]),
])
def test_convolution_validation(kwargs, ident, words):
    args = {"filterSize": 3, "numFilters": 4, **kwargs}
    with raises(ident, *words):
        lg.convolution3dLayer(args.pop("filterSize"), args.pop("numFilters"), **args)


def test_convolution_weights_set_at_construction():
    w = np.ones((3, 3, 2, 4), np.float32)
    c = lg.convolution2dLayer(3, 4, Weights=w, Bias=np.zeros((1, 1, 4)))
    assert c.NumChannels == 2 and c.Weights.shape == (3, 3, 2, 4) and c.Bias.shape == (1, 1, 4)
    c1 = lg.convolution2dLayer(3, 1, Weights=np.ones((3, 3, 2)))  # MATLAB drops the trailing 1
    assert c1.Weights.shape == (3, 3, 2, 1)
    with raises("nnet_cnn:convolution2dLayer:InvalidWeightsSize", "3x3x5x4"):
        lg.convolution2dLayer(3, 4, NumChannels=5, Weights=w)


def test_property_set_is_validated_and_unknown_properties_rejected():
    c = lg.convolution2dLayer(3, 4)
    c.WeightLearnRateFactor = 0
    assert c.WeightLearnRateFactor == 0
    with raises("nnet_cnn:convolution2dLayer:InvalidStride", "Stride"):
        c.Stride = 0
    with raises("MATLAB:noPublicFieldForClass", "Weigths"):
        c.Weigths = 1
    assert c.copy(Name="x").Name == "x" and c.Name == ""


def test_batchnorm_defaults_and_validation():
    b = lg.batchNormalizationLayer(Name="bn")
    assert (b.Epsilon, b.MeanDecay, b.VarianceDecay) == (1e-5, 0.1, 0.1)
    assert b.NumChannels == "auto" and b.Offset is None and b.TrainedMean is None
    assert b.OffsetInitializer == "zeros" and b.ScaleInitializer == "ones"
    assert all(getattr(b, f) == 1 for f in ("OffsetLearnRateFactor", "ScaleLearnRateFactor",
                                            "OffsetL2Factor", "ScaleL2Factor"))
    assert b.LEARNABLES == ("Offset", "Scale") and b.STATES == ("TrainedMean", "TrainedVariance")
    with raises("nnet_cnn:batchNormalizationLayer:InvalidEpsilon", "1e-05", "1e-06"):
        lg.batchNormalizationLayer(Epsilon=1e-6)
    with raises("nnet_cnn:batchNormalizationLayer:InvalidMeanDecay", "[0, 1]"):
        lg.batchNormalizationLayer(MeanDecay=2)
    with raises("nnet_cnn:batchNormalizationLayer:InvalidScaleSize", "3 channels"):
        lg.batchNormalizationLayer(Offset=np.zeros((1, 1, 1, 3)), Scale=np.ones((1, 1, 1, 4)))
    with raises("nnet_cnn:batchNormalizationLayer:InvalidOffsetSize", "1x1xC"):
        lg.batchNormalizationLayer(Offset=np.zeros((2, 1, 3)))
    b3 = lg.batchNormalizationLayer(TrainedMean=np.zeros((1, 1, 1, 3)), TrainedVariance=np.ones((1, 1, 1, 3)))
    assert b3.NumChannels == 3 and b3.TrainedVariance.shape == (1, 1, 1, 3)


def test_input_layers():
    i3 = lg.image3dInputLayer([132, 132, 116, 3], Name="input")
    assert i3.InputSize == (132, 132, 116, 3) and i3.Normalization == "zerocenter"
    assert i3.NormalizationDimension == "auto" and i3.Mean is None and i3.NumInputs == 0
    assert lg.image3dInputLayer([64, 64, 64]).InputSize == (64, 64, 64, 1)
    assert lg.imageInputLayer([28, 28]).InputSize == (28, 28, 1)
    assert lg.imageInputLayer([28, 28, 3], Normalization="zs").Normalization == "zscore"
    m = lg.imageInputLayer([4, 4, 3], Mean=np.arange(3.0).reshape(1, 1, 3))
    assert m.Mean.shape == (1, 1, 3)
    assert lg.imageInputLayer([4, 4, 3], Mean=np.zeros((4, 4, 3))).Mean.shape == (4, 4, 3)
    scalar = lg.imageInputLayer([4, 4, 3], NormalizationDimension="channel", Mean=0.5)
    assert scalar.Mean.size == 1 and float(scalar.Mean.ravel()[0]) == 0.5
    with raises("nnet_cnn:imageInputLayer:InvalidMean", "1x1x3"):
        lg.imageInputLayer([4, 4, 3], Mean=np.zeros((1, 1, 2)))
    with raises("nnet_cnn:image3dInputLayer:InvalidInputSize", "InputSize"):
        lg.image3dInputLayer([64, 64])
    with raises("MATLAB:imageInputLayer:unrecognizedStringChoice", "rescale-"):
        lg.imageInputLayer([4, 4], Normalization="rescale")
    with raises("nnet_cnn:imageInputLayer:InvalidStandardDeviation", "positive"):
        lg.imageInputLayer([4, 4], Normalization="zscore", StandardDeviation=0)


def test_pooling_layers():
    m = lg.maxPooling3dLayer(3, Stride=2, Padding="same")
    assert m.PoolSize == (3, 3, 3) and m.Stride == (2, 2, 2) and m.PaddingMode == "same"
    assert lg.maxPooling2dLayer(2).Stride == (1, 1)
    assert lg.maxPooling2dLayer(2).HasUnpoolingOutputs is False
    a = lg.averagePooling3dLayer([2, 3, 4], PaddingValue="mean")
    assert a.PoolSize == (2, 3, 4) and a.PaddingValue == "mean"
    assert lg.averagePooling2dLayer(2).PaddingValue == 0
    with raises("nnet_cnn:averagePooling2dLayer:InvalidPaddingValue", '"mean"'):
        lg.averagePooling2dLayer(2, PaddingValue=1)
    with raises("nnet_cnn:maxPooling2dLayer:PaddingSizeLargerThanOrEqualToPoolSize", "PoolSize=[2, 2]"):
        lg.maxPooling2dLayer(2, Padding=[0, 0, 2, 0])
    with raises("nnet_cnn:averagePooling3dLayer:PaddingSizeLargerThanOrEqualToPoolSize", "smaller"):
        lg.averagePooling3dLayer([3, 3, 1], Padding=1)
    with raises("nnet_cnn:maxPooling3dLayer:InvalidPoolSize", "PoolSize"):
        lg.maxPooling3dLayer([2, 2])
    with raises("nnet_cnn:maxPooling2dLayer:InvalidHasUnpoolingOutputs", "not supported"):
        lg.maxPooling2dLayer(2, HasUnpoolingOutputs=True)
    assert lg.globalAveragePooling3dLayer(Name="gap").Name == "gap"


def test_combination_layers():
    a = lg.additionLayer(3, Name="add")
    assert a.NumInputs == 3 and a.InputNames == ("in1", "in2", "in3") and a.OutputNames == ("out",)
    d = lg.depthConcatenationLayer(2)
    assert d.InputNames == ("in1", "in2")
    with raises("nnet_cnn:additionLayer:InvalidNumInputs", "greater than or equal to 2", "1"):
        lg.additionLayer(1)
    with raises("MATLAB:class:SetProhibited", "InputNames"):
        a.InputNames = ("a", "b", "c")


def test_fully_connected_layer():
    f = lg.fullyConnectedLayer(10)
    assert f.OutputSize == 10 and f.InputSize == "auto" and f.Weights is None
    assert f.WeightsInitializer == "glorot" and f.BiasL2Factor == 0 and f.WeightL2Factor == 1
    g = lg.fullyConnectedLayer(2, Weights=np.ones((2, 6)), Bias=np.zeros(2))
    assert g.InputSize == 6 and g.Bias.shape == (2, 1)
    with raises("nnet_cnn:fullyConnectedLayer:InvalidOutputSize", "OutputSize"):
        lg.fullyConnectedLayer(0)
    with raises("nnet_cnn:fullyConnectedLayer:InvalidBiasSize", "3x1"):
        lg.fullyConnectedLayer(3, Bias=np.zeros(2))


def test_output_layers():
    c = lg.classificationLayer()
    assert c.Classes == "auto" and c.ClassWeights == "none" and c.OutputSize == "auto"
    assert c.LossFunction == "crossentropyex" and c.NumOutputs == 0 and c.InputNames == ("in",)
    k = lg.classificationLayer(Classes=["cat", "dog"], ClassWeights=[1, 2])
    assert k.Classes == ("cat", "dog") and k.OutputSize == 2 and k.ClassWeights.tolist() == [1, 2]
    with raises("nnet_cnn:classificationLayer:ClassWeightsSizeMismatch", "2"):
        lg.classificationLayer(Classes=["a", "b"], ClassWeights=[1, 2, 3])
    with raises("nnet_cnn:classificationLayer:InvalidClasses", "unique"):
        lg.classificationLayer(Classes=["a", "a"])
    with raises("nnet_cnn:classificationLayer:InvalidClassWeights", "positive"):
        lg.classificationLayer(ClassWeights=[0, 1])
    r = lg.regressionLayer(Name="out", ResponseNames=["y"])
    assert r.LossFunction == "mse" and r.ResponseNames == ("y",) and r.NumOutputs == 0


def test_relu_softmax():
    assert lg.reluLayer(Name="r").Name == "r" and lg.reluLayer().DEFAULT_NAME == "relu"
    assert lg.softmaxLayer("Name", "sm").Name == "sm"
    with raises("MATLAB:reluLayer:invalidParameterName", "Alpha"):
        lg.reluLayer(Alpha=1)


CONSTRUCTORS = [
    ("imageInputLayer", ([8, 8],)), ("image3dInputLayer", ([8, 8, 8],)),
    ("convolution2dLayer", (3, 4)), ("convolution3dLayer", (3, 4)), ("batchNormalizationLayer", ()),
    ("reluLayer", ()), ("softmaxLayer", ()), ("maxPooling2dLayer", (2,)), ("maxPooling3dLayer", (2,)),
    ("averagePooling2dLayer", (2,)), ("averagePooling3dLayer", (2,)),
    ("globalAveragePooling2dLayer", ()), ("globalAveragePooling3dLayer", ()),
    ("additionLayer", (2,)), ("depthConcatenationLayer", (2,)), ("fullyConnectedLayer", (3,)),
    ("classificationLayer", ()), ("regressionLayer", ()),
]


@pytest.mark.parametrize("func, args", CONSTRUCTORS, ids=[c[0] for c in CONSTRUCTORS])
def test_every_constructor_takes_name_pairs_and_rejects_unknown_names(func, args):
    make = getattr(lg, func)
    layer = make(*args, "name", "L1")
    assert layer.Name == "L1" and make(*args, Name="L2").Name == "L2" and make(*args).Name == ""
    assert type(layer).__name__ in lg.__all__ and layer.FUNC == func
    assert layer.Type and layer.description() and repr(layer).startswith(f"  {type(layer).__name__} with")
    with raises(f"MATLAB:{func}:invalidParameterName", "Nonsense", "Allowed names"):
        make(*args, Nonsense=1)
    with raises(f"nnet_cnn:{func}:InvalidName", "Name", "Received"):
        make(*args, Name=["x"])


def test_pooling_and_input_defaults():
    a = lg.averagePooling3dLayer(2)
    assert a.Stride == (1, 1, 1) and a.PaddingMode == "manual" and a.PaddingSize == ((0, 0, 0), (0, 0, 0))
    assert a.PaddingValue == 0 and a.DEFAULT_NAME == "avgpool"
    assert lg.maxPooling3dLayer(2).DEFAULT_NAME == "maxpool" and lg.globalAveragePooling3dLayer().DEFAULT_NAME == "gapool"
    i = lg.imageInputLayer([8, 8, 3])
    assert (i.StandardDeviation, i.Min, i.Max) == (None, None, None) and i.DEFAULT_NAME == "imageinput"
    assert i.OutputNames == ("out",) and i.InputNames == () and i.IS_INPUT
