"""Shared fixtures: ``xp`` (numpy; cupy marked ``gpu`` when CuPy and a GPU are present), ``rng``;
the hypothesis profile of CI runs."""
import importlib
import os

import numpy as np
import pytest
from hypothesis import settings

from layergraph.ops import _backend

# CI (CI=true) draws hypothesis examples from a fixed seed, so a landing never fails by chance;
# developers' runs explore new examples each time (and keep failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")


@pytest.fixture(params=[pytest.param("numpy", id="numpy"),
                        pytest.param("cupy", id="cupy", marks=pytest.mark.gpu)])
def xp(request):
    """The array module under test; the cupy case skips cleanly without CuPy and a GPU."""
    if request.param == "numpy":
        return np
    if not _backend.gpu_available():
        pytest.skip("CuPy with a CUDA device is not available")
    return importlib.import_module("cupy")


@pytest.fixture
def rng():
    """A seeded NumPy Generator (fresh per test, so tests do not depend on their order)."""
    return np.random.default_rng(20261129)
