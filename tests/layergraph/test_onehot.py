"""onehotencode / onehotdecode: MATLAB's documented example, shapes, types, round trips."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import layergraph
from layergraph import onehotdecode, onehotencode
from layergraph.layers.errors import MException

COLORS = pd.Categorical(["red", "blue", "red", "green", "yellow", "blue"])


def test_exported_from_layergraph():
    assert {"onehotencode", "onehotdecode"} <= set(layergraph.__all__)


def test_matlab_documented_example():
    """colorsOriginal = categorical(["red" "blue" "red" "green" "yellow" "blue"]);
    labels = onehotencode(colorsOriginal, 1) -> 4x6 single; onehotdecode(labels, classes, 1)."""
    classes = list(COLORS.categories)
    assert classes == ["blue", "green", "red", "yellow"]
    labels = onehotencode(COLORS, 1)
    assert labels.dtype == np.float32 and labels.shape == (4, 6)
    np.testing.assert_array_equal(labels, [[0, 1, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0],
                                           [1, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0]])
    decoded = onehotdecode(labels, classes, 1)
    assert isinstance(decoded, pd.Categorical) and list(decoded.categories) == classes
    assert list(decoded) == list(COLORS)


def test_feature_dim_two_puts_classes_last():
    assert onehotencode(COLORS, 2).shape == (6, 4)
    np.testing.assert_array_equal(onehotencode(COLORS, 2), onehotencode(COLORS, 1).T)


def test_nd_labels_expand_their_singleton_dimension():
    labels = np.array([["a", "b"], ["b", "a"]], dtype=object).reshape(2, 2, 1, 1)   # h x w x 1 x N
    out = onehotencode(labels, 3, ClassNames=["a", "b"])
    assert out.shape == (2, 2, 2, 1)
    np.testing.assert_array_equal(out[..., 0, 0], [[1, 0], [0, 1]])
    assert onehotencode(np.array(["a", "b"]).reshape(1, 2), 3).shape == (1, 2, 2)


def test_typename_and_class_names_order():
    out = onehotencode(["x", "y"], 1, "double", ClassNames=["y", "x"])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[0, 1], [1, 0]])
    assert onehotencode(COLORS, 1, "logical").dtype == np.bool_
    assert onehotencode(COLORS, 1, "uint8").dtype == np.uint8
    assert onehotencode(COLORS, 1, "ClassNames", ["red"]).shape == (1, 6)   # MATLAB pair style


def test_undefined_and_excluded_labels_encode_to_nan():
    labels = pd.Categorical(["a", None, "c"], categories=["a", "b", "c"])
    out = onehotencode(labels, 1, ClassNames=["a", "b"])
    np.testing.assert_array_equal(out[:, 0], [1, 0])
    assert np.isnan(out[:, 1]).all() and np.isnan(out[:, 2]).all()
    np.testing.assert_array_equal(onehotencode(labels, 1, "int8", ClassNames=["a", "b"])[:, 1], [0, 0])


def test_table_in_table_out():
    table = pd.DataFrame({"Color": COLORS})
    out = onehotencode(table)
    assert list(out.columns) == ["blue", "green", "red", "yellow"]
    np.testing.assert_array_equal(out.to_numpy(), onehotencode(COLORS, 2))
    assert onehotencode(table, "double").to_numpy().dtype == np.float64


def test_decode_types_ties_and_nan():
    B = np.array([[0.2, 0.5, np.nan], [0.5, 0.5, np.nan]])   # K x N: b, tie, all NaN
    decoded = onehotdecode(B, ["a", "b"], 1)
    assert list(decoded[:2]) == ["b", "a"] and pd.isna(decoded[2])          # tie: first class
    assert list(onehotdecode(B, ["a", "b"], 1, "string")) == ["b", "a", ""]
    numbers = onehotdecode(B, [3, 7], 1, "double")
    np.testing.assert_array_equal(numbers[:2], [7, 3])
    assert np.isnan(numbers[2])
    np.testing.assert_array_equal(onehotdecode(B, [3, 7], 1, "int32"), [7, 3, 0])


def test_decode_nd_keeps_a_singleton_feature_dimension():
    B = np.random.default_rng(0).random((4, 4, 3, 2))
    decoded = onehotdecode(B, ["a", "b", "c"], 3)
    assert decoded.shape == (4, 4, 1, 2)
    expected = np.array(["a", "b", "c"], dtype=object)[B.argmax(axis=2)]
    np.testing.assert_array_equal(decoded[:, :, 0, :], expected)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["cat", "dog", "eel", "fox"]), min_size=1, max_size=30),
       st.sampled_from([1, 2]))
def test_round_trip_property(words, dim):
    labels = pd.Categorical(words, categories=["cat", "dog", "eel", "fox"])
    encoded = onehotencode(labels, dim)
    assert encoded.sum() == len(words)
    assert list(onehotdecode(encoded, labels.categories, dim)) == words


@pytest.mark.parametrize("call, reason, text", [
    (lambda: onehotencode(COLORS, 0), "InvalidFeatureDim", "featureDim=0"),
    (lambda: onehotencode(np.array([["a", "b"]]), 2), "InvalidFeatureDim", "size 1x2"),
    (lambda: onehotencode(COLORS), "MissingFeatureDim", "featureDim is required"),
    (lambda: onehotencode(COLORS, 1, ClassNames=["a", "a"]), "InvalidClassNames", "distinct"),
    (lambda: onehotencode(object(), 1), "InvalidLabels", "Received: A=a object"),
    (lambda: onehotdecode(np.zeros((3, 2)), ["a", "b"], 1), "SizeMismatch", "size 3x2"),
    (lambda: onehotdecode(np.array([["x"]]), ["a"], 1), "InvalidInput", "numeric"),
    (lambda: onehotdecode(np.eye(2), ["a", "b"], 1, "double"), "NonNumericClasses", "numeric class"),
])
def test_bad_input_names_the_argument(call, reason, text):
    with pytest.raises(MException, match=text) as err:
        call()
    assert err.value.identifier.endswith(reason)


def test_bad_typename_is_matlab_unrecognized_string():
    with pytest.raises(MException, match="typename") as err:
        onehotencode(COLORS, 1, "float")
    assert err.value.identifier == "MATLAB:onehotencode:unrecognizedStringChoice"
