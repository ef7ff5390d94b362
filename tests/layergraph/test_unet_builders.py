"""unet3dLayers / unetLayers / unet3d / unet: MATLAB's documented figures, names, settings, errors."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import layergraph as lg
from layergraph.builders import unet as unet_builders
from layergraph.graph.analysis import propagate_sizes
from layergraph.layers.errors import MException



@functools.lru_cache(maxsize=None)
def documented_3d():
    return lg.unet3dLayers([128, 128, 128, 3], 5, EncoderDepth=2, NumFirstEncoderFilters=16)


def layer(lgraph, name: str):
    (found,) = [x for x in lgraph.Layers if x.Name == name]
    return found


def rows(lgraph) -> set[tuple[str, str]]:
    return set(zip(lgraph.Connections["Source"], lgraph.Connections["Destination"]))


def output_size_by_propagation(lgraph) -> tuple[int, ...]:
    """Input size of the last layer, from every layer's output_sizes (no weights)."""
    seen = {}

    def record(layer_, in_sizes):
        seen[layer_.Name] = in_sizes[0] if in_sizes else None
        return layer_
    propagate_sizes(lgraph, record)
    return tuple(seen[lgraph.Layers[-1].Name])


# ---- documented figures ------------------------------------------------------------------

def test_unet3dlayers_documented_example():
    lgraph = documented_3d()
    assert (len(lgraph.Layers), len(lgraph.Connections)) == (40, 41)
    assert list(lgraph.InputNames) == ["ImageInputLayer"]
    assert list(lgraph.OutputNames) == ["Segmentation-Layer"]
    filters = {n: layer(lgraph, n).NumFilters for n in
               ("Encoder-Stage-1-Conv-1", "Encoder-Stage-2-Conv-1", "Encoder-Stage-1-Conv-2",
                "Encoder-Stage-2-Conv-2")}
    assert filters == {"Encoder-Stage-1-Conv-1": 16, "Encoder-Stage-2-Conv-1": 32,
                       "Encoder-Stage-1-Conv-2": 32, "Encoder-Stage-2-Conv-2": 64}


def test_unetlayers_documented_example():
    lgraph = lg.unetLayers([480, 640, 3], 5, EncoderDepth=3)
    assert (len(lgraph.Layers), len(lgraph.Connections)) == (46, 48)
    assert list(lgraph.InputNames) == ["ImageInputLayer"]
    assert list(lgraph.OutputNames) == ["Segmentation-Layer"]


def test_unet3d_documented_example():
    net = lg.unet3d([128, 128, 128, 3], 5, EncoderDepth=2, NumFirstEncoderFilters=16)
    assert (len(net.Layers), len(net.Connections), len(net.Learnables), len(net.State)) == (45, 48, 46, 20)
    assert list(net.InputNames) == ["encoderImageInputLayer"]
    assert list(net.OutputNames) == ["FinalNetworkSoftmax-Layer"]


def test_unet_documented_example():
    net = lg.unet([480, 640, 3], 5, EncoderDepth=3, NumFirstEncoderFilters=4)
    assert (len(net.Layers), len(net.Connections), len(net.Learnables), len(net.State)) == (48, 53, 36, 0)
    assert list(net.OutputNames) == ["FinalNetworkSoftmax-Layer"]


def test_brain_tumor_example_valid_padding_output_size():
    """MATLAB's 3-D brain tumor example: a 132^3 x 4 patch gives a 44^3 output with 'valid'."""
    lgraph, out = lg.unet3dLayers([132, 132, 132, 4], 2, ConvolutionPadding="valid", nargout=2)
    assert out == (44, 44, 44, 2)
    assert output_size_by_propagation(lgraph) == (44, 44, 44, 2)
    crops = [x.Name for x in lgraph.Layers if x.Name.startswith("Crop")]
    assert crops == ["Crop3d-1", "Crop3d-2", "Crop3d-3"]


# ---- names, order, settings ----------------------------------------------------------------

def test_unet3dlayers_names_in_layers_order():
    names = [x.Name for x in documented_3d().Layers]
    stage = [f"Conv-1", "BN-1", "ReLU-1", "Conv-2", "BN-2", "ReLU-2"]
    expected = (["ImageInputLayer"] + [f"Encoder-Stage-1-{s}" for s in stage]
                + ["Encoder-Stage-1-MaxPool"] + [f"Encoder-Stage-2-{s}" for s in stage]
                + ["Encoder-Stage-2-MaxPool"] + [f"Bridge-{s}" for s in stage]
                + ["Decoder-Stage-1-UpConv", "Decoder-Stage-1-Concatenation"]
                + [f"Decoder-Stage-1-{s}" for s in stage]
                + ["Decoder-Stage-2-UpConv", "Decoder-Stage-2-Concatenation"]
                + [f"Decoder-Stage-2-{s}" for s in stage]
                + ["Final-ConvolutionLayer", "Softmax-Layer", "Segmentation-Layer"])
    assert names == expected


