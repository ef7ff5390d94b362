"""Fixtures for the datastore tests: small folders of files written per test."""
from __future__ import annotations

import numpy as np
import pytest


def write_labelled_folder(root, counts: dict, ext: str = ".npy", shape=(4, 4, 3)):
    """``root/<label>/f<i>.npy`` holding arrays filled with a distinct value per file."""
    value = 0
    for label, count in counts.items():
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            np.save(folder / f"f{i}{ext}", np.full(shape, value, dtype=np.float32))
            value += 1
    return root


@pytest.fixture
def labelled(tmp_path):
    """6 'demos' and 2 'imagesci' files (MATLAB's splitEachLabel / countEachLabel example)."""
    return write_labelled_folder(tmp_path / "set", {"demos": 6, "imagesci": 2})


@pytest.fixture(autouse=True)
def _keep_global_generator():
    """These tests reseed ``rng``: give later tests the generator they would have had."""
    import importlib
    rng_module = importlib.import_module("layergraph.rng")
    saved = rng_module._GENERATOR[0]
    state = saved.bit_generator.state
    yield
    saved.bit_generator.state = state
    rng_module._GENERATOR[0] = saved
