"""MATLAB display text of layer arrays and LayerGraph objects (matlab-behavior.md 3.1)."""
from __future__ import annotations

from layergraph import (LayerArray, addLayers, additionLayer, classificationLayer, connectLayers,
                        convolution2dLayer, fullyConnectedLayer, imageInputLayer, layerGraph,
                        maxPooling2dLayer, reluLayer, resnet3dLayers, softmaxLayer)


def matlab_doc_layers():
    """The 7-layer array of MATLAB's documentation example (unnamed layers)."""
    return [
        imageInputLayer([28, 28, 1]),
        convolution2dLayer(3, 25),
        reluLayer(),
        maxPooling2dLayer(2, Stride=2),
        fullyConnectedLayer(10),
        softmaxLayer(),
        classificationLayer(),
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
    assert lines[3] == ("     2   'conv'          2-D Convolution         "
                        "25 3x3 convolutions with stride [1  1] and padding [0  0  0  0]")
    assert lines[4] == "     3   'relu'          ReLU                    ReLU"
    assert lines[8] == "     7   'classoutput'   Classification Output   crossentropyex"


def test_layer_array_rows_past_99_widen_the_index():
    arr = LayerArray([reluLayer(Name=f"r{i}") for i in range(100)])
    lines = repr(arr).splitlines()
    assert lines[0] == "  100x1 Layer array with layers:"
    assert lines[2] == "     1   'r0'    ReLU   ReLU"
    assert lines[-1] == "    100   'r99'   ReLU   ReLU"
    assert repr(arr[98:]).splitlines()[2] == "     1   'r98'   ReLU   ReLU"


def test_empty_layer_array_display():
    assert repr(LayerArray()) == "  0x1 empty Layer array."


def test_layer_graph_display():
    g = layerGraph([imageInputLayer([8, 8, 1], Name="input"), reluLayer(Name="a"),
                    additionLayer(2, Name="add"), classificationLayer(Name="output")])
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
    g = addLayers(layerGraph(imageInputLayer([8, 8, 1], Name="in1")),
                  imageInputLayer([8, 8, 1], Name="in2"))
    assert repr(g).splitlines()[2] == "     InputNames: {'in1'  'in2'}"


def test_layer_graph_display_of_the_resnet3d_doc_example():
    assert repr(resnet3dLayers([224, 224, 64, 3], 10)) == (
        "  LayerGraph with properties:\n"
        "\n"
        "     InputNames: {'input'}\n"
        "    OutputNames: {'output'}\n"
        "         Layers: [177x1 nnet.cnn.layer.Layer]\n"
        "    Connections: [192x2 table]"
    )
