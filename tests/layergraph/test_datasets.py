"""Synthetic volumetric shapes: layout, labels, determinism, class structure."""
import numpy as np
import pandas as pd
import pytest

from layergraph import MException, syntheticShapes3d
from layergraph.datasets import SHAPE_CLASSES, _shape_mask


def test_layout_labels_and_balance():
    X, Y = syntheticShapes3d(40, 12, seed=3)
    assert X.shape == (12, 12, 12, 1, 40) and X.dtype == np.float32
    assert isinstance(Y, pd.Categorical) and list(Y.categories) == sorted(SHAPE_CLASSES)
    assert Y.value_counts().tolist() == [10, 10, 10, 10]


def test_deterministic_from_seed():
    a = syntheticShapes3d(8, 10, seed=1)
    b = syntheticShapes3d(8, 10, seed=1)
    c = syntheticShapes3d(8, 10, seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    assert list(a[1]) == list(b[1])
    assert not np.array_equal(a[0], c[0])


def test_shapes_differ_as_described():
    s = 16
    grid = np.indices((s, s, s), dtype=float)
    centre = np.full(3, 7.5)
    masks = {k: _shape_mask(k, grid, centre, 5.0) for k in SHAPE_CLASSES}
    assert masks["ball"][7, 7, 7] and not masks["shell"][7, 7, 7]        # shell is hollow
    assert masks["cube"][4, 4, 4] and not masks["ball"][4, 4, 4]         # cube has corners
    assert masks["cross"][7, 7, 1] and not masks["cross"][4, 4, 7]       # long thin rods
    noise_free, _ = syntheticShapes3d(4, s, seed=0, noise=0.0)
    assert set(np.unique(noise_free[..., 0, 0]).round(6)) - {0.0}        # a shape is present


@pytest.mark.parametrize("args", [(0,), (4, 4), (4.5,), ("x",)])
def test_invalid_arguments(args):
    with pytest.raises(MException):
        syntheticShapes3d(*args)