def test_unet3dlayers_skip_connections_and_layer_settings():
    lgraph = documented_3d()
    assert {("Encoder-Stage-2-ReLU-2", "Decoder-Stage-1-Concatenation/in2"),
            ("Decoder-Stage-1-UpConv", "Decoder-Stage-1-Concatenation/in1"),
            ("Encoder-Stage-1-ReLU-2", "Decoder-Stage-2-Concatenation/in2"),
            ("Decoder-Stage-2-UpConv", "Decoder-Stage-2-Concatenation/in1")} <= rows(lgraph)
    up = layer(lgraph, "Decoder-Stage-1-UpConv")
    assert type(up).__name__ == "TransposedConvolution3DLayer"
    assert (tuple(up.FilterSize), tuple(up.Stride), up.NumFilters) == ((2, 2, 2), (2, 2, 2), 128)
    assert up.BiasLearnRateFactor == 2 and up.WeightsInitializer == "he"
    conv = layer(lgraph, "Encoder-Stage-1-Conv-1")
    assert conv.WeightsInitializer == "he" and conv.PaddingMode == "same"
    assert tuple(conv.FilterSize) == (3, 3, 3)
    assert layer(lgraph, "Decoder-Stage-2-Concatenation").Dim == 4
    pool = layer(lgraph, "Encoder-Stage-1-MaxPool")
    assert tuple(pool.PoolSize) == (2, 2, 2) and tuple(pool.Stride) == (2, 2, 2)
    assert type(layer(lgraph, "Segmentation-Layer")).__name__ == "PixelClassificationLayer"
    assert layer(lgraph, "Final-ConvolutionLayer").NumFilters == 5
    assert tuple(layer(lgraph, "ImageInputLayer").InputSize) == (128, 128, 128, 3)


def test_unetlayers_dropout_upconv_and_depth_concatenation():
    lgraph = lg.unetLayers([64, 64, 1], 2, EncoderDepth=2, NumFirstEncoderFilters=8)
    assert {("Encoder-Stage-2-ReLU-2", "Encoder-Stage-2-DropOut"),
            ("Encoder-Stage-2-ReLU-2", "Decoder-Stage-1-DepthConcatenation/in2"),
            ("Encoder-Stage-2-DropOut", "Encoder-Stage-2-MaxPool"),
            ("Bridge-ReLU-2", "Bridge-DropOut"), ("Bridge-DropOut", "Decoder-Stage-1-UpConv"),
            ("Decoder-Stage-1-UpReLU", "Decoder-Stage-1-DepthConcatenation/in1")} <= rows(lgraph)
    widths = {x.Name: x.NumFilters for x in lgraph.Layers if hasattr(x, "NumFilters")}
    assert widths["Encoder-Stage-1-Conv-2"] == 8 and widths["Encoder-Stage-2-Conv-1"] == 16
    assert widths["Bridge-Conv-1"] == widths["Bridge-Conv-2"] == 32
    assert widths["Decoder-Stage-1-UpConv"] == 16 and widths["Decoder-Stage-2-Conv-2"] == 8
    assert layer(lgraph, "Bridge-DropOut").Probability == 0.5
    assert not any("BN" in x.Name for x in lgraph.Layers)


def test_unet3d_crop_and_merge_connections():
    net = lg.unet3d([16, 16, 16, 1], 3, EncoderDepth=2, NumFirstEncoderFilters=2)
    assert {("Encoder-Stage-2-DropOut", "encoderDecoderSkipConnectionCrop2/in"),
            ("Decoder-Stage-1-UpReLU", "encoderDecoderSkipConnectionCrop2/ref"),
            ("encoderDecoderSkipConnectionCrop2", "encoderDecoderSkipConnectionFeatureMerge2/in1"),
            ("Decoder-Stage-1-UpReLU", "encoderDecoderSkipConnectionFeatureMerge2/in2"),
            ("Encoder-Stage-1-ReLU-2", "encoderDecoderSkipConnectionCrop1/in"),
            ("LatentNetwork-Bridge-DropOut", "Decoder-Stage-1-UpConv"),
            ("encoderDecoderFinalConvLayer", "FinalNetworkSoftmax-Layer")} <= rows(net)
    names = [x.Name for x in net.Layers]
    assert "LatentNetworkBridge-BN-1" in names and names[0] == "encoderImageInputLayer"


@pytest.mark.parametrize("builder,size", [(lg.unet3dLayers, [16, 16, 8]),
                                          (lg.unetLayers, [32, 16])])
