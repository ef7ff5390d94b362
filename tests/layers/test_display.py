"""The MATLAB object display and its formatting helpers (Type strings and one-line
descriptions of every layer: the case table, tests/layers/layer_cases.py)."""
import numpy as np
import pytest

import layergraph as lg
from layergraph.layers import _display


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
