"""MATLAB display text of layer arrays and LayerGraph objects (matlab-behavior.md 3.1)."""
from __future__ import annotations

from test_graph_fakes import FakeAdd, FakeInput, FakeLayer, FakeOutput

from layergraph import LayerArray, addLayers, connectLayers, layerGraph


def _typed(base, type_, default_name, description):
    """An unnamed fake layer with MATLAB's type, DefaultName and description."""
    cls = type(f"Fake{default_name}", (base,), {"TYPE": type_, "DEFAULT_NAME": default_name})
    return cls("", description)


def matlab_doc_layers():
    """The 7-layer array of MATLAB's documentation example (unnamed layers)."""
    return [
        _typed(FakeInput, "Image Input", "imageinput",
               "28x28x1 images with 'zerocenter' normalization"),
        _typed(FakeLayer, "2-D Convolution", "conv",
               "25 3x3 convolutions with stride [1  1] and padding [0  0  0  0]"),
        _typed(FakeLayer, "ReLU", "relu", "ReLU"),
        _typed(FakeLayer, "2-D Max Pooling", "maxpool",
               "2x2 max pooling with stride [2  2] and padding [0  0  0  0]"),
        _typed(FakeLayer, "Fully Connected", "fc", "10 fully connected layer"),
        _typed(FakeLayer, "Softmax", "softmax", "softmax"),
        _typed(FakeOutput, "Classification Output", "classoutput", "crossentropyex"),
    ]


def test_layer_array_display_matches_the_matlab_doc_example():
    expected = (
        "  7x1 Layer array with layers:\n"
        "\n"
        "     1   ''   Image Input             28x28x1 images with 'zerocenter' normalization\n"
        "     2   ''   2-D Convolution         25 3x3 convolutions with stride [1  1] and padding [0  0  0  0]\n"
        "     3   ''   ReLU                    ReLU\n"
        "     4   ''   2-D Max Pooling         2x2 max pooling with stride [2  2] and padding [0  0  0  0]\n"
        "     5   ''   Fully Connected         10 fully connected layer\n"
        "     6   ''   Softmax                 softmax\n"
        "     7   ''   Classification Output   crossentropyex"
    )
    arr = LayerArray(matlab_doc_layers())
    assert repr(arr) == expected and str(arr) == expected


def test_graph_layers_display_uses_the_default_names_and_widest_name():
    text = repr(layerGraph(matlab_doc_layers()).Layers)
    lines = text.splitlines()
    assert lines[2] == ("     1   'imageinput'    Image Input             "
                        "28x28x1 images with 'zerocenter' normalization")
    assert lines[4] == "     3   'relu'          ReLU                    ReLU"
    assert lines[8] == "     7   'classoutput'   Classification Output   crossentropyex"


def test_layer_array_rows_past_99_widen_the_index():
    arr = LayerArray([FakeLayer(f"r{i}") for i in range(100)])
    lines = repr(arr).splitlines()
    assert lines[0] == "  100x1 Layer array with layers:"
    assert lines[2] == "     1   'r0'    ReLU   ReLU"
    assert lines[-1] == "    100   'r99'   ReLU   ReLU"
    assert repr(arr[98:]).splitlines()[2] == "     1   'r98'   ReLU   ReLU"


def test_empty_layer_array_display():
    assert repr(LayerArray()) == "  0x1 empty Layer array."


def test_layer_graph_display():
    g = layerGraph([FakeInput("input"), FakeLayer("a"), FakeAdd(2, "add"), FakeOutput("output")])
    g = connectLayers(g, "input", "add/in2")
    expected = (
        "  LayerGraph with properties:\n"
        "\n"
        "     InputNames: {'input'}\n"
        "    OutputNames: {'output'}\n"
        "         Layers: [4x1 nnet.cnn.layer.Layer]\n"
        "    Connections: [4x2 table]"
    )
    assert repr(g) == expected and str(g) == expected


def test_layer_graph_display_of_an_empty_graph_and_several_inputs():
    assert repr(layerGraph()).splitlines()[2:] == [
        "     InputNames: {}",
        "    OutputNames: {}",
        "         Layers: [0x1 nnet.cnn.layer.Layer]",
        "    Connections: [0x2 table]",
    ]
    g = addLayers(layerGraph(FakeInput("in1")), FakeInput("in2"))
    assert repr(g).splitlines()[2] == "     InputNames: {'in1'  'in2'}"