def test_channels_default_to_one_and_output_size_second_output(builder, size):
    lgraph, out = builder(size, 3, EncoderDepth=2, NumFirstEncoderFilters=2, nargout=2)
    assert tuple(lgraph.Layers[0].InputSize) == (*size, 1)
    assert out == (*size, 3) == output_size_by_propagation(lgraph)


def test_forward_pass_of_a_small_unet3dlayers_network_keeps_the_spatial_size():
    lgraph = lg.unet3dLayers([8, 8, 8, 2], 3, EncoderDepth=1, NumFirstEncoderFilters=2)
    lgraph = lg.removeLayers(lgraph, "Segmentation-Layer")
    lgraph = lg.replaceLayer(lgraph, "ImageInputLayer",
                             lg.image3dInputLayer([8, 8, 8, 2], Normalization="none", Name="ImageInputLayer"))
    net = lg.dlnetwork(lgraph)
    y = lg.predict(net, np.random.default_rng(0).standard_normal((8, 8, 8, 2, 2)).astype(np.float32))
    y = np.asarray(y)
    assert y.shape == (8, 8, 8, 3, 2)
    np.testing.assert_allclose(y.sum(axis=3), 1.0, rtol=1e-5)


# ---- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("builder,args,kwargs,ident", [
    (lg.unet3dLayers, ([100, 100, 100], 2), {}, "vision:unet3dLayers:InputSizeNotDivisible"),
    (lg.unet3dLayers, ([16, 16, 16], 2), {"EncoderDepth": 5}, "vision:unet3dLayers:InputSizeNotDivisible"),
    (lg.unet3dLayers, ([16, 16, 16], 2), {"ConvolutionPadding": "valid"},
     "vision:unet3dLayers:InputSizeTooSmall"),
    (lg.unet3dLayers, ([45, 44, 44], 2), {"ConvolutionPadding": "valid", "EncoderDepth": 2},
     "vision:unet3dLayers:InvalidInputSize"),
    (lg.unet3dLayers, ([16, 16], 2), {}, "vision:unet3dLayers:InvalidImageSize3D"),
    (lg.unet3dLayers, ([16, 16, 16], 1), {}, "vision:unet3dLayers:InvalidNumClasses"),
    (lg.unet3dLayers, ([16, 16, 16], 2), {"FilterSize": 4}, "vision:unet3dLayers:InvalidFilterSize"),
    (lg.unet3dLayers, ([16, 16, 16], 2), {"FilterSize": [3, 3]}, "vision:unet3dLayers:InvalidFilterSize"),
    (lg.unet3dLayers, ([16, 16, 16], 2), {"EncoderDepth": 0}, "vision:unet3dLayers:InvalidEncoderDepth"),
    (lg.unet3dLayers, ([16, 16, 16], 2), {"NumFirstEncoderFilters": 2.5},
     "vision:unet3dLayers:InvalidNumFirstEncoderFilters"),
    (lg.unet3dLayers, ([16, 16, 16], 2), {"ConvolutionPadding": "full"},
     "vision:unet3dLayers:InvalidConvolutionPadding"),
    (lg.unet3dLayers, ([16, 16, 16], 2), {"nargout": 3}, "vision:unet3dLayers:TooManyOutputs"),
    (lg.unetLayers, ([30, 32, 3], 2), {"EncoderDepth": 2}, "vision:unetLayers:InputSizeNotDivisible"),
    (lg.unet, ([30, 32, 3], 2), {"EncoderDepth": 2}, "vision:unet:InputSizeNotDivisible"),
    (lg.unet3d, ([8, 8, 8], 2), {"EncoderDepth": 4}, "vision:unet3d:InputSizeNotDivisible"),
    (lg.unet3d, ([8, 8, 8], 2), {"nargout": 0}, "vision:unet3d:TooManyOutputs"),
])
def test_bad_input(builder, args, kwargs, ident):
    with pytest.raises(MException) as err:
        builder(*args, **kwargs)
    assert err.value.identifier == ident
    assert "Received" in str(err.value)


def test_unknown_option_and_name_value_pairs():
    with pytest.raises(MException):
        lg.unet3dLayers([16, 16, 16], 2, EncoderNetwork="resnet18")
    lgraph = lg.unet3dLayers([16, 16, 16], 2, "encoderdepth", 2, "NumFirst", 2)
    assert layer(lgraph, "Encoder-Stage-2-Conv-2").NumFilters == 8


def test_too_deep_message_names_the_multiple():
    with pytest.raises(MException, match=r"multiples of 2\^EncoderDepth = 32"):
        lg.unet3dLayers([64, 64, 48], 2, EncoderDepth=5)


def test_plan_styles_are_the_four_functions():
    assert set(unet_builders.STYLES) == {"unetLayers", "unet3dLayers", "unet", "unet3d"}
