"""Bad input to the datastores: clear MException naming the argument, file or value."""
from __future__ import annotations

import numpy as np
import pytest

from layergraph import (arrayDatastore, augmentedImageDatastore, combine, imageDataAugmenter,
                        imageDatastore, partition, randomPatchExtractionDatastore, read,
                        splitEachLabel, subset, transform)
from layergraph.layers.errors import MException


@pytest.fixture
def folder(tmp_path):
    for i in range(3):
        np.save(tmp_path / f"v{i}.npy", np.zeros((4, 4, 4), np.float32))
    return tmp_path


@pytest.mark.parametrize("call, pattern", [
    (lambda f: imageDatastore(f / "missing"), "Cannot find files or folders matching"),
    (lambda f: imageDatastore(f, FileExtensions=".png"), "No files with .png"),
    (lambda f: imageDatastore(f, FileExtensions="png"), "FileExtensions must be"),
    (lambda f: imageDatastore(f, LabelSource="filenames"), "LabelSource"),
    (lambda f: imageDatastore(f, Labels=["a"]), "one label per file \\(3\\)"),
    (lambda f: imageDatastore(f, ReadSize=0), "ReadSize must be a positive integer"),
    (lambda f: imageDatastore(f, ReadFcn="niftiread"), "ReadFcn must be a function"),
    (lambda f: imageDatastore(f, IncludeSubfolders="yes"), "IncludeSubfolders must be a logical"),
    (lambda f: imageDatastore(42), "location must be"),
    (lambda f: subset(imageDatastore(f), [3]), "indices must lie in 0..2"),
    (lambda f: partition(imageDatastore(f), 2, 2), "index must lie in 0..1"),
    (lambda f: splitEachLabel(imageDatastore(f), 0.5), "needs labels"),
    (lambda f: splitEachLabel(imageDatastore(f, Labels=list("aab")), 2), "has 1 files, fewer"),
    (lambda f: splitEachLabel(imageDatastore(f, Labels=list("aab")), 0.7, 0.6), "at most 1"),
    (lambda f: combine(imageDatastore(f), arrayDatastore(np.arange(2))), "same number"),
    (lambda f: transform(imageDatastore(f), 3), "fcn must be a function"),
    (lambda f: arrayDatastore(np.arange(3), IterationDimension=2), "at most the number"),
    (lambda f: imageDataAugmenter(RandRotation=[10, -10]), "lo <= hi"),
    (lambda f: imageDataAugmenter(RandScale=[0, 1]), "must be positive"),
    (lambda f: augmentedImageDatastore([4], np.zeros((4, 4, 1, 2))), "outputSize must be"),
    (lambda f: read(augmentedImageDatastore([8, 8], np.zeros((4, 4, 1, 2)),
                                            OutputSizeMode="centercrop")), "must not exceed"),
    (lambda f: randomPatchExtractionDatastore(imageDatastore(f), arrayDatastore(np.arange(2)),
                                              [2, 2]), "same number of images"),
    (lambda f: read(randomPatchExtractionDatastore(imageDatastore(f), imageDatastore(f),
                                                   [5, 5])), "exceeds image"),
])
def test_bad_input_raises_mexception(folder, call, pattern):
    with pytest.raises(MException, match=pattern):
        call(folder)


def test_transform_error_is_chained_and_names_the_file(folder):
    ds = transform(imageDatastore(folder), lambda v: v["key"])
    with pytest.raises(MException, match="v0.npy") as err:
        read(ds)
    assert err.value.__cause__ is not None
