"""imageDataAugmenter, augmentedImageDatastore, randomAffine3d/imwarp, randomPatchExtractionDatastore."""
from __future__ import annotations

import numpy as np
import pytest

from layergraph import (arrayDatastore, augment, augmentedImageDatastore, imageDataAugmenter,
                        imwarp, randomAffine3d, randomPatchExtractionDatastore, read, readall,
                        reset, rng, shuffle)
from layergraph.data import augmentation as aug_module

pytest.importorskip("scipy.ndimage")
IMAGE = np.arange(6 * 7, dtype=np.float64).reshape(6, 7)


def test_default_augmenter_is_the_identity_and_displays_matlab_defaults():
    a = imageDataAugmenter()
    np.testing.assert_array_equal(augment(a, IMAGE), IMAGE)
    text = repr(a)
    assert "RandRotation: [0 0]" in text and "RandScale: [1 1]" in text and "FillValue: 0" in text


def test_reflection_flips_left_right_and_translation_shifts_with_fill():
    flip = aug_module.ImageDataAugmenter(RandXReflection=True)
    m = np.diag([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(aug_module.warp(IMAGE, m, 0, 2), IMAGE[:, ::-1], atol=1e-12)
    shift = np.eye(3)
    shift[0, 2] = 2                                                  # x (columns) by +2 pixels
    out = aug_module.warp(IMAGE, shift, -1, 2)
    np.testing.assert_allclose(out[:, 2:], IMAGE[:, :-2], atol=1e-12)
    assert np.all(out[:, :2] == -1)
    draws = {flip.random_matrix(np.random.default_rng(s), 2)[0, 0] for s in range(20)}
    assert draws == {-1.0, 1.0}


def test_rotation_by_90_degrees_is_counterclockwise_as_displayed():
    square = np.arange(25.0).reshape(5, 5)
    a = aug_module.ImageDataAugmenter(RandRotation=[90, 90])
    np.testing.assert_allclose(a.augment(square, np.random.default_rng(0)), np.rot90(square),
                               atol=1e-9)


def test_augmented_datastore_same_seed_same_batches_and_resizes():
    X = np.random.default_rng(0).random((8, 8, 1, 6)).astype(np.float32)
    a = imageDataAugmenter(RandRotation=[-30, 30], RandXTranslation=[-2, 2])
    rng(11)
    first = readall(augmentedImageDatastore([6, 6], X, list("abcabc"), DataAugmentation=a))
    rng(11)
    again = readall(augmentedImageDatastore([6, 6], X, list("abcabc"), DataAugmentation=a))
    assert first.shape == (6, 2) and first["input"][0].shape == (6, 6, 1)
    for u, v in zip(first["input"], again["input"]):
        np.testing.assert_array_equal(u, v)
    plain = read(augmentedImageDatastore([4, 4], X, MiniBatchSize=2, OutputSizeMode="centercrop"))
    np.testing.assert_array_equal(plain["input"][1], X[2:6, 2:6, :, 1])


def test_augmented_volumes_with_four_element_output_size():
    V = np.random.default_rng(1).random((6, 6, 6, 1, 3)).astype(np.float32)
    ds = augmentedImageDatastore([4, 4, 4, 1], V, DataAugmentation=imageDataAugmenter(
        RandZReflection=True), OutputSizeMode="randcrop", MiniBatchSize=3)
    batch = read(ds)
    assert [b.shape for b in batch["input"]] == [(4, 4, 4, 1)] * 3


def test_random_affine3d_is_seeded_by_rng_and_imwarp_keeps_size():
    rng(2)
    t1 = randomAffine3d(Rotation=[-20, 20], Scale=[0.9, 1.1], XReflection=True)
    rng(2)
    t2 = randomAffine3d(Rotation=[-20, 20], Scale=[0.9, 1.1], XReflection=True)
    np.testing.assert_array_equal(t1.A, t2.A)
    np.testing.assert_array_equal(t1.T, t1.A.T)
    V = np.random.default_rng(0).random((5, 6, 7))
    assert imwarp(V, t1).shape == (5, 6, 7)
    np.testing.assert_allclose(imwarp(V, randomAffine3d()), V)
    labels = (V > 0.5).astype(np.uint8)
    assert set(np.unique(imwarp(labels, t1, Interp="nearest"))) <= {0, 1}


def test_patches_are_windows_of_their_image_and_label():
    V = np.random.default_rng(3).random((6, 7, 5, 2))
    L = (V > 0.5).astype(np.uint8)
    ds = randomPatchExtractionDatastore(arrayDatastore(V, IterationDimension=4),
                                        arrayDatastore(L, IterationDimension=4), [3, 3, 2],
                                        PatchesPerImage=4, MiniBatchSize=8)
    assert ds.NumObservations == 8
    t = read(ds)
    assert list(t.columns) == ["InputImage", "ResponseImage"]
    for k, (x, y) in enumerate(zip(t["InputImage"], t["ResponseImage"])):
        source = V[..., k // 4]
        hits = [(i, j, d) for i in range(4) for j in range(5) for d in range(4)
                if np.array_equal(source[i:i + 3, j:j + 3, d:d + 2], x)]
        assert hits, f"patch {k} is not a window of image {k // 4}"
        i, j, d = hits[0]
        np.testing.assert_array_equal(L[i:i + 3, j:j + 3, d:d + 2, k // 4], y)
    reset(ds)
    assert sorted(shuffle(ds)._obs.tolist()) == list(range(8))
