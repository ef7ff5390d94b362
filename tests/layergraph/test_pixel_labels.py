"""Label volumes <-> codes <-> one-hot targets (runtime/pixel_labels.py): round trips, errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from layergraph.layers.errors import MException
from layergraph.runtime import pixel_labels

NAMES = ["air", "bone", "fat", "tumor"]


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.int8, hnp.array_shapes(min_dims=2, max_dims=4, max_side=4),
                  elements=st.integers(-1, 3)))
def test_names_codes_onehot_round_trip(codes):
    names = np.where(codes >= 0, np.asarray(NAMES, dtype=object)[np.maximum(codes, 0)], None)
    got, classes = pixel_labels.label_codes(names, NAMES, "f")
    np.testing.assert_array_equal(got, np.where(codes >= 0, codes, -1))
    auto, found = pixel_labels.label_codes(names, None, "f")
    assert found == sorted({NAMES[c] for c in codes.ravel() if c >= 0})
    np.testing.assert_array_equal(np.asarray(found + [None], dtype=object)[auto], names)
    onehot = pixel_labels.onehot_codes(got, len(NAMES))
    assert onehot.shape == (len(NAMES), codes.shape[-1], *codes.shape[:-1])
    np.testing.assert_array_equal(onehot.sum(axis=0), np.moveaxis(codes >= 0, -1, 0))
    np.testing.assert_array_equal(onehot.argmax(axis=0)[np.moveaxis(codes >= 0, -1, 0)],
                                  np.moveaxis(codes, -1, 0)[np.moveaxis(codes >= 0, -1, 0)])


def test_categorical_integer_and_undefined_forms():
    cat = pd.Categorical(["fat", None, "air"], categories=["air", "fat", "unused"])
    codes, classes = pixel_labels.label_codes(cat, NAMES, "f")
    assert codes.tolist() == [2, -1, 0] and classes == NAMES
    codes, classes = pixel_labels.label_codes(cat, None, "f")
    assert classes == ["air", "fat", "unused"]
    names = np.array([["air", ""], ["bone", "fat"]])                  # "" is <undefined>
    assert pixel_labels.label_codes(names, NAMES, "f")[0].tolist() == [[0, -1], [1, 2]]
    mixed = np.array([np.nan, "tumor", None], dtype=object)             # NaN, None: <undefined>
    assert pixel_labels.label_codes(mixed, NAMES, "f")[0].tolist() == [-1, 3, -1]
    codes, _ = pixel_labels.label_codes(np.array([[3, -5], [0, 1]]), NAMES, "f")
    assert codes.tolist() == [[3, -1], [0, 1]]


@pytest.mark.parametrize("labels,classes,ident", [
    (np.array(["air", "lung"]), NAMES, "nnet_cnn:f:UnknownLabels"),
    (pd.Categorical(["lung"]), NAMES, "nnet_cnn:f:UnknownLabels"),
    (np.array([0, 4]), NAMES, "nnet_cnn:f:UnknownLabels"),
    (np.array([0, 1]), None, "nnet_cnn:f:ClassesNeededForCodes"),
    (np.array([0.5, 1.0]), NAMES, "nnet_cnn:f:InvalidLabels"),
    (np.array([], dtype=object), NAMES, "nnet_cnn:f:InvalidLabels"),
])
def test_bad_labels(labels, classes, ident):
    with pytest.raises(MException) as err:
        pixel_labels.label_codes(labels, classes, "f")
    assert err.value.identifier == ident and "Received" in str(err.value)


def test_label_size_check_names_both_sizes():
    codes = np.zeros((4, 4, 2), np.int32)
    assert pixel_labels.check_label_size(codes, (4, 4), 2, "f").shape == (4, 4, 2)
    assert pixel_labels.check_label_size(codes[..., 0], (4, 4), 1, "f").shape == (4, 4, 1)
    with pytest.raises(MException, match=r"size 4x5x2 .* Received: size 4x4x2"):
        pixel_labels.check_label_size(codes, (4, 5), 2, "f")
