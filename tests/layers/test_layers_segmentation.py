"""Transposed convolution, concatenation, crop and the pixel output layers: MATLAB displays,
defaults, validation, sizes, execution (finite differences) and losses."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import layergraph as lg
from layergraph import MException
from helpers.layer_check import check_layer, internal_params, matlab_size
from layergraph.layers.context import ForwardContext


# ---- transposed convolution ----------------------------------------------------------------
def test_transposed_conv3d_documented_example():
    layer = lg.transposedConv3dLayer(11, 32, "Stride", [4, 4, 2])
    assert repr(layer).splitlines()[:10] == [
        "  TransposedConvolution3DLayer with properties:", "",
        "            Name: ''", "",
        "   Hyperparameters",
        "      FilterSize: [11 11 11]",
        "     NumChannels: 'auto'",
        "      NumFilters: 32",
        "          Stride: [4 4 2]",
        "    CroppingMode: 'manual'"]
    assert "    CroppingSize: [2x3 double]" in repr(layer)
    assert layer.CroppingSize == ((0, 0, 0), (0, 0, 0)) and layer.Weights is None
    assert layer.WeightsInitializer == "glorot" and layer.BiasL2Factor == 0
    assert layer.Type == "3-D Transposed Convolution"


@pytest.mark.parametrize("cropping, mode, size", [
    (0, "manual", (0, 0, 0, 0)), (1, "manual", (1, 1, 1, 1)), ([1, 2], "manual", (1, 1, 2, 2)),
    ([1, 2, 3, 4], "manual", (1, 2, 3, 4)), ("same", "same", (0, 0, 0, 0))])
def test_transposed_conv2d_cropping_forms(cropping, mode, size):
    layer = lg.transposedConv2dLayer(4, 8, Cropping=cropping)
    assert (layer.CroppingMode, layer.CroppingSize) == (mode, size)


def test_transposed_conv_descriptions_and_sizes():
    layer = lg.transposedConv2dLayer(2, 8, Stride=2)
    assert layer.description() == \
        "8 2x2 transposed convolutions with stride [2  2] and cropping [0  0  0  0]"
    assert layer.output_sizes([(16, 12, 4)]) == [(32, 24, 8)]
    same = lg.transposedConv3dLayer([4, 3, 2], 5, Stride=[2, 3, 2], Cropping="same")
    assert same.output_sizes([(4, 5, 6, 3)]) == [(8, 15, 12, 5)]
    assert same.description().endswith("cropping 'same'")
    init = same.initialize([(4, 5, 6, 3)], np.random.default_rng(0))
    assert init.CroppingMode == "same" and init.CroppingSize == ((1, 0, 0), (1, 0, 0))
    assert init.Weights.shape == (4, 3, 2, 5, 3) and init.Bias.shape == (1, 1, 1, 5)
    assert init.NumChannels == 3 and init.description().startswith("5 4x3x2x3 transposed")
    manual = lg.transposedConv3dLayer(3, 2, Cropping=[[0, 1, 2], [1, 0, 2]])
    assert manual.output_sizes([(4, 4, 4, 1)]) == [(5, 5, 2, 2)]
    assert "cropping [0  1  2;1  0  2]" in manual.description()


@pytest.mark.parametrize("make, ident", [
    (lambda: lg.transposedConv2dLayer(0, 3), "nnet_cnn:transposedConv2dLayer:InvalidFilterSize"),
    (lambda: lg.transposedConv2dLayer(3, 2.5), "nnet_cnn:transposedConv2dLayer:InvalidNumFilters"),
    (lambda: lg.transposedConv2dLayer(3, 2, Cropping="valid"),
     "MATLAB:transposedConv2dLayer:unrecognizedStringChoice"),
    (lambda: lg.transposedConv3dLayer(3, 2, Cropping=[1, 2]),
     "nnet_cnn:transposedConv3dLayer:InvalidCropping"),
    (lambda: lg.transposedConv2dLayer(3, 2, Weights=np.ones((3, 3, 4, 1))),
     "nnet_cnn:transposedConv2dLayer:InvalidWeightsSize"),
    (lambda: lg.transposedConv2dLayer(3, 2, Bias=np.ones(3)),
     "nnet_cnn:transposedConv2dLayer:InvalidBiasSize"),
    (lambda: lg.transposedConv2dLayer(3, 2, Foo=1), "MATLAB:transposedConv2dLayer:invalidParameterName"),
])
def test_transposed_conv_bad_input(make, ident):
    with pytest.raises(MException) as info:
        make()
    assert info.value.identifier == ident
    assert "Received" in info.value.message or "Allowed names" in info.value.message


def test_transposed_conv_size_errors():
    with pytest.raises(MException, match="FilterSize >= Stride"):
        lg.transposedConv2dLayer(2, 3, Stride=3, Cropping="same").output_sizes([(4, 4, 1)])
    with pytest.raises(MException) as info:
        lg.transposedConv2dLayer(2, 3, Cropping=[2, 2]).output_sizes([(1, 4, 1)])
    assert info.value.identifier == "nnet_cnn:transposedConv2dLayer:CroppingTooLarge"
    with pytest.raises(MException) as info:
        lg.transposedConv2dLayer(2, 3, NumChannels=2).output_sizes([(4, 4, 1)])
    assert info.value.identifier == "nnet_cnn:transposedConv2dLayer:WrongNumChannels"


def test_transposed_conv_weights_layout_and_numchannels_inference(rng):
    w = rng.standard_normal((3, 2, 5, 4)).astype(np.float32)     # h x w x F x C
    layer = lg.transposedConv2dLayer([3, 2], 5, Weights=w, Bias=np.zeros((1, 1, 5)))
    assert layer.NumChannels == 4
    internal = layer.to_internal("Weights", w, np, np.float64)
    assert internal.shape == (4, 5, 3, 2)                         # (C, F, *K)
    np.testing.assert_array_equal(layer.from_internal("Weights", internal), w)


@pytest.mark.parametrize("layer, size", [
    (lg.transposedConv2dLayer(3, 2, Stride=2, Cropping=[1, 0]), (3, 4, 2)),
    (lg.transposedConv2dLayer([2, 3], 3, Stride=[2, 1], Cropping="same"), (2, 3, 1)),
    (lg.transposedConv3dLayer(2, 2, Stride=2), (2, 3, 2, 3)),
    (lg.transposedConv3dLayer(3, 2, Cropping=[[1, 0, 1], [0, 1, 1]]), (2, 2, 3, 2)),
], ids=lambda v: type(v).__name__ if isinstance(v, lg.Layer) else str(v))
def test_transposed_conv_execution(layer, size, rng):
    x = rng.standard_normal((size[-1], 2, *size[:-1]))
    check_layer(layer, [x], rng)


# ---- concatenation -------------------------------------------------------------------------
def test_concatenation_documented_example():
    layer = lg.concatenationLayer(4, 2, "Name", "concat")
    assert repr(layer).splitlines()[:6] == [
        "  ConcatenationLayer with properties:", "",
        "          Name: 'concat'", "           Dim: 4", "     NumInputs: 2",
        "    InputNames: {'in1'  'in2'}"]
    assert layer.description() == "Concatenation of 2 inputs along dimension 4"
    assert layer.Type == "Concatenation"
    with pytest.raises(MException):
        layer.Dim = 3


@pytest.mark.parametrize("dim, sizes, out", [
    (4, [(4, 4, 4, 2), (4, 4, 4, 3)], (4, 4, 4, 5)), (3, [(5, 6, 1), (5, 6, 2)], (5, 6, 3)),
    (1, [(2, 3, 4), (5, 3, 4)], (7, 3, 4)), (2, [(2, 3, 4, 1), (2, 2, 4, 1)], (2, 5, 4, 1))])
def test_concatenation_sizes_and_execution(dim, sizes, out, rng):
    layer = lg.concatenationLayer(dim, len(sizes))
    assert layer.output_sizes(sizes) == [out]
    xs = [rng.standard_normal((s[-1], 2, *s[:-1])) for s in sizes]
    check_layer(layer, xs, rng)


def test_concatenation_errors():
    with pytest.raises(MException) as info:
        lg.concatenationLayer(0, 2)
    assert info.value.identifier == "nnet_cnn:concatenationLayer:InvalidDim"
    with pytest.raises(MException) as info:
        lg.concatenationLayer(3, 1)
    assert info.value.identifier == "nnet_cnn:concatenationLayer:InvalidNumInputs"
    with pytest.raises(MException) as info:
        lg.concatenationLayer(5, 2).output_sizes([(2, 2, 2, 1)] * 2)
    assert info.value.identifier == "nnet_cnn:concatenationLayer:InvalidDim"
    with pytest.raises(MException) as info:
        lg.concatenationLayer(3, 2).output_sizes([(2, 2, 1), (2, 3, 1)])
    assert info.value.identifier == "nnet_cnn:concatenationLayer:InputSizeMismatch"


# ---- crop ----------------------------------------------------------------------------------
def test_crop_layers_display_and_defaults():
    c2 = lg.crop2dLayer("Name", "crop")
    assert repr(c2).splitlines()[:7] == [
        "  Crop2DLayer with properties:", "", "          Name: 'crop'",
        "          Mode: 'centercrop'", "      Location: 'auto'", "     NumInputs: 2",
        "    InputNames: {'in'  'ref'}"]
    custom = lg.crop2dLayer([3, 4])
    assert (custom.Mode, custom.Location) == ("custom", (3, 4))
    assert custom.description() == "crop at location [3  4]" and c2.description() == "center crop"
    c3 = lg.crop3dLayer([1, 2, 3], Name="c")
    assert c3.CropLocation == (1, 2, 3) and c3.InputNames == ("in", "ref") and c3.Type == "Crop 3D"
    assert lg.crop3dLayer().CropLocation == "centercrop"


def test_crop_sizes_locations_and_errors(rng):
    assert lg.crop2dLayer().output_sizes([(9, 8, 3), (4, 4, 7)]) == [(4, 4, 3)]
    assert lg.crop3dLayer().output_sizes([(9, 8, 7, 3), (4, 4, 4, 1)]) == [(4, 4, 4, 3)]
    x = rng.standard_normal((1, 1, 6, 7))
    ref = np.zeros((1, 1, 3, 2))
    (y,), _, _ = lg.crop2dLayer([4, 2]).forward({}, [x, ref], ForwardContext(False))   # X = column 4, Y = row 2
    np.testing.assert_array_equal(y, x[:, :, 1:4, 3:5])
    (y,), _, _ = lg.crop2dLayer().forward({}, [x, ref], ForwardContext(False))
    np.testing.assert_array_equal(y, x[:, :, 1:4, 2:4])
    for bad in ([(4, 4, 1), (5, 4, 1)], [(4, 4, 1)], [(4, 4, 1), (2, 2, 2, 1)]):
        with pytest.raises(MException):
            lg.crop2dLayer().output_sizes(bad)
    with pytest.raises(MException) as info:
        lg.crop2dLayer([4, 4]).output_sizes([(5, 5, 1), (3, 3, 1)])
    assert info.value.identifier == "nnet_cnn:crop2dLayer:CropWindowOutsideInput"
    with pytest.raises(MException) as info:
        lg.crop3dLayer([1, 2])
    assert info.value.identifier == "nnet_cnn:crop3dLayer:InvalidCropLocation"


@pytest.mark.parametrize("layer, sizes", [
    (lg.crop2dLayer(), [(7, 6, 2), (4, 3, 5)]), (lg.crop3dLayer([2, 1, 3]), [(5, 6, 7, 2), (3, 4, 2, 1)])])
def test_crop_execution(layer, sizes, rng):
    xs = [rng.standard_normal((s[-1], 2, *s[:-1])) for s in sizes]
    layer = layer.initialize(sizes, rng)
    (y,), cache, _ = layer.forward({}, xs, ForwardContext(False))
    assert matlab_size(y) == layer.output_sizes(sizes)[0]
    dxs, _ = layer.backward({}, [np.ones_like(y)], cache)
    assert dxs[1] is None and dxs[0].shape == xs[0].shape and dxs[0].sum() == y.size


# ---- pixel output layers -------------------------------------------------------------------
def test_pixel_classification_display_and_descriptions():
    layer = lg.pixelClassificationLayer()
    assert repr(layer).splitlines()[:9] == [
        "  PixelClassificationLayer with properties:", "", "            Name: ''",
        "         Classes: 'auto'", "    ClassWeights: 'none'", "      OutputSize: 'auto'", "",
        "   Hyperparameters", "    LossFunction: 'crossentropyex'"]
    assert layer.Type == "Pixel Classification Layer" and layer.description() == "Cross-entropy loss"
    weighted = lg.pixelClassificationLayer(Classes=["sky", "road", "car"], ClassWeights=[1, 2, 3])
    assert weighted.description() == "Class weighted cross-entropy loss with 'sky' and 2 other classes"
    assert weighted.OutputSize == 3
    with pytest.raises(MException) as info:
        lg.pixelClassificationLayer(Classes=["a", "b"], ClassWeights=[1, 2, 3])
    assert info.value.identifier == "nnet_cnn:pixelClassificationLayer:ClassWeightsSizeMismatch"


def test_dice_display_and_properties():
    layer = lg.dicePixelClassificationLayer("Name", "dice", "Classes", ["a", "b"])
    assert repr(layer).splitlines()[:8] == [
        "  DicePixelClassificationLayer with properties:", "", "            Name: 'dice'",
        "         Classes: {'a'  'b'}", "      OutputSize: 2", "", "   Hyperparameters",
        "    LossFunction: 'gdl'"]
    assert layer.description() == "Generalized Dice loss with classes 'a' and 'b'"
    assert "ClassWeights" not in layer.properties()
    with pytest.raises(MException):
        lg.dicePixelClassificationLayer(ClassWeights=[1, 2])
    assert layer.initialize([(4, 4, 4, 2)], None).OutputSize == 2


def _pixel_batch(rng, k=3, spatial=(4, 5)):
    y = np.exp(rng.standard_normal((k, 2) + spatial))
    y /= y.sum(axis=0)
    t = (np.arange(k).reshape((-1,) + (1,) * (1 + len(spatial)))
         == rng.integers(0, k, (2,) + spatial)).astype(float)
    return y, t


def test_pixel_layer_loss_and_gradient(rng):
    from helpers.gradcheck import check_gradients
    y, t = _pixel_batch(rng)
    t[:, 0, 0, 0] = 0                                           # one unlabelled pixel
    layer = lg.pixelClassificationLayer(Classes=["a", "b", "c"], ClassWeights=[1.0, 0.5, 2.0])
    loss, cache = layer.loss(y, t)
    w = np.array([1.0, 0.5, 2.0]).reshape(-1, 1, 1, 1)
    assert np.isclose(float(loss), -(w * t * np.log(y)).sum() / (2 * 20 - 1))
    check_gradients(lambda y: layer.loss(y, t)[0], (y,), (layer.loss_backward(cache),), rng)


def test_dice_layer_loss_and_gradient(rng):
    from helpers.gradcheck import check_gradients
    y, t = _pixel_batch(rng, spatial=(3, 3, 2))
    layer = lg.dicePixelClassificationLayer()
    loss, cache = layer.loss(y, t)
    assert 0 < float(loss) < 1
    check_gradients(lambda y: layer.loss(y, t)[0], (y,), (layer.loss_backward(cache),), rng)
    assert abs(float(layer.loss(t, t)[0])) < 1e-12


# ---- properties round trip -----------------------------------------------------------------
@pytest.mark.parametrize("layer", [
    lg.transposedConv3dLayer(2, 4, Stride=2, Cropping="same", Name="up"),
    lg.transposedConv2dLayer(3, 2, Cropping=[1, 2, 0, 1]).initialize([(4, 4, 3)], np.random.default_rng(1)),
    lg.concatenationLayer(4, 3), lg.crop2dLayer([2, 3]), lg.crop2dLayer(), lg.crop3dLayer([1, 1, 2]),
    lg.pixelClassificationLayer(Classes=["a", "b"], ClassWeights=[2.0, 1.0]),
    lg.dicePixelClassificationLayer(Classes=["x", "y"])], ids=lambda l: type(l).__name__)
def test_properties_round_trip(layer):
    props = layer.properties()
    arrays = {k: v for k, v in props.items() if isinstance(v, np.ndarray)}
    rest = json.loads(json.dumps({k: v for k, v in props.items() if k not in arrays}))
    back = type(layer).from_properties({**rest, **arrays})
    assert repr(back) == repr(layer) and back.description() == layer.description()
    for k, v in back.properties().items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(v, props[k])
        else:
            assert v == props[k] and type(v) is type(props[k]), k


# ---- focal loss layer ----------------------------------------------------------------------
def test_focal_loss_layer_properties_and_validation():
    layer = lg.focalLossLayer(Classes=["a", "b"], Gamma=3, Name="focal")
    assert (layer.Gamma, layer.Alpha, layer.OutputSize) == (3.0, 0.25, 2)
    assert layer.Type == "Focal Loss Layer"
    assert layer.description() == "Focal loss with classes 'a' and 'b'"
    assert "ClassWeights" not in layer.properties()
    for bad in ({"Gamma": 0}, {"Alpha": -1}, {"Gamma": np.inf}, {"ClassWeights": [1, 2]}):
        with pytest.raises(MException):
            lg.focalLossLayer(**bad)
    props = layer.properties()
    back = lg.FocalLossLayer.from_properties(json.loads(json.dumps(props)))
    assert repr(back) == repr(layer)


def test_focal_loss_layer_trains_a_classifier(rng):
    import pandas as pd
    X = rng.standard_normal((2, 2, 1, 24)).astype(np.float32)
    Y = pd.Categorical(np.where(X.sum(axis=(0, 1, 2)) > 0, "p", "n"))
    layers = [lg.imageInputLayer([2, 2, 1], Name="in"), lg.fullyConnectedLayer(2, Name="fc"),
              lg.softmaxLayer(Name="sm"), lg.focalLossLayer(Name="focal", Alpha=1)]
    net, info = lg.trainNetwork(X, Y, layers, lg.trainingOptions(
        "adam", MaxEpochs=8, MiniBatchSize=8, Verbose=False, InitialLearnRate=0.05))
    assert info.TrainingLoss[-1] < info.TrainingLoss[0]
    assert type(net.Layers[-1]).__name__ == "FocalLossLayer"


# ---- property-based: sizes agree with execution ----------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([2, 3]), st.data())
def test_transposed_conv_layer_sizes_match_forward(ndim, data):
    sizes = tuple(data.draw(st.integers(1, 4)) for _ in range(ndim))
    filt = tuple(data.draw(st.integers(1, 4)) for _ in range(ndim))
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(ndim))
    same = data.draw(st.booleans()) and all(k >= s for k, s in zip(filt, stride))
    make = lg.transposedConv2dLayer if ndim == 2 else lg.transposedConv3dLayer
    if same:
        layer = make(filt, 2, Stride=stride, Cropping="same")
    else:
        crop = [data.draw(st.integers(0, (n - 1) * s + k - 1) if k > 1 else st.just(0)) // 2
                for n, k, s in zip(sizes, filt, stride)]
        layer = make(filt, 2, Stride=stride, Cropping=crop)
    size = (*sizes, 3)
    (out,) = layer.output_sizes([size])
    if same:
        assert out[:-1] == tuple(n * s for n, s in zip(sizes, stride))
    layer = layer.initialize([size], np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((3, 2, *sizes))
    (y,), _, _ = layer.forward(internal_params(layer), [x], ForwardContext(False))
    assert matlab_size(y) == out
