"""Hypothesis invariants: shuffle, partition, splitEachLabel and subset lose or duplicate nothing."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from layergraph import partition, rng, shuffle, splitEachLabel, subset
from layergraph.data.files import ImageDatastore

labels_strategy = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=30)


def _datastore(labels: list[str]) -> ImageDatastore:
    files = [f"/data/{label}/f{i:03d}.npy" for i, label in enumerate(labels)]
    return ImageDatastore(files, pd.Categorical(labels), None, 1)


def _pairs(ds: ImageDatastore) -> list[tuple[str, str]]:
    return list(zip(ds.Files, map(str, ds.Labels)))


@settings(max_examples=60, deadline=None)
@given(labels_strategy, st.integers(0, 2 ** 31))
def test_shuffle_is_a_permutation_keeping_labels(labels, seed):
    ds = _datastore(labels)
    rng(seed)
    out = shuffle(ds)
    assert sorted(_pairs(out)) == sorted(_pairs(ds))


@settings(max_examples=60, deadline=None)
@given(labels_strategy, st.integers(1, 12))
def test_partitions_cover_every_file_once_in_order(labels, n):
    ds = _datastore(labels)
    parts = [partition(ds, n, i) for i in range(n)]
    assert sum((_pairs(p) for p in parts), []) == _pairs(ds)
    sizes = [p.numobservations for p in parts]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


@settings(max_examples=60, deadline=None)
@given(labels_strategy, st.lists(st.floats(0.05, 0.45), min_size=1, max_size=2),
       st.booleans(), st.integers(0, 2 ** 31))
def test_split_each_label_is_a_partition_with_floor_counts(labels, props, randomized, seed):
    ds = _datastore(labels)
    rng(seed)
    outs = splitEachLabel(ds, *props, *(["randomized"] if randomized else []))
    assert len(outs) == len(props) + 1
    assert sorted(sum((_pairs(o) for o in outs), [])) == sorted(_pairs(ds))
    for out, p in zip(outs, props):
        for label in set(labels):
            assert list(map(str, out.Labels)).count(label) == int(np.floor(p * labels.count(label) + 1e-9))


@settings(max_examples=60, deadline=None)
@given(labels_strategy, st.data())
def test_subset_keeps_each_file_with_its_label(labels, data):
    ds = _datastore(labels)
    idx = data.draw(st.lists(st.integers(0, len(labels) - 1), max_size=40))
    out = subset(ds, np.asarray(idx, dtype=np.int64))
    assert _pairs(out) == [_pairs(ds)[i] for i in idx]
