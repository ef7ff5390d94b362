"""semanticseg on DAGNetwork / dlnetwork, and dice / jaccard with MATLAB's per-class semantics."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import layergraph as lg
from layergraph.layers.errors import MException


def pixel_net(classes=("a", "b", "c")):
    """A 1x1x1 convolution segmentation net with fixed weights: scores follow the channels."""
    w = np.zeros((1, 1, 1, 2, 3), np.float32)
    w[0, 0, 0, 0, 0] = 1.0
    w[0, 0, 0, 1, 1] = 1.0
    layers = [lg.image3dInputLayer([3, 4, 2, 2], Normalization="none", Name="in"),
              lg.convolution3dLayer(1, 3, Name="conv", Weights=w, Bias=np.zeros((1, 1, 1, 3), np.float32)),
              lg.softmaxLayer(Name="sm"),
              lg.pixelClassificationLayer(Name="out", Classes=list(classes))]
    return lg.assembleNetwork(lg.layerGraph(layers))


def expected_labels(X, classes=("a", "b", "c")):
    scores = np.stack([X[..., 0, :], X[..., 1, :], np.zeros_like(X[..., 0, :])], axis=-2)
    return np.asarray(classes)[scores.argmax(axis=-2)]


def test_semanticseg_labels_scores_and_single_volume(rng):
    net = pixel_net()
    X = rng.standard_normal((3, 4, 2, 2, 5)).astype(np.float32)
    C = lg.semanticseg(X, net)
    assert C.shape == (3, 4, 2, 5)
    np.testing.assert_array_equal(C, expected_labels(X))
    C1, score, all_scores = lg.semanticseg(X[..., 0], net, nargout=3)
    assert C1.shape == score.shape == (3, 4, 2) and all_scores.shape == (3, 4, 2, 3)
    np.testing.assert_array_equal(C1, C[..., 0])
    np.testing.assert_allclose(score, all_scores.max(axis=-1))
    np.testing.assert_allclose(all_scores.sum(axis=-1), 1.0, rtol=1e-5)


def test_semanticseg_numeric_output_type_is_matlab_label_matrix(rng):
    X = rng.standard_normal((3, 4, 2, 2, 2)).astype(np.float32)
    net = pixel_net()
    L = lg.semanticseg(X, net, OutputType="uint8")
    assert L.dtype == np.uint8 and set(np.unique(L)) <= {1, 2, 3}
    names = np.array(["a", "b", "c"])[L.astype(int) - 1]
    np.testing.assert_array_equal(names, lg.semanticseg(X, net, MiniBatchSize=1))


def test_semanticseg_with_a_dlnetwork_and_class_names(rng):
    net = lg.dlnetwork(lg.removeLayers(pixel_net().layerGraph(), "out"))
    X = rng.standard_normal((3, 4, 2, 2, 3)).astype(np.float32)
    np.testing.assert_array_equal(lg.semanticseg(X, net, Classes=["a", "b", "c"]), expected_labels(X))
    assert set(np.unique(lg.semanticseg(X, net))) <= {"1", "2", "3"}
    with pytest.raises(MException) as err:
        lg.semanticseg(X, net, Classes=["a", "b"])
    assert err.value.identifier == "vision:semanticseg:InvalidClasses"
    with pytest.raises(MException) as err:
        lg.semanticseg(X, net, MiniBatchSize=2)
    assert err.value.identifier == "vision:semanticseg:UnsupportedOption"


def test_semanticseg_refuses_a_classification_network(rng):
    layers = [lg.image3dInputLayer([4, 4, 4, 1], Normalization="none"), lg.globalAveragePooling3dLayer(),
              lg.fullyConnectedLayer(2), lg.softmaxLayer(), lg.classificationLayer(Classes=["x", "y"])]
    lgraph = lg.layerGraph(layers)
    net, _ = lg.trainNetwork(rng.standard_normal((4, 4, 4, 1, 2)).astype(np.float32), ["x", "y"], lgraph,
                             lg.trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=2, Verbose=False))
    with pytest.raises(MException) as err:
        lg.semanticseg(rng.standard_normal((4, 4, 4, 1, 2)), net)
    assert err.value.identifier == "vision:semanticseg:NotASegmentationNetwork"


# ---- dice / jaccard --------------------------------------------------------------------------

def test_dice_and_jaccard_binary_documented_formula():
    a = np.array([[1, 1, 0], [0, 1, 0]], bool)
    b = np.array([[1, 0, 0], [0, 1, 1]], bool)
    assert lg.dice(a, b) == pytest.approx(2 * 2 / (3 + 3))
    assert lg.jaccard(a, b) == pytest.approx(2 / 4)
    assert np.isnan(lg.dice(np.zeros(3, bool), np.zeros(3, bool)))


def test_per_label_and_per_class_values():
    L1 = np.array([[1, 1, 2], [0, 2, 3]])
    L2 = np.array([[1, 2, 2], [0, 2, 0]])
    np.testing.assert_allclose(lg.dice(L1, L2), [2 * 1 / 3, 2 * 2 / 5, 0.0])
    np.testing.assert_allclose(lg.jaccard(L1, L2), [1 / 2, 2 / 3, 0.0])
    names1 = np.array(["cat", "cat", "dog", None, "dog", "fish"], dtype=object)
    names2 = np.array(["cat", "dog", "dog", None, "dog", None], dtype=object)
    np.testing.assert_allclose(lg.dice(names1, names2), [2 / 3, 0.8, 0.0])     # cat, dog, fish
    cat1 = pd.Categorical(["x", "y", "y"], categories=["x", "y", "z"])
    cat2 = pd.Categorical(["x", "x", "y"], categories=["x", "y", "z"])
    d = lg.dice(cat1, cat2)
    np.testing.assert_allclose(d[:2], [2 / 3, 2 / 3]) and np.isnan(d[2])


def test_dice_size_and_type_mismatch():
    with pytest.raises(MException) as err:
        lg.dice(np.zeros((2, 2), bool), np.zeros((2, 3), bool))
    assert err.value.identifier == "images:dice:InputSizeMismatch"
    with pytest.raises(MException) as err:
        lg.jaccard(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32))
    assert err.value.identifier == "images:jaccard:InvalidInputs"


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.int8, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=st.integers(0, 3)),
       st.data())
def test_dice_jaccard_identities(a, data):
    b = data.draw(hnp.arrays(np.int8, a.shape, elements=st.integers(0, 3)))
    d, j = lg.dice(a, b), lg.jaccard(a, b)
    np.testing.assert_allclose(lg.dice(b, a), d, equal_nan=True)
    np.testing.assert_allclose(d, 2 * j / (1 + j), equal_nan=True)       # per class
    assert np.all((np.nan_to_num(d) >= 0) & (np.nan_to_num(d) <= 1))
    present = [k for k in range(1, int(max(a.max(), b.max(), 0)) + 1) if (a == k).any()]
    np.testing.assert_allclose(lg.dice(a, a)[[k - 1 for k in present]], 1.0)


def test_classify_of_a_segmentation_network_labels_every_voxel(rng):
    net = pixel_net()
    X = rng.standard_normal((3, 4, 2, 2, 3)).astype(np.float32)
    labels, scores = lg.classify(net, X)
    assert scores.shape == (3, 4, 2, 3, 3)
    np.testing.assert_array_equal(labels, lg.semanticseg(X, net))


def test_semanticseg_of_a_grayscale_volume_without_channel_dimension(rng):
    w = np.ones((1, 1, 1, 1, 2), np.float32) * np.array([1.0, -1.0], np.float32)
    layers = [lg.image3dInputLayer([4, 4, 3, 1], Normalization="none"),
              lg.convolution3dLayer(1, 2, Weights=w, Bias=np.zeros((1, 1, 1, 2), np.float32)),
              lg.softmaxLayer(), lg.pixelClassificationLayer(Classes=["pos", "neg"])]
    net = lg.assembleNetwork(lg.layerGraph(layers))
    vol = rng.standard_normal((4, 4, 3)).astype(np.float32)
    C = lg.semanticseg(vol, net)
    assert C.shape == (4, 4, 3)
    np.testing.assert_array_equal(C, np.where(vol > 0, "pos", "neg"))
