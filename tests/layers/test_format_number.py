"""MATLAB `format short` of scalars, shared by layer and trainingOptions displays."""
import numpy as np
import pytest

from layergraph.layers._display import format_number
from layergraph import trainingOptions


@pytest.mark.parametrize("value, text", [
    (1, "1"), (30, "30"), (0.01, "0.0100"), (0.9, "0.9000"), (999.5, "999.5000"),
    (0.001, "1.0000e-03"), (1e-4, "1.0000e-04"), (1e-5, "1.0000e-05"), (1234.5, "1.2345e+03"),
    (np.inf, "Inf"), (-np.inf, "-Inf"), (np.nan, "NaN"), (True, "1"), (np.float32(0.5), "0.5000"),
])
def test_format_short(value, text):
    assert format_number(value) == text


def test_layer_and_options_displays_agree():
    text = str(trainingOptions("adam"))
    assert "InitialLearnRate: 1.0000e-03" in text
    assert "L2Regularization: 1.0000e-04" in text
