"""imageDatastore, fileDatastore, arrayDatastore, combine, transform: MATLAB's documented behaviour."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from layergraph import (arrayDatastore, combine, countEachLabel, fileDatastore, hasdata,
                        imageDatastore, numpartitions, partition, preview, read, readall,
                        reset, rng, shuffle, splitEachLabel, subset, transform)
from layergraph.layers.errors import MException


def test_foldernames_labels_files_sorted_and_categorical(labelled):
    imds = imageDatastore(labelled, IncludeSubfolders=True, LabelSource="foldernames")
    assert [f.split("/")[-2:] for f in imds.Files][:2] == [["demos", "f0.npy"], ["demos", "f1.npy"]]
    assert isinstance(imds.Labels, pd.Categorical)
    assert list(imds.Labels.categories) == ["demos", "imagesci"]
    assert list(imds.Labels) == ["demos"] * 6 + ["imagesci"] * 2


def test_count_each_label_matches_matlab_example(labelled):
    t = countEachLabel(imageDatastore(labelled, "IncludeSubfolders", True,
                                      "LabelSource", "foldernames"))
    assert list(t.columns) == ["Label", "Count"]
    assert list(t["Label"].astype(str)) == ["demos", "imagesci"] and list(t["Count"]) == [6, 2]


def test_split_each_label_rounds_down_per_label(labelled):
    imds = imageDatastore(labelled, IncludeSubfolders=True, LabelSource="foldernames")
    imds60, imds40 = splitEachLabel(imds, 0.6)
    assert list(imds60.Labels) == ["demos"] * 3 + ["imagesci"]          # floor(3.6), floor(1.2)
    assert list(imds40.Labels) == ["demos"] * 3 + ["imagesci"]
    assert imds60.Files == imds.Files[:3] + imds.Files[6:7]
    a, b, c = splitEachLabel(imds, 0.6, 0.1)
    assert (a.numobservations, b.numobservations, c.numobservations) == (4, 0, 4)
    one, rest = splitEachLabel(imds, 2)
    assert list(countEachLabel(one)["Count"]) == [2, 2] and rest.numobservations == 4


def test_split_each_label_randomized_follows_rng_and_include(labelled):
    imds = imageDatastore(labelled, IncludeSubfolders=True, LabelSource="foldernames")
    rng(3)
    first = splitEachLabel(imds, 0.5, "randomized")[0].Files
    rng(3)
    assert splitEachLabel(imds, 0.5, "randomized")[0].Files == first
    only, rest = splitEachLabel(imds, 0.5, Include="demos")
    assert set(only.Labels) == {"demos"} and set(rest.Labels) == {"demos"}
    assert only.numobservations + rest.numobservations == 6


def test_read_hasdata_reset_readall_preview_and_info(labelled):
    imds = imageDatastore(labelled, IncludeSubfolders=True, LabelSource="foldernames")
    x, info = read(imds, info=True)
    assert x.shape == (4, 4, 3) and x[0, 0, 0] == 0
    assert info["Filename"] == imds.Files[0] and info["Label"] == "demos" and info["FileSize"] > 0
    assert read(imds)[0, 0, 0] == 1
    everything = readall(imds)
    assert [int(v[0, 0, 0]) for v in everything] == list(range(8))
    assert preview(imds)[0, 0, 0] == 0 and read(imds)[0, 0, 0] == 2   # position untouched
    while hasdata(imds):
        read(imds)
    with pytest.raises(MException, match="No more data"):
        read(imds)
    reset(imds)
    assert read(imds)[0, 0, 0] == 0
    imds.ReadSize = 3
    assert len(read(imds)) == 3


def test_partition_matches_matlab_example(tmp_path):
    for i in range(10):
        np.save(tmp_path / f"a{i}.npy", np.zeros(2))
    ds = fileDatastore(tmp_path)
    assert numpartitions(ds) == 10
    assert [partition(ds, 3, i).numobservations for i in range(3)] == [4, 3, 3]
    by_file = partition(ds, "Files", ds.Files[5])
    assert by_file.Files == [ds.Files[5]] and partition(ds, "Files", 2).Files == [ds.Files[2]]


def test_locations_wildcards_lists_and_extensions(tmp_path, labelled):
    (tmp_path / "notes.txt").write_text("x")
    np.save(tmp_path / "one.npy", np.ones(3))
    assert len(imageDatastore(str(tmp_path / "*.npy")).Files) == 1
    assert imageDatastore(tmp_path).numobservations == 1                  # .txt is not listed
    both = imageDatastore([labelled / "demos", labelled / "imagesci" / "f0.npy"])
    assert both.numobservations == 7
    with pytest.raises(MException, match="No files with .png"):
        imageDatastore(labelled, IncludeSubfolders=True, FileExtensions=".png")


def test_labels_property_and_subset_keep_pairs(labelled):
    imds = imageDatastore(labelled, IncludeSubfolders=True, LabelSource="foldernames")
    sub = subset(imds, [7, 0])
    assert list(sub.Labels) == ["imagesci", "demos"] and sub.Files == [imds.Files[7], imds.Files[0]]
    mask = np.zeros(8, bool)
    mask[[1, 2]] = True
    assert subset(imds, mask).Files == imds.Files[1:3]
    imds.Labels = ["x"] * 8
    assert list(imds.Labels.categories) == ["x"]


def test_shuffle_uses_rng_and_returns_a_new_datastore(labelled):
    imds = imageDatastore(labelled, IncludeSubfolders=True, LabelSource="foldernames")
    rng(5)
    a = shuffle(imds)
    rng(5)
    b = shuffle(imds)
    assert a.Files == b.Files and sorted(a.Files) == sorted(imds.Files) and a.Files != imds.Files
    assert imds.Files == sorted(imds.Files)


def test_array_datastore_read_size_dimension_output_type():
    A = np.arange(12).reshape(3, 4)
    ads = arrayDatastore(A, ReadSize=2)
    assert [r.tolist() for r in read(ads)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert [r.tolist() for r in read(ads)] == [[8, 9, 10, 11]]
    cols = arrayDatastore(A, IterationDimension=2, OutputType="same", ReadSize=3)
    assert read(cols).tolist() == A[:, :3].tolist()
    assert readall(cols).tolist() == A.tolist()
    labels = arrayDatastore(pd.Categorical(["b", "a", "b"]))
    assert read(labels) == ["b"] and numpartitions(labels) == 3


def test_combine_reads_side_by_side_and_transform_applies_fcn(labelled):
    imds = imageDatastore(labelled, IncludeSubfolders=True)
    responses = arrayDatastore(np.arange(8.0) * 10)
    cds = combine(imds, responses)
    x, y = read(cds)
    assert x[0, 0, 0] == 0 and y == 0.0
    assert read(cds)[1] == 10.0
    assert len(readall(cds)) == 8 and readall(cds)[7][1] == 70.0
    doubled = transform(imds, lambda v: 2 * v)
    read(doubled)
    assert read(doubled)[0, 0, 0] == 2
    paired = transform(cds, lambda row: [row[0] + 1, row[1]])
    assert read(paired)[0][0, 0, 0] == 1
    with_info = transform(imds, lambda v, info: (info["Filename"], info), IncludeInfo=True)
    assert read(with_info).endswith("f0.npy")
    assert shuffle(cds).numobservations == 8 and partition(cds, 2, 1).numobservations == 4


def test_read_fcn_is_used_and_its_error_is_chained(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(2))
    ds = imageDatastore(tmp_path, ReadFcn=lambda f: f.upper())
    assert read(ds).endswith("A.NPY")

    def broken(_):
        raise KeyError("boom")
    with pytest.raises(MException, match="ReadFcn raised KeyError on file .*a.npy") as err:
        read(imageDatastore(tmp_path, ReadFcn=broken))
    assert isinstance(err.value.__cause__, KeyError)


def test_display_follows_matlab(labelled):
    text = repr(imageDatastore(labelled, IncludeSubfolders=True, LabelSource="foldernames"))
    assert text.startswith("  ImageDatastore with properties:\n\n")
    assert "... and 5 more" in text and "categorical]" in text and "ReadSize: 1" in text


def test_star_import_gives_the_datastore_api():
    ns: dict = {}
    exec("from layergraph import *", ns)  # noqa: S102 - test of the public namespace
    expected = """imageDatastore fileDatastore arrayDatastore combine transform read readall hasdata
    reset preview shuffle subset partition numpartitions splitEachLabel countEachLabel
    augmentedImageDatastore randomPatchExtractionDatastore imageDataAugmenter augment
    randomAffine3d imwarp niftiread niftiinfo""".split()
    assert [name for name in expected if name not in ns] == []
