"""Type strings, one-line descriptions and the MATLAB object display."""
import numpy as np
import pytest

import layergraph as lg
from layergraph.layers import _display


@pytest.mark.parametrize("layer, type_, description", [
    (lg.image3dInputLayer([64, 64, 64]), "3-D Image Input", "64x64x64x1 images with 'zerocenter' normalization"),
    (lg.imageInputLayer([28, 28, 1]), "Image Input", "28x28x1 images with 'zerocenter' normalization"),
    (lg.convolution3dLayer(7, 64, Stride=2, Padding="same"), "3-D Convolution",
     "64 7x7x7 convolutions with stride [2  2  2] and padding 'same'"),
    (lg.convolution2dLayer(3, 25), "2-D Convolution",
     "25 3x3 convolutions with stride [1  1] and padding [0  0  0  0]"),
    (lg.convolution2dLayer(3, 64, NumChannels=64, Padding="same"), "2-D Convolution",
     "64 3x3x64 convolutions with stride [1  1] and padding 'same'"),
    (lg.convolution3dLayer(1, 8, Padding=[[0, 1, 2], [3, 4, 10]]), "3-D Convolution",
     "8 1x1x1 convolutions with stride [1  1  1] and padding [0   1   2;3   4  10]"),
    (lg.batchNormalizationLayer(), "Batch Normalization", "Batch normalization"),
    (lg.batchNormalizationLayer(Offset=np.zeros((1, 1, 1, 64))), "Batch Normalization",
     "Batch normalization with 64 channels"),
    (lg.reluLayer(), "ReLU", "ReLU"),
    (lg.maxPooling3dLayer(3, Stride=2, Padding="same"), "3-D Max Pooling",
     "3x3x3 max pooling with stride [2  2  2] and padding 'same'"),
    (lg.maxPooling2dLayer(3, Stride=2), "2-D Max Pooling",
     "3x3 max pooling with stride [2  2] and padding [0  0  0  0]"),
    (lg.averagePooling2dLayer(7, Stride=7), "2-D Average Pooling",
     "7x7 average pooling with stride [7  7] and padding [0  0  0  0]"),
    (lg.averagePooling3dLayer(3, Stride=2, Padding="same"), "3-D Average Pooling",
     "3x3x3 average pooling with stride [2  2  2] and padding 'same'"),
    (lg.globalAveragePooling3dLayer(), "3-D Global Average Pooling", "3-D global average pooling"),
    (lg.globalAveragePooling2dLayer(), "2-D Global Average Pooling", "Global average pooling"),
    (lg.additionLayer(2), "Addition", "Element-wise addition of 2 inputs"),
    (lg.depthConcatenationLayer(3), "Depth concatenation", "Depth concatenation of 3 inputs"),
    (lg.fullyConnectedLayer(10), "Fully Connected", "10 fully connected layer"),
    (lg.softmaxLayer(), "Softmax", "softmax"),
    (lg.classificationLayer(), "Classification Output", "crossentropyex"),
    (lg.classificationLayer(Classes=["tench"] + [f"c{i}" for i in range(999)]), "Classification Output",
     "crossentropyex with 'tench' and 999 other classes"),
    (lg.classificationLayer(Classes=["cat", "dog"]), "Classification Output",
     "crossentropyex with classes 'cat' and 'dog'"),
    (lg.regressionLayer(), "Regression Output", "mean-squared-error"),
    (lg.regressionLayer(ResponseNames=["Response"]), "Regression Output",
     "mean-squared-error with response 'Response'"),
])
def test_type_and_description(layer, type_, description):
    assert layer.Type == type_
    assert layer.description() == description


def test_int2str_matches_matlab_spacing():
    assert _display.int2str((2, 2, 2)) == "2  2  2"
    assert _display.int2str((1, 10)) == "1  10"
    assert _display.int2str((10, 1)) == "10   1"
    assert _display.int2str((0, 0, 0, 0)) == "0  0  0  0"


def test_format_value():
    assert _display.format_value(None) == "[]"
    assert _display.format_value("auto") == "'auto'"
    assert _display.format_value(1e-5) == "1.0000e-05"
    assert _display.format_value(0.1) == "0.1000"
    assert _display.format_value(1.0) == "1"
    assert _display.format_value((3, 3, 3)) == "[3 3 3]"
    assert _display.format_value(((0, 0, 0), (0, 0, 0))) == "[2x3 double]"
    assert _display.format_value(np.zeros((7, 7, 7, 3, 64), np.float32)) == "[7x7x7x3x64 single]"
    assert _display.format_value(("in1", "in2")) == "{'in1'  'in2'}"
    assert _display.format_value(False) == "0"


def test_convolution_repr_groups_and_alignment():
    text = repr(lg.convolution3dLayer(3, 16, Name="conv1"))
    lines = text.splitlines()
    assert lines[0] == "  Convolution3DLayer with properties:"
    assert "              Name: 'conv1'" in lines
    assert "   Hyperparameters" in lines and "   Learnable Parameters" in lines
    assert "        FilterSize: [3 3 3]" in lines
    assert "    DilationFactor: [1 1 1]" in lines
    assert "           Weights: []" in lines
    assert lines[lines.index("   State Parameters") + 1] == "    No properties."
    assert "WeightsInitializer" not in text  # only "show all properties" lists it
    assert lines[-1] == "  Use properties method to see a list of all properties."


def test_max_pooling_2d_repr_shows_outputs():
    lines = repr(lg.maxPooling2dLayer(2)).splitlines()
    assert lines[2:6] == ["                   Name: ''", "    HasUnpoolingOutputs: 0",
                          "             NumOutputs: 1", "            OutputNames: {'out'}"]


def test_addition_and_batchnorm_repr():
    lines = repr(lg.additionLayer(2, Name="add")).splitlines()
    assert lines[0] == "  AdditionLayer with properties:"
    assert "    InputNames: {'in1'  'in2'}" in lines and "     NumInputs: 2" in lines
    bn = repr(lg.batchNormalizationLayer()).splitlines()
    assert "            Epsilon: 1.0000e-05" in bn and "    TrainedVariance: []" in bn
